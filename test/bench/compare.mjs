// The comparison: every workload on every engine, each cell in a process of its own, one table.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENGINE_NAMES, ENGINES, IN_FLIGHT, label, workloads } from './workloads.mjs';
import { fmt, table } from './harness.mjs';

const CELL = fileURLToPath(new URL('./cell.mjs', import.meta.url));

/** Settings of the full run and of --quick. */
export function settings(quick) {
  return quick
    ? { warmupMs: 700, budgetMs: 1_200, runLimitMs: 10_000, minSamples: 3, maxSamples: 5 }
    : { warmupMs: 2_000, budgetMs: 5_000, runLimitMs: 30_000, minSamples: 5, maxSamples: 9 };
}

function runCell(spec, hardLimitMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', CELL, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * Runs the comparison; prints progress on stderr; returns the table and the raw results.
 * @param {{ quick?: boolean, engines?: string[], only?: string[], before?: string }} options
 *   before: another build of @gantry/engine (its dist/index.js): Gantry's rows are run on it too
 */
export async function compare({ quick = false, engines = ENGINES, only, before } = {}) {
  if (before !== undefined) engines = engines.flatMap((e) => (e.startsWith('gantry-') ? [`${e}:before`, e] : [e]));
  const s = settings(quick);
  const results = [];
  for (const workload of workloads(quick)) {
    if (only && !only.some((o) => workload.key.startsWith(o))) continue;
    for (const engine of engines) {
      const [id, variant] = engine.split(':');
      const spec = { ...workload, ...s, engine: id, ...(variant === 'before' ? { entry: before } : {}) };
      const result = await runCell(spec, s.runLimitMs + s.warmupMs + s.budgetMs * 2 + 20_000);
      results.push({ workload, engine, result });
      process.stderr.write(`  ${label(workload)} · ${nameOf(engine)}: ${result.ok ? `${perNode((result.msPerRun * 1000) / workload.size)} µs/node` : result.reason}\n`);
    }
  }
  const rows = [];
  let previous;
  for (const { workload, engine, result } of results) {
    const first = workload !== previous;
    previous = workload;
    const name = first ? label(workload) : '';
    if (!result.ok) {
      rows.push([name, nameOf(engine), '—', '—', '—', '—', result.reason]);
      continue;
    }
    const notes = [...(result.notes ?? [])];
    if (result.commitsPerRun !== undefined) notes.unshift(`${fmt(result.commitsPerRun / workload.size, 2)} commits/node`);
    if (result.samples < 3 && !notes.includes('1 cold run')) notes.push(`${result.samples} samples`);
    rows.push([
      name,
      nameOf(engine),
      perNode((result.msPerRun * 1000) / workload.size),
      ratio(result.ratio),
      Math.round(1000 / result.msPerRun).toLocaleString('en'),
      mib(result.peakHeap),
      notes.join('; '),
    ]);
  }
  return {
    table: table(['workload', 'engine', 'µs/node', '× baseline', 'runs/s', 'peak heap', 'notes'], rows, { left: [1, 6] }),
    results,
    settings: s,
  };
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
