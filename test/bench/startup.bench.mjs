// Start-up of the gantry command, whole processes, against `node -e 0` in the same run: the
// commands run in turn (node -e 0, then each command, round after round), so that a drift of a
// shared machine touches them alike. Each figure is the median wall time of the rounds; each ratio
// is taken round by round (a command over the `node -e 0` of its round), then its median.
//   node test/bench/startup.bench.mjs [--rounds=21] [--before=<other clone>/packages/cli/dist/bin.js]
// --before times that build of the command too, in the same rounds (how BENCHMARKS.md's
// before/after figures were made). Needs the packages built (npx -y pnpm@12.4.2 build).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fmt, machine, table } from './harness.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');

/** A small flow: a webhook, an agent with an expression, a wait (the README's first flow, shortened). */
const SMALL_FLOW = {
  name: 'Hello',
  nodes: [
    { id: 'start', type: 'webhook', data: {} },
    { id: 'greet', type: 'agent', data: { agent: 'greeter', task: 'greet', inputs: { name: '{% $trigger.name %}' } } },
    { id: 'pause', type: 'wait', data: { seconds: 1 } },
  ],
  edges: [
    { from: 'start', to: 'greet' },
    { from: 'greet', to: 'pause' },
  ],
};

/** Wall milliseconds of one whole process; throws when it fails. */
function timed(argv) {
  const start = performance.now();
  const run = spawnSync(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`startup bench: node ${argv.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function startupBench({ rounds = 21, before } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx -y pnpm@12.4.2 build)`);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-startup-'));
  const small = join(dir, 'hello.json');
  writeFileSync(small, JSON.stringify(SMALL_FLOW, null, 2));
  const builds = [['', BIN], ...(before ? [[' (before)', resolve(before)]] : [])];
  const commands = [
    ['node -e 0', ['-e', '0']],
    ...builds.flatMap(([label, bin]) => [
      [`gantry --help${label}`, [bin, '--help']],
      [`gantry validate, 3 nodes${label}`, [bin, 'validate', small]],
      [`gantry validate, 7 nodes${label}`, [bin, 'validate', 'flows/code-quality.json']],
    ]),
  ];
  try {
    for (const [, argv] of commands) timed(argv); // warm-up: the file cache
    const times = commands.map(() => []);
    for (let round = 0; round < rounds; round++) commands.forEach(([, argv], i) => times[i].push(timed(argv)));
    const rows = commands.map(([name], i) => {
      const ratios = times[i].map((ms, round) => ms / times[0][round]);
      return [name, fmt(median(times[i]), 0), fmt(Math.min(...times[i]), 0), `${fmt(median(ratios), 2)}x`];
    });
    return table(['command (whole process)', 'median ms', 'min ms', 'ratio to node -e 0'], rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const option = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  console.log(`machine: ${machine()}\n`);
  console.log(startupBench({ rounds: Number(option('rounds') ?? 21), before: option('before') }));
}
