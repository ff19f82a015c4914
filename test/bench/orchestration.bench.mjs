// Orchestration overhead: Gantry running graphs of no-op nodes, against the same graphs as plain
// async code in the same run.
import { compileFlow, createEngine, MemoryStore } from '@gantry/engine';
import { baseline, chain, fanOutIn, layered, noopExecutor } from './graphs.mjs';
import { fmt, medianMs, table } from './harness.mjs';

function engine() {
  return createEngine({ executors: [noopExecutor], store: new MemoryStore({ keepFinished: 16 }) });
}

async function runOnce(e, flow) {
  const run = await e.start(flow);
  const result = await run.finished;
  if (result.status !== 'succeeded') throw new Error(`benchmark run ended ${result.status}: ${JSON.stringify(result.error)}`);
}

export async function orchestrationBench({ sizes = [100, 1_000, 10_000], runs = 7 } = {}) {
  const rows = [];
  for (const shape of [chain, fanOutIn, layered]) {
    for (const size of sizes) {
      const { flow, layers } = shape(size);
      const e = engine();
      const compiled = compileFlow(flow, { nodeTypes: new Map([['noop', undefined]]) });
      const gantry = await medianMs(() => runOnce(e, compiled), { runs });
      const base = await medianMs(() => baseline(layers), { runs });
      rows.push([flow.name, fmt((gantry * 1000) / size), fmt((base * 1000) / size), `${fmt(gantry / base, 1)}x`]);
    }
  }
  return table(['workload', 'Gantry µs/node', 'baseline µs/node', 'ratio'], rows);
}

export async function throughputBench({ runs = 7 } = {}) {
  const { flow, layers } = chain(10);
  const e = engine();
  const compiled = compileFlow(flow, { nodeTypes: new Map([['noop', undefined]]) });
  const gantry = await medianMs(() => runOnce(e, compiled), { runs });
  const base = await medianMs(() => baseline(layers), { runs });
  const inFlight = await medianMs(async () => {
    await Promise.all(Array.from({ length: 100 }, () => runOnce(e, compiled)));
  }, { runs });
  return table(
    ['10-node flow', 'runs/s', 'baseline runs/s'],
    [
      ['one at a time', Math.round(1000 / gantry), Math.round(1000 / base)],
      ['100 in flight', Math.round((100 * 1000) / inFlight), ''],
    ],
  );
}

export async function heapBench() {
  const rows = [];
  // One function call per shape: an earlier shape's run must not linger in this frame.
  for (const shape of [chain, fanOutIn, layered]) rows.push(await heapOf(shape));
  return table(['10,000-node run', 'heap growth (peak)', 'retained with its journal', 'events'], rows);
}

async function heapOf(shape) {
  const { flow } = shape(10_000);
  const e = engine();
  const compiled = compileFlow(flow, { nodeTypes: new Map([['noop', undefined]]) });
  await runOnce(e, compiled); // warm: code and shared structures are not the run's cost
  const before = settledHeap();
  const run = await e.start(compiled);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1);
  await run.finished;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  const retained = settledHeap() - before;
  return [flow.name, `${fmt((peak - before) / 2 ** 20, 1)} MiB`, `${fmt(retained / 2 ** 20, 1)} MiB`, String(run.state().events)];
}

/** Heap in use after full collections (needs --expose-gc; without it the figure is noisier). */
function settledHeap() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}
