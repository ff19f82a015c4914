// One cell of the comparison table: one engine running one workload, in a process of its own
// (so that its heap, its crashes and its stack overflows are its own). Prints one JSON line.
//   node --expose-gc test/bench/cell.mjs '{"engine":"node-red","shape":"chain","size":1000,"mode":"graph",…}'
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe, peakHeap } from './probe.mjs';
import { IN_FLIGHT, SHAPES } from './workloads.mjs';

const spec = JSON.parse(process.argv[2]);
const { warmupMs, budgetMs, runLimitMs, minSamples, maxSamples } = spec;
let dir;

function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

process.on('uncaughtException', (error) => {
  const overflow = error instanceof RangeError && /call stack/.test(error.message);
  report({ ok: false, reason: overflow ? 'stack overflow' : `crashed: ${error.message}` });
});
process.on('unhandledRejection', (error) => {
  const overflow = error instanceof RangeError && /call stack/.test(error.message);
  report({ ok: false, reason: overflow ? 'stack overflow' : `crashed: ${error?.message ?? error}` });
});

async function open(engine) {
  switch (engine) {
    case 'baseline':
      return (await import('./engines/baseline.mjs')).openBaseline();
    case 'gantry-memory':
      return (await import('./engines/gantry.mjs')).openGantry({ durable: false, entry: spec.entry, keepFinished: spec.keepFinished });
    case 'gantry-sqlite':
      dir = mkdtempSync(join(tmpdir(), 'gantry-bench-'));
      return (await import('./engines/gantry.mjs')).openGantry({ durable: true, dir, entry: spec.entry });
    case 'node-red':
      return (await import('./engines/node-red.mjs')).openNodeRed();
    case 'bpmn':
      return (await import('./engines/bpmn.mjs')).openBpmn();
    case 'n8n': {
      const n8n = await import('./engines/n8n.mjs');
      if (!n8n.n8nInstalled()) report({ ok: false, reason: `not installed: run \`${n8n.N8N_INSTALL}\`` });
      return n8n.openN8n();
    }
    default:
      throw new Error(`unknown engine ${engine}`);
  }
}

/** Milliseconds of this process's CPU time (all its threads: the collector's helpers count too). */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Milliseconds per call of fn over k calls, on the wall clock, or with `--clock=cpu` in CPU time:
 * on a machine shared with other work, time spent waiting for a core is not the engine's.
 */
const now = spec.clock === 'cpu' ? cpuMs : () => performance.now();
async function timed(fn, k) {
  const start = now();
  for (let i = 0; i < k; i++) await fn();
  return (now() - start) / k;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Calls per sample so that one sample lasts at least `ms`. */
function repeatsFor(msPerCall, ms = 30) {
  return Math.max(1, Math.min(1 << 16, Math.ceil(ms / Math.max(msPerCall, 1e-6))));
}

const graph = SHAPES[spec.shape](spec.size);
const runsPerCall = spec.mode === 'in-flight' ? IN_FLIGHT : 1;
const engine = await open(spec.engine);
const prepared = await engine.prepare(graph.flow);
const call = spec.mode === 'in-flight' ? () => engine.runMany(prepared, IN_FLIGHT) : () => engine.run(prepared);

const started = performance.now();
// The first call, bounded: an engine that never finishes gets a verdict, not a hung benchmark.
const callsBefore = probe.calls;
const commitsBefore = engine.commits() ?? 0;
let timer;
const first = await Promise.race([
  timed(call, 1),
  new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), runLimitMs))),
]);
clearTimeout(timer);
if (first === undefined) report({ ok: false, reason: `did not finish within ${runLimitMs / 1000} s` });
const tasks = probe.calls - callsBefore;
if (tasks !== graph.tasks * runsPerCall) report({ ok: false, reason: `ran ${tasks} tasks where ${graph.tasks * runsPerCall} were expected` });
const commits = engine.commits() === undefined ? undefined : (engine.commits() - commitsBefore) / runsPerCall;

// The engine alone in its process: no other work between its samples. Code that allocates
// between samples (a baseline sampled alternately, say) leaves V8's young generation sized for
// itself, and an engine that keeps more alive then runs up to 2.5 times slower (BENCHMARKS.md §3).
const samples = [];
const notes = [];
if (first > budgetMs / 2) {
  // Too long to warm up and sample: the first (cold) run is the figure.
  samples.push(first);
  notes.push('1 cold run');
} else {
  // Warm-up: a few calls, and short ones for `warmupMs` (the JIT settles, a durable store's
  // log reaches the size it keeps).
  const warmUntil = performance.now() + warmupMs;
  for (let i = 0; i < 3 || performance.now() < warmUntil; i++) await call();
  const k = repeatsFor(await timed(call, 1));
  const deadline = performance.now() + budgetMs;
  // No forced collection between samples: after a full collection V8 shrinks the young
  // generation, and the next sample pays for growing it again (2 to 3 times slower runs).
  while (samples.length < maxSamples && (samples.length < minSamples || performance.now() < deadline)) samples.push(await timed(call, k));
}
// BENCH_DEBUG=1 prints every sample (ms per call) on stderr, to see how noisy a cell was.
if (process.env.BENCH_DEBUG) console.error(JSON.stringify({ samples }));
const msPerCall = median(samples);
let heap;
if (performance.now() - started + msPerCall * 2 < warmupMs + budgetMs * 1.5) heap = await peakHeap(call);
report({
  ok: true,
  msPerRun: msPerCall / runsPerCall,
  samples: samples.length,
  peakHeap: heap,
  commitsPerRun: commits,
  notes,
});
