// The comparison: every workload on every engine, each cell in a process of its own, one table.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENGINE_NAMES, ENGINES, IN_FLIGHT, label, ROUTING_LEFT_OUT, workloads } from './workloads.mjs';
import { fmt, table } from './harness.mjs';

const CELL = fileURLToPath(new URL('./cell.mjs', import.meta.url));

/** Settings of the full run and of --quick. */
export function settings(quick) {
  return quick
    ? { warmupMs: 700, budgetMs: 1_200, runLimitMs: 10_000, minSamples: 3, maxSamples: 5 }
    : { warmupMs: 2_000, budgetMs: 5_000, runLimitMs: 30_000, minSamples: 5, maxSamples: 9 };
}

function runCell(spec, hardLimitMs, semiSpaceMb) {
  const flags = semiSpaceMb === undefined ? ['--expose-gc'] : ['--expose-gc', `--max-semi-space-size=${semiSpaceMb}`];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, CELL, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), hardLimitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        const why = signal ? `did not finish: killed after ${Math.round(hardLimitMs / 1000)} s (its event loop was blocked)` : `exited ${code}: ${err.trim().split('\n').pop() ?? ''}`;
        resolve({ ok: false, reason: why });
      }
    });
  });
}

const nameOf = (engine) => {
  const [id, variant] = engine.split(':');
  return variant === undefined ? ENGINE_NAMES[id] : `${ENGINE_NAMES[id]} (${variant})`;
};
const mib = (bytes) => (bytes === undefined ? '—' : `${fmt(bytes / 2 ** 20, 1)} MiB`);
const perNode = (us) => (us >= 100 ? fmt(us, 0) : us >= 10 ? fmt(us, 1) : fmt(us, 2));
const ratio = (r) => (r >= 100 ? `${fmt(r, 0)}x` : r >= 10 ? `${fmt(r, 1)}x` : `${fmt(r, 2)}x`);

/** The median of several rounds' results of one cell: figures of the rounds that succeeded. */
function combine(rounds) {
  const ok = rounds.filter((r) => r.ok);
  if (ok.length === 0) return rounds[0];
  const mid = (values) => {
    const known = values.filter((v) => v !== undefined).sort((a, b) => a - b);
    return known.length === 0 ? undefined : known[Math.floor(known.length / 2)];
  };
  const notes = [...new Set(ok.flatMap((r) => r.notes ?? []))];
  if (ok.length < rounds.length) notes.push(`${rounds.length - ok.length} of ${rounds.length} rounds: ${rounds.find((r) => !r.ok).reason}`);
  return {
    ok: true,
    msPerRun: mid(ok.map((r) => r.msPerRun)),
    ratio: mid(ok.map((r) => r.ratio)),
    peakHeap: mid(ok.map((r) => r.peakHeap)),
    commitsPerRun: ok[0].commitsPerRun,
    samples: ok.reduce((n, r) => n + r.samples, 0),
    rounds: ok.length,
    notes,
  };
}

/**
 * Runs the comparison; prints progress on stderr; returns the table and the raw results.
 * @param {{ quick?: boolean, engines?: string[], only?: string[], before?: string, rounds?: number, keepFinished?: number, semiSpaceMb?: number }} options
 *   before: another build of @gantry/engine (its dist/index.js): Gantry's rows are run on it too;
 *   rounds: run every cell that many times, one round after the other, and take the median;
 *   keepFinished: the finished runs Gantry's in-memory store keeps (default none);
 *   semiSpaceMb: V8's --max-semi-space-size for every cell, every engine alike (default: Node's own);
 *   clock: 'cpu' to time samples in the process's CPU time rather than on the wall clock
 */
export async function compare({ quick = false, engines = ENGINES, only, before, rounds = 1, keepFinished, semiSpaceMb, clock } = {}) {
  if (before !== undefined) engines = engines.flatMap((e) => (e.startsWith('gantry-') ? [`${e}:before`, e] : [e]));
  // Every ratio is to the baseline's cell of the same workload in the same round.
  engines = ['baseline', ...engines.filter((e) => e !== 'baseline')];
  const s = settings(quick);
  const cells = [];
  for (const workload of workloads(quick)) {
    if (only && !only.some((o) => workload.key.startsWith(o))) continue;
    for (const engine of engines) cells.push({ workload, engine, rounds: [] });
  }
  // Round after round, so that a burst of load on the machine hits one round of a cell, not all.
  for (let round = 1; round <= rounds; round++) {
    for (const cell of cells) {
      const { workload, engine } = cell;
      const [id, variant] = engine.split(':');
      const spec = { ...workload, ...s, engine: id, keepFinished, clock, ...(variant === 'before' ? { entry: before } : {}) };
      const leftOut = workload.key.startsWith('routing-') ? ROUTING_LEFT_OUT[id] : undefined;
      const result = leftOut !== undefined ? { ok: false, reason: leftOut } : await runCell(spec, s.runLimitMs + s.warmupMs + s.budgetMs * 2 + 20_000, semiSpaceMb);
      const base = engine === 'baseline' ? result : cells.find((c) => c.workload === workload && c.engine === 'baseline')?.rounds[round - 1];
      if (result.ok) result.ratio = base?.ok ? result.msPerRun / base.msPerRun : undefined;
      cell.rounds.push(result);
      const tag = rounds > 1 ? ` (round ${round}/${rounds})` : '';
      process.stderr.write(`  ${label(workload)} · ${nameOf(engine)}${tag}: ${result.ok ? `${perNode((result.msPerRun * 1000) / workload.size)} µs/node` : result.reason}\n`);
    }
  }
  const results = cells.map(({ workload, engine, rounds: r }) => ({ workload, engine, result: combine(r), rounds: r }));
  return { table: render(results), results, settings: s };
}

/** The table of a comparison's results (also of results saved with --json: run.mjs --render=file). */
export function render(results) {
  const rows = [];
  let previous;
  for (const { workload, engine, result } of results) {
    const first = workload.key !== previous;
    previous = workload.key;
    const name = first ? label(workload) : '';
    if (!result.ok) {
      rows.push([name, nameOf(engine), '—', '—', '—', '—', result.reason]);
      continue;
    }
    const notes = [...(result.notes ?? [])];
    if (result.commitsPerRun !== undefined) {
      const perRun = Math.round(result.commitsPerRun * 100) / 100;
      notes.unshift(`${fmt(result.commitsPerRun / workload.size, 2)} commits/node (${perRun.toLocaleString('en')} per run)`);
    }
    if (result.samples < 3 && !notes.includes('1 cold run')) notes.push(`${result.samples} samples`);
    if (result.rounds > 1 && notes.includes('1 cold run')) notes[notes.indexOf('1 cold run')] = `1 cold run in each of ${result.rounds} rounds`;
    rows.push([
      name,
      nameOf(engine),
      perNode((result.msPerRun * 1000) / workload.size),
      result.ratio === undefined ? '—' : ratio(result.ratio),
      Math.round(1000 / result.msPerRun).toLocaleString('en'),
      mib(result.peakHeap),
      notes.join('; '),
    ]);
  }
  return table(['workload', 'engine', 'µs/node', '× baseline', 'runs/s', 'peak heap', 'notes'], rows, { left: [1, 6] });
}

export { IN_FLIGHT };
export function gitRevision() {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    return rev;
  } catch {
    return 'unknown';
  }
}
