// Load test of `gantry serve` on loopback: signed GitHub webhooks (each with its own
// X-GitHub-Delivery) that start a small flow, against a bare node:http server answering 200, in
// the same run on the same machine. Then the count check: every 2xx produced exactly one run.
//   node test/bench/webhook.bench.mjs [--requests=4000] [--connections=10]
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
const REQUESTS = option('requests', 4000);
const CONNECTIONS = option('connections', 10);
const WARMUP = 300;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const STORE = join(ROOT, 'packages/store-sqlite/dist/index.js');
for (const file of [BIN, STORE]) if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx tsc -b)`);
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

const dir = mkdtempSync(join(tmpdir(), 'gantry-webhook-bench-'));
mkdirSync(join(dir, 'flows'));
writeFileSync(join(dir, 'flows', 'push-check.json'), JSON.stringify(FLOW, null, 2));
writeFileSync(join(dir, 'inspector.mjs'), AGENT);
writeFileSync(join(dir, 'bare.mjs'), BARE);
writeFileSync(
  join(dir, 'gantry.config.json'),
  JSON.stringify({
    agents: { inspector: { transport: 'module', module: './inspector.mjs' } },
    principals: { ops: { roles: ['ops'], token_sha256: createHash('sha256').update(TOKEN).digest('hex') } },
  }),
);

/** Spawns a server and resolves once it prints "listening on <url>". */
function start(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
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

/** `amount` requests of the signed push payload, each with a fresh delivery id. */
function load(url, amount) {
  return autocannon({
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
}

const rows = [];
/** Warm-up, then the measured load; a row of the table. Resolves with the 2xx count of both. */
async function measure(name, url, amount) {
  const warm = await load(url, WARMUP);
  const t0 = performance.now();
  const r = await load(url, amount);
  // Answers over the load's wall time: autocannon's own figures count whole seconds.
  const perSecond = Math.round((r['2xx'] + r.non2xx) / ((performance.now() - t0) / 1000));
  rows.push([name, perSecond, r.latency.p50, r.latency.p99, r['2xx'], r.non2xx, r.errors + r.timeouts]);
  return warm['2xx'] + r['2xx'];
}

console.log('Webhook load test (loopback): a signed GitHub push starting a 3-node flow, against a bare node:http server answering 200');
console.log(`machine: ${machine()}`);
console.log(`${REQUESTS} requests to gantry serve (${REQUESTS * 5} to node:http), each after ${WARMUP} of warm-up; ${CONNECTIONS} connections; payload ${payload.length} bytes; SQLite store with synchronous=FULL\n`);

const bare = await start([join(dir, 'bare.mjs')]);
try {
  await measure('node:http, 200', bare.url, REQUESTS * 5);
} finally {
  await stop(bare.child);
}
const gantry = await start([BIN, 'serve', '--port', '0', '--log-level', 'warn'], { GITHUB_WEBHOOK_SECRET: SECRET });
const firstDelivery = delivered + 1;
let accepted;
try {
  accepted = await measure('gantry serve, 202', gantry.url, REQUESTS);
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

console.log(table(['server', 'req/s', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors'], rows));
const [baseline, served] = rows;
console.log(`\ngantry serve: ${(served[1] / baseline[1]).toFixed(2)}x the bare server's throughput, p99 ${served[3]} ms against ${baseline[3]} ms`);

const store = openSqliteStore(join(dir, '.gantry', 'gantry.db'), { mode: 'read' });
try {
  const runs = store.listRuns();
  const ids = new Set(runs.map((r) => r.runId));
  const expected = new Set();
  for (let i = firstDelivery; i <= delivered; i++) expected.add(`gh-load-${i}`);
  const strangers = [...ids].filter((id) => !expected.has(id));
  const byStatus = {};
  for (const r of runs) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const ok = runs.length === accepted && ids.size === runs.length && strangers.length === 0;
  console.log(
    `count check: ${accepted} accepted (2xx) → ${runs.length} runs in the store, ${ids.size} distinct, ${strangers.length} not from a delivery sent; statuses ${JSON.stringify(byStatus)}: ${ok ? 'every accepted request made exactly one run' : 'MISMATCH'}`,
  );
  if (!ok) process.exitCode = 1;
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
