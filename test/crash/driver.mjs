#!/usr/bin/env node
// The crash tests' child process: one engine on a SQLite store, the generated flow of a seed, and
// a test agent whose every task is an "effect" (a line appended to a log and fsync'd).
//
//   node test/crash/driver.mjs --db <file> --effects <file> --seed <n> --mode start|resume
//
// start: starts the run (id RUN_ID); resume: engine.resume(RUN_ID), or a fresh start when the
// store has no such run (the crash came before the run was created). Either way the driver prints
// {"event":"running"} once the run is under way, then waits for run.finished and prints
// {"event":"finished", status, output, error} as its last line, and exits 0.
//
// A crash is injected with GANTRY_CRASH=<point>[:<node path>]; the process kills itself with
// SIGKILL (no exit handler, no close: the lock file stays behind, as after a real crash). An
// "append" below is any write of events: store.append, or store.createRun with the run's first
// events (when the engine creates a run and its run.started in one transaction):
//   before-run-started      before the write (append, or createRun with first events) that holds run.started
//   before-start:X          before the append that holds node.started of X (a node id, or id[i])
//   after-start:X           right after that append returned (the start is durable)
//   after-effect:X          in the agent, once X's effect line is written and fsync'd
//   sync-effect:X           in the agent, X's effect written at once, before anything is awaited
//   before-complete:X       before the append that holds node.succeeded/node.failed of X
//   after-complete:X        right after that append
//   fanout-half             once half of split's branch heads have node.succeeded on disk
//   fanout-half-effects     in the agent, once half of split's branch heads have made their effect
//                           (their completions not yet recorded, the other heads still sleeping)
//   foreach-half            once half of each's items have node.succeeded on disk
//   timer-due:X             X's wait timer was recorded and its time has passed, not yet handled
//   timer-fired:X           right after the append that holds X's timer.fired
//   retry-wait:X            right after the append that holds X's node.retrying (its backoff timer set)
//   before-append:N         before this process's N-th append (N from 1): a reproducible "random moment"
//   after-append:N          right after this process's N-th append
// A crash at a random moment is the parent's: it kills this process after a delay of its choosing.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createEngine } from '@gantry/engine';
import { builtinExecutors, moduleAgent } from '@gantry/executors';
import { openSqliteStore } from '@gantry/store-sqlite';
import { buildFlow, RUN_ID, valueOf } from './flow.mjs';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    effects: { type: 'string' },
    seed: { type: 'string' },
    mode: { type: 'string', default: 'start' },
  },
});
if (!args.db || !args.effects || args.seed === undefined) {
  process.stderr.write('usage: node driver.mjs --db <file> --effects <file> --seed <n> [--mode start|resume]\n');
  process.exit(2);
}
const seed = Number(args.seed);
const built = buildFlow(seed);

const out = (value) => writeSync(1, `${JSON.stringify(value)}\n`);

/** Dies at once, the way a crash does; the reason goes to stderr first (synchronously). */
function die(reason) {
  writeSync(2, `crash: ${reason}\n`);
  process.kill(process.pid, 'SIGKILL');
  for (;;); // SIGKILL to oneself is delivered on the way out of kill(2); never get past it
}

const POINTS = new Set(['before-run-started', 'before-start', 'after-start', 'after-effect', 'sync-effect', 'before-complete', 'after-complete', 'fanout-half', 'fanout-half-effects', 'foreach-half', 'timer-due', 'timer-fired', 'retry-wait', 'before-append', 'after-append']);

function parseCrash(spec) {
  if (!spec) return undefined;
  const i = spec.indexOf(':');
  const crash = i < 0 ? { point: spec, target: undefined, spec } : { point: spec.slice(0, i), target: spec.slice(i + 1), spec };
  if (!POINTS.has(crash.point)) {
    process.stderr.write(`GANTRY_CRASH: unknown point ${JSON.stringify(crash.point)} (one of ${[...POINTS].join(', ')})\n`);
    process.exit(2);
  }
  return crash;
}
const crash = parseCrash(process.env.GANTRY_CRASH);

const pathOf = (e) => (e.item === undefined ? e.nodeId : `${e.nodeId}[${e.item}]`);
const has = (events, type, target) => events.some((e) => e.type === type && pathOf(e) === target);
const completes = (events, target) => events.some((e) => (e.type === 'node.succeeded' || e.type === 'node.failed') && pathOf(e) === target);

// --- the effects log: O_APPEND, one line per effect, fsync'd before the agent answers ----------

const effectsFd = openSync(args.effects, 'a');
/** The agent's own idempotency view: keys (per agent) it has applied, from the log of earlier processes. */
const applied = new Set();
if (existsSync(args.effects)) {
  for (const line of readFileSync(args.effects, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line);
    applied.add(`${e.agent}|${e.key}`);
  }
}
let effectSeq = 0;
let fanoutEffects = 0;

/** The node path of a task as the agent knows it (its node, and the item it was given), not from its key. */
const pathOfTask = (task) => (task.task === 'item' ? `${task.node}[${task.inputs.item}]` : task.node);

function effect(task) {
  const path = pathOfTask(task);
  const dedupKey = `${task.agent}|${task.task_id}`;
  const first = !applied.has(dedupKey);
  applied.add(dedupKey);
  const line = { key: task.task_id, node: task.node, path, attempt: task.attempt, agent: task.agent, task: task.task, pid: process.pid, seq: effectSeq++, applied: first };
  writeSync(effectsFd, `${JSON.stringify(line)}\n`);
  fsyncSync(effectsFd);
  return path;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const strip = (inputs) => {
  const { waited_until: _w, outcome: _o, passed: _p, checks: _c, action: _a, results: _r, ...rest } = inputs;
  return rest;
};

/** The test agent: every task but a failing one writes its effect, then answers a stable result. */
function testAgent(name) {
  return moduleAgent(async (inputs, task) => {
    const path = pathOfTask(task);
    if (crash?.point === 'sync-effect' && crash.target === path) {
      effect(task);
      die(`${crash.spec} (attempt ${task.attempt}, before anything was awaited)`);
    }
    await sleep(built.delays[task.node] ?? 0);
    if (task.task === 'broken') return { status: 'failed', error: { message: `${task.node} is broken`, retryable: false } };
    if (task.task === 'flaky' && task.attempt === 1) return { status: 'failed', error: { message: 'flaky on its first attempt', retryable: true } };
    effect(task);
    if (crash?.point === 'after-effect' && crash.target === path) die(`${crash.spec} (attempt ${task.attempt})`);
    if (crash?.point === 'fanout-half-effects' && built.fanoutChildren.includes(path) && ++fanoutEffects >= fanoutHalf) {
      die(`${crash.spec} (${fanoutEffects} of ${built.fanoutChildren.length} branch heads made their effect)`);
    }
    if (task.task === 'item') return { item: inputs.item, v: valueOf(seed, path) };
    if (task.task === 'par') return { ...strip(inputs), [`v_${task.node}_${name}`]: valueOf(seed, `${path}/${name}`) };
    return { ...strip(inputs), [`v_${task.node}`]: valueOf(seed, path) };
  }, name);
}

// --- the store, wrapped so that a crash can come before or after a given append ---------------

const store = openSqliteStore(args.db, { mode: 'write' });
const fanoutHalf = Math.ceil(built.fanoutChildren.length / 2);
const foreachHalf = Math.ceil(built.items.length / 2);
let fanoutDone = 0;
let foreachDone = 0;
let timerArmed = false;
let appends = 0;

function beforeAppend(events) {
  if (crash === undefined) return;
  const { point, target, spec } = crash;
  if (point === 'before-append' && appends + 1 === Number(target)) die(`${spec} (${events.map((e) => e.type).join(', ')})`);
  if (point === 'before-run-started' && events.some((e) => e.type === 'run.started')) die(spec);
  if (point === 'before-start' && has(events, 'node.started', target)) die(spec);
  if (point === 'before-complete' && completes(events, target)) die(spec);
}

function afterAppend(events) {
  if (crash === undefined) return;
  const { point, target, spec } = crash;
  if (point === 'after-append' && appends === Number(target)) die(`${spec} (${events.map((e) => e.type).join(', ')})`);
  if (point === 'after-start' && has(events, 'node.started', target)) die(spec);
  if (point === 'after-complete' && completes(events, target)) die(spec);
  if (point === 'timer-fired' && has(events, 'timer.fired', target)) die(spec);
  if (point === 'retry-wait' && has(events, 'node.retrying', target)) die(spec);
  if (point === 'fanout-half') {
    fanoutDone += events.filter((e) => e.type === 'node.succeeded' && built.fanoutChildren.includes(e.nodeId)).length;
    if (fanoutDone >= fanoutHalf) die(`${spec} (${fanoutDone} of ${built.fanoutChildren.length} branch heads done)`);
  }
  if (point === 'foreach-half') {
    foreachDone += events.filter((e) => e.type === 'node.succeeded' && e.nodeId === 'each' && e.item !== undefined).length;
    if (foreachDone >= foreachHalf) die(`${spec} (${foreachDone} of ${built.items.length} items done)`);
  }
  if (point === 'timer-due' && !timerArmed) {
    const set = events.find((e) => e.type === 'timer.set' && e.purpose === 'wait' && pathOf(e) === target);
    if (set !== undefined) {
      timerArmed = true;
      // Wake a little before the engine's own timer, then hold the thread until the fire time
      // has passed: the timer is due, and the engine never gets to handle it.
      setTimeout(() => {
        while (Date.now() <= set.fireAt + 2);
        die(`${spec} (fireAt ${set.fireAt}, now ${Date.now()})`);
      }, Math.max(0, set.fireAt - Date.now() - 15));
    }
  }
}

/** One write (a transaction) of events: the crash points look at it before and after. */
function write(events, commit) {
  beforeAppend(events);
  commit();
  appends++;
  afterAppend(events);
}

const crashingStore = {
  // A run may be created with its first events (run.started) in the same transaction.
  createRun: (record, events = [], ...rest) => write(events, () => store.createRun(record, events, ...rest)),
  append: (events) => write(events, () => store.append(events)),
  setStatus: (...a) => store.setStatus(...a),
  getRun: (runId) => store.getRun(runId),
  events: (runId) => store.events(runId),
  listRuns: (filter) => store.listRuns(filter),
  flush: () => store.flush(),
  close: () => store.close(),
};

const engine = createEngine({
  store: crashingStore,
  executors: builtinExecutors,
  agents: { worker: testAgent('worker'), auditor: testAgent('auditor') },
  random: () => 0.5,
});

let run;
let how;
if (args.mode === 'resume' && store.getRun(RUN_ID) !== undefined) {
  [run] = await engine.resume(RUN_ID);
  how = 'resumed';
} else {
  run = await engine.start(built.flow, { runId: RUN_ID });
  how = args.mode === 'resume' ? 'started (nothing to resume)' : 'started';
}
out({ event: 'running', how, pid: process.pid });
const result = await run.finished;
out({ event: 'finished', how, status: result.status, output: result.output ?? null, error: result.error ?? null, appends });
store.close();
closeSync(effectsFd);
process.exit(0);
