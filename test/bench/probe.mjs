// What every engine's no-op task calls, whichever engine runs it: a call counter (to check that
// each engine did the same work), an optional trace of the nodes run, and a heap probe for the
// peak-heap measurement. It lives on globalThis so that the Node-RED node file, which Node-RED
// loads with its own require, reaches the same one.
import v8 from 'node:v8';

/** @type {{ calls: number, trace: string[] | undefined, sampling: boolean, peak: number, onSink: ((msg: unknown) => void) | undefined }} */
export const probe = (globalThis.__gantryBench ??= { calls: 0, trace: undefined, sampling: false, peak: 0, onSink: undefined, sample: undefined });

function sample() {
  const used = v8.getHeapStatistics().used_heap_size;
  if (used > probe.peak) probe.peak = used;
}
probe.sample = sample;

/** The work of one no-op task: count it, trace it when asked, sample the heap every 16th call while measuring. */
export function task(id) {
  probe.calls++;
  if (probe.trace !== undefined) probe.trace.push(id);
  if (probe.sampling && (probe.calls & 15) === 0) sample();
}

/**
 * The highest heap in use while `fn` runs, above the settled heap before it: sampled by the
 * tasks themselves (every 16th), by a 1 ms timer, and at the end. Garbage not yet collected
 * counts: this is the heap the work needs you to have.
 */
export async function peakHeap(fn) {
  globalThis.gc?.();
  globalThis.gc?.();
  const before = v8.getHeapStatistics().used_heap_size;
  probe.peak = before;
  probe.sampling = true;
  const timer = setInterval(sample, 1);
  try {
    await fn();
  } finally {
    sample();
    clearInterval(timer);
    probe.sampling = false;
  }
  return probe.peak - before;
}
