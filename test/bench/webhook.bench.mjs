// Load test of `gantry serve` on loopback: signed GitHub webhooks (each with its own
// X-GitHub-Delivery) that start a small flow, against a bare node:http server answering 200 and
// a durable floor written by hand (FLOOR below), and the same floor with no fsync at all (an upper
// bound for any server that stores the delivery in SQLite), in the same run on the same machine.
// Then the count check: every 2xx produced exactly one run.
//   node test/bench/webhook.bench.mjs [--requests=4000] [--connections=10] [--rounds=1]
//     [--before=<another checkout>/packages/cli/dist/bin.js] [--cpu-prof=<folder>]
// --rounds: every server measured that many times, in turn (the order turned round each round),
// each time a fresh server on a fresh store; the table gives medians. --before: that build of
// the command is measured too, in the same rounds. --cpu-prof: each gantry serve writes a CPU
// profile there (node --cpu-prof) when it stops.
// Needs the packages built (npx tsc -b); installs autocannon (test/bench/peers) when missing.
// Not part of the test suite.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sign } from '@octokit/webhooks-methods';
import { machine, table } from './harness.mjs';
import { ensurePeers, peerRequire } from './peers.mjs';

// autocannon is a peer of the benchmark (test/bench/peers), installed on first use.
ensurePeers();
const autocannon = peerRequire('autocannon');

const args = process.argv.slice(2);
const option = (name, fallback) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const text = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const REQUESTS = option('requests', 4000);
const CONNECTIONS = option('connections', 10);
const ROUNDS = option('rounds', 1);
const BEFORE = text('before');
const CPU_PROF = text('cpu-prof');
const WARMUP = 300;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const STORE = join(ROOT, 'packages/store-sqlite/dist/index.js');
for (const file of [BIN, STORE, ...(BEFORE ? [BEFORE] : [])]) if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx tsc -b)`);
const { openSqliteStore } = await import(STORE);

const SECRET = 'load-test-secret';
const TOKEN = 'load-test-token';
const FLOW = {
  name: 'Push check',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/hooks/push', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'inspect', type: 'agent', data: { agent: 'inspector', task: 'inspect', inputs: { ref: '{% $trigger.ref %}', commits: '{% $count($trigger.commits) %}' } } },
    { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'commits', operator: '>=', value: 0 }] } },
  ],
  edges: [
    { from: 'hook', to: 'inspect' },
    { from: 'inspect', to: 'gate' },
  ],
};
const AGENT = 'export default async function (inputs) { return { ref: inputs.ref, commits: inputs.commits }; }\n';
const BARE = `import { createServer } from 'node:http';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

// The least a durable ingest does, written by hand: the signature checked, the body parsed and
// stored in one row of a SQLite file (WAL, synchronous=FULL), the answer sent once its commit is
// on disk; the requests that arrive during one turn of the event loop share a commit. No flow runs.
// SYNCHRONOUS=OFF gives the same server without durability: SQLite never syncs.
const FLOOR = `import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import Database from ${JSON.stringify(createRequire(join(ROOT, 'packages/store-sqlite/package.json')).resolve('better-sqlite3'))};
const db = new Database('floor.db');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + (process.env.SYNCHRONOUS ?? 'FULL'));
db.exec('CREATE TABLE deliveries (id TEXT PRIMARY KEY, at INTEGER NOT NULL, payload TEXT NOT NULL)');
const insert = db.prepare('INSERT OR IGNORE INTO deliveries (id, at, payload) VALUES (?, ?, ?)');
let pending = [];
const commit = db.transaction((batch) => { for (const d of batch) insert.run(d.id, Date.now(), d.text); });
function flush() {
  const batch = pending;
  pending = [];
  commit(batch);
  for (const d of batch) d.res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ delivery: d.id }));
}
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const expected = Buffer.from('sha256=' + createHmac('sha256', process.env.SECRET).update(body).digest('hex'));
    const given = Buffer.from(String(req.headers['x-hub-signature-256']));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return res.writeHead(401).end();
    const text = body.toString('utf8');
    JSON.parse(text);
    pending.push({ id: String(req.headers['x-github-delivery']), text, res });
    if (pending.length === 1) setImmediate(flush);
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

const base = mkdtempSync(join(tmpdir(), 'gantry-webhook-bench-'));
writeFileSync(join(base, 'bare.mjs'), BARE);
writeFileSync(join(base, 'floor.mjs'), FLOOR);
let folders = 0;

/** A fresh folder for one gantry serve: its flow, agent, configuration and (empty) store. */
function folder() {
  const dir = join(base, `serve-${++folders}`);
  mkdirSync(join(dir, 'flows'), { recursive: true });
  writeFileSync(join(dir, 'flows', 'push-check.json'), JSON.stringify(FLOW, null, 2));
  writeFileSync(join(dir, 'inspector.mjs'), AGENT);
  writeFileSync(
    join(dir, 'gantry.config.json'),
    JSON.stringify({
      agents: { inspector: { transport: 'module', module: './inspector.mjs' } },
      credentials: { github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' } },
      principals: { ops: { roles: ['ops'], token_sha256: createHash('sha256').update(TOKEN).digest('hex') } },
    }),
  );
  return dir;
}

/** Spawns a server in `cwd` and resolves once it prints "listening on <url>". */
function start(argv, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited (${code}) before listening:\n${out}`)));
  });
}

const stop = (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM'))));

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples');
const payload = JSON.stringify(examples.find((d) => d.name === 'push').examples[0]);
const signature = await sign(SECRET, payload);
let delivered = 0;

/**
 * `amount` requests of the signed push payload, each with a fresh delivery id. Resolves with
 * autocannon's result and the time of the last answer (autocannon ends its run on its next
 * one-second sampling tick, so its own duration is rounded up to whole seconds).
 */
async function load(url, amount) {
  let last = performance.now();
  const instance = autocannon({
    url: `${url}/hooks/push`,
    connections: CONNECTIONS,
    amount,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-event': 'push' },
        body: payload,
        setupRequest(req) {
          return { ...req, headers: { ...req.headers, 'x-github-delivery': `load-${++delivered}` } };
        },
      },
    ],
  });
  instance.on('response', () => (last = performance.now()));
  return { result: await instance, last };
}

/** Warm-up, then the measured load: answers per second, p50, p99 and the counts; `accepted`: the 2xx of both. */
async function measure(url, amount) {
  const warm = (await load(url, WARMUP)).result;
  const t0 = performance.now();
  const { result: r, last } = await load(url, amount);
  // Answers over the time from the first request to the last answer.
  const perSecond = Math.round((r['2xx'] + r.non2xx) / ((last - t0) / 1000));
  return { perSecond, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, accepted: warm['2xx'] + r['2xx'] };
}

/** The count check of one gantry serve's store: every accepted delivery made exactly one run, and nothing else did. */
function countCheck(dir, first, last, accepted) {
  const store = openSqliteStore(join(dir, '.gantry', 'gantry.db'), { mode: 'read' });
  try {
    const runs = store.listRuns();
    const ids = new Set(runs.map((r) => r.runId));
    const expected = new Set();
    for (let i = first; i <= last; i++) expected.add(`delivery-load-${i}`);
    const strangers = [...ids].filter((id) => !expected.has(id));
    const byStatus = {};
    for (const r of runs) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const ok = runs.length === accepted && ids.size === runs.length && strangers.length === 0;
    return { ok, line: `${accepted} accepted (2xx) → ${runs.length} runs in the store, ${ids.size} distinct, ${strangers.length} not from a delivery sent; statuses ${JSON.stringify(byStatus)}` };
  } finally {
    store.close();
  }
}

/** One gantry serve (of the build `bin`) on a fresh store: measured, its runs left to end, then counted. */
async function measureGantry(bin) {
  const dir = folder();
  const prof = CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`];
  const gantry = await start([...prof, bin, 'serve', '--port', '0', '--log-level', 'warn'], dir, { GITHUB_WEBHOOK_SECRET: SECRET });
  const first = delivered + 1;
  let result;
  try {
    result = await measure(gantry.url, REQUESTS);
    // Let the runs end before counting them.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const res = await fetch(`${gantry.url}/runs?status=running,waiting&limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
      if ((await res.json()).runs.length === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await stop(gantry.child);
  }
  return { ...result, check: countCheck(dir, first, delivered, result.accepted) };
}

/** The floor in a fresh folder (a new SQLite file), with SQLite's `synchronous` setting given. */
async function measureFloor(synchronous) {
  const dir = join(base, `floor-${++folders}`);
  mkdirSync(dir);
  const floor = await start([join(base, 'floor.mjs')], dir, { SECRET, SYNCHRONOUS: synchronous });
  try {
    return await measure(floor.url, REQUESTS * 2);
  } finally {
    await stop(floor.child);
  }
}

async function measureBare() {
  const bare = await start([join(base, 'bare.mjs')], base);
  try {
    return await measure(bare.url, REQUESTS * 5);
  } finally {
    await stop(bare.child);
  }
}

console.log('Webhook load test (loopback): a signed GitHub push starting a 3-node flow, against a bare node:http server answering 200');
console.log(`machine: ${machine()}`);
console.log(
  `${REQUESTS} requests to gantry serve (${REQUESTS * 5} to node:http, ${REQUESTS * 2} to each floor), each after ${WARMUP} of warm-up; ${CONNECTIONS} connections; payload ${payload.length} bytes; SQLite store; ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}\n`,
);

const servers = [
  ['node:http, 200', measureBare],
  ['durable floor by hand, 202', () => measureFloor('FULL')],
  ['floor with no fsync, 202', () => measureFloor('OFF')],
  ['gantry serve, 202', () => measureGantry(BIN)],
  ...(BEFORE ? [[`gantry serve (before), 202`, () => measureGantry(BEFORE)]] : []),
];
const results = new Map(servers.map(([name]) => [name, []]));
let mismatch = false;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const [name, run] of order) {
      const r = await run();
      results.get(name).push(r);
      if (r.check !== undefined) {
        console.log(`round ${round + 1}, ${name}: ${r.perSecond} req/s, p99 ${r.p99} ms; count check: ${r.check.line}: ${r.check.ok ? 'every accepted request made exactly one run' : 'MISMATCH'}`);
        if (!r.check.ok) mismatch = true;
      } else console.log(`round ${round + 1}, ${name}: ${r.perSecond} req/s, p99 ${r.p99} ms`);
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = [...results].map(([name, rs]) => [name, median(rs.map((r) => r.perSecond)), median(rs.map((r) => r.p50)), median(rs.map((r) => r.p99)), median(rs.map((r) => r.ok)), median(rs.map((r) => r.non2xx)), median(rs.map((r) => r.errors))]);
console.log(`\n${table(['server', 'req/s', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors'], rows)}`);
const baseline = rows[0];
const floor = rows[1];
for (const served of rows.slice(1)) {
  const toFloor = served === floor ? '' : `, ${(served[1] / floor[1]).toFixed(2)}x the durable floor's`;
  console.log(`${served[0]}: ${(served[1] / baseline[1]).toFixed(2)}x the bare server's throughput${toFloor}, p99 ${served[3]} ms against ${baseline[3]} ms`);
}
console.log(`count check: ${mismatch ? 'MISMATCH (above)' : 'in every round, every accepted request made exactly one run'}`);
console.log(`load average after: ${machine().replace(/.*load average /, '')}`);
if (mismatch) process.exitCode = 1;
