// Runs every benchmark and prints its tables: `pnpm bench` (about 10 minutes), `pnpm bench --quick`
// (the comparison at 100 and 1,000 nodes only, under 2 minutes).
//   --engines=baseline,gantry-memory,…   only these engines (see workloads.mjs; n8n is optional, left
//                                         out when not installed: npm install --prefix test/bench/n8n)
//   --only=chain,diamonds                 only the workloads whose key starts so
//   --json=file                           also write the raw results
//   --before=path/to/engine/dist/index.js  also run Gantry's rows on that build of @gantry/engine (and of
//                                         @gantry/executors, when built beside it in packages/executors/dist)
//   --rounds=3                            run every cell 3 times, round after round: medians of the rounds
//   --render=file                         print the table of results saved with --json, and stop
//   --keep-finished=16                    Gantry in memory keeps its last 16 finished runs (default: none, as the peers)
//   --semi-space=64                       every cell, of every engine, runs with V8's young generation at 64 MiB a half
//                                         (node --max-semi-space-size=64; Node 20's default is at most 16)
//   --clock=cpu                           time samples in each cell's CPU time (all its threads) rather than on the
//                                         wall clock: on a machine shared with other work, waiting for a core is not counted
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { compare, gitRevision, render } from './compare.mjs';
import { machine } from './harness.mjs';
import { bpmnVersions } from './engines/bpmn.mjs';
import { nodeRedVersion } from './engines/node-red.mjs';
import { N8N_INSTALL, n8nInstalled, n8nVersions } from './engines/n8n.mjs';
import { ENGINES } from './workloads.mjs';
import { ensurePeers } from './peers.mjs';

const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = args.includes('--quick');
// n8n is optional (test/bench/n8n, outside the workspace): absent, it is left out of the default
// list; named in --engines, its cells say it is not installed.
const withN8n = n8nInstalled();
const engines = option('engines')?.split(',') ?? ENGINES.filter((e) => e !== 'n8n' || withN8n);
const only = option('only')?.split(',');

function versions() {
  const require = createRequire(new URL('../../packages/store-sqlite/package.json', import.meta.url));
  const gantry = createRequire(import.meta.url)('../../packages/engine/package.json').version;
  const Database = require('better-sqlite3');
  const db = new Database(':memory:');
  const sqlite = db.prepare('select sqlite_version() as v').get().v;
  db.close();
  const bpmn = bpmnVersions();
  const list = [
    `Gantry ${gantry} (git ${gitRevision()})`,
    `better-sqlite3 ${require('better-sqlite3/package.json').version} (SQLite ${sqlite})`,
    `node-red ${nodeRedVersion()}`,
    `bpmn-engine ${bpmn['bpmn-engine']} (bpmn-elements ${bpmn['bpmn-elements']})`,
  ];
  if (withN8n) {
    const n8n = n8nVersions();
    list.push(`n8n-core ${n8n['n8n-core']} (n8n-workflow ${n8n['n8n-workflow']}, isolated-vm ${n8n['isolated-vm']})`);
  }
  return list.join(', ');
}

// Node-RED and bpmn-engine are not in the workspace: installed here, on first use (test/bench/peers).
if (!option('render')) ensurePeers();

if (option('render')) {
  const saved = JSON.parse(readFileSync(option('render'), 'utf8'));
  console.log(`machine: ${saved.machine}\nversions: ${saved.versions}\n`);
  console.log(render(saved.results));
  process.exit(0);
}

const started = Date.now();
console.log(`Gantry benchmarks${quick ? ' (quick)' : ''}`);
console.log(`machine: ${machine()}`);
console.log(`versions: ${versions()}\n`);
if (!withN8n && option('engines') === undefined) console.log(`n8n: not installed, left out (\`${N8N_INSTALL}\` to include it)\n`);

const rounds = Number(option('rounds') ?? 1);
const keepFinished = option('keep-finished') === undefined ? undefined : Number(option('keep-finished'));
if (keepFinished !== undefined && !(Number.isInteger(keepFinished) && keepFinished >= 0)) {
  console.error(`bench: expected --keep-finished to be an integer ≥ 0, got ${JSON.stringify(option('keep-finished'))}`);
  process.exit(2);
}
const semiSpaceMb = option('semi-space') === undefined ? undefined : Number(option('semi-space'));
if (semiSpaceMb !== undefined && !(Number.isInteger(semiSpaceMb) && semiSpaceMb >= 1)) {
  console.error(`bench: expected --semi-space to be a whole number of MiB ≥ 1, got ${JSON.stringify(option('semi-space'))}`);
  process.exit(2);
}
if (option('before') !== undefined && !existsSync(resolve(dirname(option('before')), '../../executors/dist/index.js'))) {
  console.log(`note: no executors built beside ${option('before')}: its rows run this checkout's executors (the gate among them)\n`);
}
const clock = option('clock') ?? 'wall';
if (clock !== 'wall' && clock !== 'cpu') {
  console.error(`bench: expected --clock to be wall or cpu, got ${JSON.stringify(clock)}`);
  process.exit(2);
}
const comparison = await compare({ quick, engines, only, before: option('before'), rounds, keepFinished, semiSpaceMb, clock });
const s = comparison.settings;
console.log(
  `Orchestration: the same graphs of no-op nodes on every engine, each cell in a process of its own: medians of ${s.minSamples} to ${s.maxSamples} samples after a warm-up` +
    `${rounds > 1 ? `, then the median of ${rounds} rounds` : ''}\n` +
    `(each sample at least 30 ms of runs); × baseline is against the hand-written baseline's cell of the same workload${rounds > 1 ? ' in the same round (the median of the rounds\' ratios)' : ''}; a run is limited to ${s.runLimitMs / 1000} s.` +
    `${semiSpaceMb === undefined ? '' : `\nEvery cell ran with node --max-semi-space-size=${semiSpaceMb} (V8's young generation at ${semiSpaceMb} MiB a half).`}` +
    `${clock === 'cpu' ? '\nTimes are CPU time of the cell\'s process (all its threads), not wall-clock time: runs/s is 1,000 / CPU ms per run.' : ''}`,
);
console.log(comparison.table);
if (option('json')) writeFileSync(option('json'), JSON.stringify({ machine: machine(), versions: versions(), quick, rounds, semiSpaceMb, clock, settings: s, results: comparison.results }, null, 2));

if (!quick && !only) {
  const { validateBench } = await import('./validate.bench.mjs');
  console.log('\nValidate and compile a flow (a layered DAG of width 10 with the node types mixed; expressions are distinct, each parsed by JSONata)');
  console.log(await validateBench());
  const { durabilityBench } = await import('./durability.bench.mjs');
  const durable = await durabilityBench();
  console.log(`\nDurability on SQLite (WAL, synchronous=FULL); ${durable.fsync}`);
  console.log(durable.cost);
  console.log('\nThroughput as the stored history grows');
  console.log(durable.throughput);
  const { startupBench } = await import('./startup.bench.mjs');
  console.log('\nStart-up of the gantry command, whole process, rounds in turn with node -e 0');
  console.log(startupBench());
}
console.log(`\n(${Math.round((Date.now() - started) / 1000)} s)`);
