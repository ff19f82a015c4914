// Figures of several `gantry serve` peers on one Postgres database (DESIGN §9), against the
// SQLite store in the same run, on this machine (a throw-away cluster, fsync on):
//  1. durable node completions per second with 1, 2 and 4 peers, and with SQLite (one process);
//  2. the time from a peer's SIGKILL to its run going on in another peer (median and worst);
//  3. webhook deliveries accepted per second by two peers together, against one.
//   node test/bench/postgres.bench.mjs [--repeats=3] [--runs=200] [--trials=20] [--requests=2000] [--only=throughput,takeover,webhooks]
// Needs the packages built (npx tsc -b). Not part of the test suite.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'node:http';
import { createHmac } from 'node:crypto';
import { openSqliteStore } from '@gantry/store-sqlite';
import { startCluster } from '../../packages/store-postgres/test-cluster.mjs';
import { deliver, PeerProcess, preparePeersFolder, SECRET } from '../postgres/peers.mjs';
import { machine, table } from './harness.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const REPEATS = Number(option('repeats', 3));
const RUNS = Number(option('runs', 200));
const TRIALS = Number(option('trials', 20));
const REQUESTS = Number(option('requests', 2000));
const ONLY = new Set(option('only', 'throughput,takeover,webhooks').split(','));
const CHAIN = 10;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

console.log('Several gantry serve peers on one Postgres database, against SQLite, in the same run');
console.log(`machine at the start: ${machine()}`);
const cluster = await startCluster({ fsync: true });
const version = (await cluster.sql('SHOW server_version'))[0].server_version;
console.log(`PostgreSQL ${version} on this machine, fsync=on, synchronous_commit=on; peers, Postgres and the load generator share its cores\n`);
let databases = 0;

/** CPU seconds (user + system) a process has used, from /proc (Linux); 0 once it is gone. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the cluster's postmaster and every process it started (its backends). */
function postgresCpuSeconds() {
  const postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuSeconds(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === postmaster) total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** A folder of peers on a fresh database (or, with sqlite, on the folder's own store). */
async function folder(flows, store = {}, { sqlite = false, config = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-pg-bench-'));
  preparePeersFolder(dir, { flows, store, config });
  writeFileSync(join(dir, 'noop.mjs'), 'export default function noop(input) { return input; }\n');
  if (sqlite) {
    const credentials = { github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' } };
    writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify({ agents: { ops: { transport: 'module', module: './effects.mjs' } }, functions: { noop: { module: './noop.mjs' } }, credentials, ...config }));
  }
  const url = sqlite ? undefined : await cluster.database(`bench_${++databases}`);
  return { dir, url };
}

async function startPeers(count, dir, url, logLevel = 'warn') {
  const peers = [];
  for (let i = 0; i < count; i++) peers.push(await new PeerProcess(`p${i}`, dir, url ?? '', { logLevel }).start());
  return peers;
}

async function stopAll(peers) {
  for (const peer of peers) await peer.kill('SIGTERM');
}

// ---- 1. durable node completions per second --------------------------------------------------

const THROUGHPUT = {
  name: 'throughput',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/go', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'hold', type: 'wait', data: { until: '{% $trigger.start_at %}' } },
    ...Array.from({ length: CHAIN }, (_, i) => ({ id: `n${i + 1}`, type: 'function', data: { function: 'noop' } })),
  ],
  edges: [{ from: 'hook', to: 'hold' }, { from: 'hold', to: 'n1' }, ...Array.from({ length: CHAIN - 1 }, (_, i) => ({ from: `n${i + 1}`, to: `n${i + 2}` }))],
};

/** Completions of the chain's nodes per second: every run held until one moment, then let go together. */
async function throughput(kind, peersCount) {
  const sqlite = kind === 'sqlite';
  const { dir, url } = await folder([{ flow: THROUGHPUT }], {}, { sqlite, config: { functions: { noop: { module: './noop.mjs' } } } });
  const peers = await startPeers(peersCount, dir, url);
  try {
    const startAt = Date.now() + 2000 + RUNS * 15;
    const trigger = { start_at: new Date(startAt).toISOString() };
    let n = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (n < RUNS) {
          const i = n++;
          const answer = await deliver(peers[i % peers.length].url, '/go', trigger, `t${i}`, 30_000);
          if (answer.status !== 202) throw new Error(`delivery ${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }),
    );
    if (Date.now() > startAt) throw new Error('the deliveries took longer than the lead time: raise it');
    await sleep(startAt - Date.now() - 50);
    const cpu0 = { peers: peers.reduce((a, p) => a + cpuSeconds(p.pid), 0), postgres: sqlite ? 0 : postgresCpuSeconds() };
    const read = sqlite ? sqliteEvents(dir) : postgresEvents(url);
    for (;;) {
      await sleep(100);
      const done = await read.finished();
      if (done === RUNS) break;
    }
    const cpu1 = { peers: peers.reduce((a, p) => a + cpuSeconds(p.pid), 0), postgres: sqlite ? 0 : postgresCpuSeconds() };
    const { count, last } = await read.completions();
    await read.close();
    // CPU per completion, in µs (the polling of the database above included, a little).
    return { perSecond: count / ((last - startAt) / 1000), peersCpu: ((cpu1.peers - cpu0.peers) / count) * 1e6, postgresCpu: ((cpu1.postgres - cpu0.postgres) / count) * 1e6 };
  } finally {
    await stopAll(peers);
    rmSync(dir, { recursive: true, force: true });
  }
}

function sqliteEvents(dir) {
  const store = openSqliteStore(join(dir, '.gantry', 'gantry.db'), { mode: 'read' });
  return {
    finished: async () => store.listRuns({ status: 'succeeded' }).length,
    completions: async () => {
      let count = 0;
      let last = 0;
      for (const r of store.listRuns()) for (const e of store.events(r.runId)) if (e.type === 'node.succeeded' && /^n\d+$/.test(e.nodeId)) (count++, (last = Math.max(last, e.at)));
      return { count, last };
    },
    close: async () => store.close(),
  };
}

function postgresEvents(url) {
  const database = new URL(url).pathname.slice(1);
  return {
    finished: async () => Number((await cluster.sql("SELECT count(*) AS n FROM gantry.runs WHERE status = 'succeeded'", [], database))[0].n),
    completions: async () => {
      const row = (await cluster.sql("SELECT count(*) AS n, max((json::jsonb->>'at')::float8) AS last FROM gantry.events WHERE type = 'node.succeeded' AND node_id ~ '^n[0-9]+$'", [], database))[0];
      return { count: Number(row.n), last: Number(row.last) };
    },
    close: async () => {},
  };
}

if (ONLY.has('throughput')) {
  console.log(`1. Durable node completions per second: ${RUNS} runs of a ${CHAIN}-node chain of function nodes (${RUNS * CHAIN} completions), held by a wait until one moment, then let go together; each peer carries the runs delivered to it. Median of ${REPEATS}, configurations interleaved.`);
  const configs = [
    ['SQLite, 1 process', 'sqlite', 1],
    ['Postgres, 1 peer', 'postgres', 1],
    ['Postgres, 2 peers', 'postgres', 2],
    ['Postgres, 4 peers', 'postgres', 4],
  ];
  const results = new Map(configs.map(([name]) => [name, []]));
  for (let r = 0; r < REPEATS; r++) for (const [name, kind, count] of configs) results.get(name).push(await throughput(kind, count));
  console.log(
    table(
      ['store', 'completions/s (median)', 'runs (each)', 'gantry CPU µs/completion', 'Postgres CPU µs/completion'],
      configs.map(([name]) => {
        const rs = results.get(name);
        return [name, Math.round(median(rs.map((x) => x.perSecond))), rs.map((x) => Math.round(x.perSecond)).join(' / '), Math.round(median(rs.map((x) => x.peersCpu))), Math.round(median(rs.map((x) => x.postgresCpu)))];
      }),
    ),
  );
  console.log(`machine now: ${machine()}\n`);
}

// ---- 2. SIGKILL → the run goes on in another peer ------------------------------------------

const TAKEOVER = {
  name: 'takeover',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/slow', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'step', type: 'agent', data: { agent: 'ops', task: 'step', inputs: { delay_ms: 3000 } } },
  ],
  edges: [{ from: 'hook', to: 'step' }],
};

async function takeovers(leaseMs, pollMs) {
  const { dir, url } = await folder([{ flow: TAKEOVER }], leaseMs === undefined ? {} : { lease_ms: leaseMs, poll_ms: pollMs });
  const database = new URL(url).pathname.slice(1);
  const peers = await startPeers(2, dir, url);
  const times = [];
  try {
    for (let t = 0; t < TRIALS; t++) {
      const [victim, survivor] = t % 2 === 0 ? peers : [peers[1], peers[0]];
      const runId = `delivery-k${leaseMs}-${t}`;
      const answer = await deliver(victim.url, '/slow', {}, runId.slice('delivery-'.length), 30_000);
      if (answer.status !== 202) throw new Error(`trial ${t}: ${answer.status}`);
      // Killed at a random moment of its node's attempt.
      await sleep(100 + Math.random() * 1500);
      const killedAt = Date.now();
      await victim.kill('SIGKILL');
      for (;;) {
        const rows = await cluster.sql("SELECT (json::jsonb->>'at')::float8 AS at FROM gantry.events WHERE run_id = $1 AND type = 'node.started' AND (json::jsonb->>'attempt')::int = 2", [runId], database);
        if (rows.length > 0) {
          times.push(Number(rows[0].at) - killedAt);
          break;
        }
        if (Date.now() - killedAt > 60_000) throw new Error(`trial ${t}: not taken over after 60 s (survivor ${survivor.name})`);
        await sleep(20);
      }
      await victim.start();
    }
  } finally {
    await stopAll(peers);
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { median: Math.round(median(times)), worst: Math.round(sorted.at(-1)), best: Math.round(sorted[0]) };
}

if (ONLY.has('takeover')) {
  console.log(`2. SIGKILL of the peer running a run → the run's node starting again on the other peer (its attempt 2, by the database's record), ${TRIALS} trials each`);
  const rows = [];
  for (const [leaseMs, pollMs, label] of [
    [undefined, undefined, 'defaults: lease_ms 5000, poll_ms 1000'],
    [1000, 200, 'lease_ms 1000, poll_ms 200'],
  ]) {
    const r = await takeovers(leaseMs, pollMs);
    rows.push([label, r.median, r.worst, r.best]);
  }
  console.log(table(['settings', 'median ms', 'worst ms', 'best ms'], rows, { left: [0] }));
  console.log(`machine now: ${machine()}\n`);
}

// ---- 3. webhook deliveries accepted per second: two peers against one ------------------------

const PUSH = {
  name: 'push',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/push', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'inspect', type: 'agent', data: { agent: 'ops', task: 'inspect', inputs: { delay_ms: 0 } } },
    { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'done', operator: '==', value: 'inspect' }] } },
  ],
  edges: [
    { from: 'hook', to: 'inspect' },
    { from: 'inspect', to: 'gate' },
  ],
};
const PAYLOAD = JSON.stringify({ ref: 'refs/heads/main', commits: [{ id: 'abc' }], sender: { login: 'octocat' } });
const SIGNATURE = `sha256=${createHmac('sha256', SECRET).update(PAYLOAD).digest('hex')}`;
let delivered = 0;

/**
 * `amount` signed deliveries, each with its own id, over `connections` kept-alive connections;
 * resolves with how many were accepted, the rest, and each answer's time (ms). Timed here rather
 * than by autocannon, whose figures end on whole seconds.
 */
async function load(url, amount, connections) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const times = [];
  let ok = 0;
  let other = 0;
  let left = amount;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (left > 0) {
        left--;
        const t0 = performance.now();
        const status = await new Promise((resolve) => {
          const req = request(new URL('/push', url), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(PAYLOAD), 'x-hub-signature-256': SIGNATURE, 'x-github-event': 'push', 'x-github-delivery': `w${++delivered}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('error', () => resolve(0));
          req.end(PAYLOAD);
        });
        times.push(performance.now() - t0);
        if (status === 202) ok++;
        else other++;
      }
    }),
  );
  agent.destroy();
  return { ok, other, times };
}

async function webhooks(kind, peersCount) {
  const sqlite = kind === 'sqlite';
  const { dir, url } = await folder([{ flow: PUSH }], {}, { sqlite });
  const peers = await startPeers(peersCount, dir, url);
  try {
    await Promise.all(peers.map((p) => load(p.url, 100, 5)));
    const t0 = performance.now();
    const results = await Promise.all(peers.map((p) => load(p.url, Math.floor(REQUESTS / peers.length), Math.max(1, Math.floor(10 / peers.length)))));
    const seconds = (performance.now() - t0) / 1000;
    const ok = results.reduce((a, r) => a + r.ok, 0);
    const other = results.reduce((a, r) => a + r.other, 0);
    const times = results.flatMap((r) => r.times).sort((a, b) => a - b);
    return { perSecond: ok / seconds, p99: times[Math.floor(times.length * 0.99)], other };
  } finally {
    await stopAll(peers);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (ONLY.has('webhooks')) {
  console.log(`3. Webhook deliveries accepted (202) per second: ${REQUESTS} signed pushes with their own delivery ids, 10 connections in all (split between the peers), after a warm-up; a 3-node flow each. Median of ${REPEATS}, interleaved.`);
  const configs = [
    ['SQLite, 1 process', 'sqlite', 1],
    ['Postgres, 1 peer', 'postgres', 1],
    ['Postgres, 2 peers together', 'postgres', 2],
  ];
  const results = new Map(configs.map(([name]) => [name, []]));
  for (let r = 0; r < REPEATS; r++) for (const [name, kind, count] of configs) results.get(name).push(await webhooks(kind, count));
  console.log(
    table(
      ['server', 'accepted/s (median)', 'p99 ms (median)', 'runs (each)', 'not 2xx'],
      configs.map(([name]) => {
        const rs = results.get(name);
        return [name, Math.round(median(rs.map((x) => x.perSecond))), Math.round(median(rs.map((x) => x.p99))), rs.map((x) => Math.round(x.perSecond)).join(' / '), rs.reduce((a, x) => a + x.other, 0)];
      }),
    ),
  );
  console.log(`machine at the end: ${machine()}`);
}

await cluster.remove();
