// Benchmark helpers: medians of several timed runs after a warm-up, and a plain-text table.
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Median milliseconds per call of fn. Each sample repeats fn until it has taken at least
 * `minSampleMs`, so fast functions are not lost in timer noise; with --expose-gc a collection
 * runs before each sample, so one sample does not pay for the garbage of another.
 */
export async function medianMs(fn, { runs = 7, warmup = 2, minSampleMs = 25 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  let iterations = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    if (performance.now() - start >= minSampleMs || iterations >= 1 << 20) break;
    iterations *= 2;
  }
  const times = [];
  for (let r = 0; r < runs; r++) {
    globalThis.gc?.();
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    times.push((performance.now() - start) / iterations);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** A plain-text table; columns are right-aligned except the first and those listed in `left`. */
export function table(headers, rows, { left = [] } = {}) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const leftAligned = (i) => i === 0 || left.includes(i);
  const line = (r) => r.map((c, i) => (leftAligned(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function machine() {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, load average ${load}`;
}

export const fmt = (n, digits = 2) => n.toFixed(digits);

/** The package.json of the package a resolved entry file belongs to (some packages do not export it). */
export function packageJsonOf(entry) {
  let dir = dirname(entry);
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      // A build folder's package.json ({ "type": "commonjs" }) is not the package's.
      if (typeof json.name === 'string' && typeof json.version === 'string') return json;
    } catch {
      // no package.json here: look further up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${entry}`);
    dir = up;
  }
}
