/**
 * Runs a generated flow on a fresh engine with a fake clock: the `probe` node type (latency on
 * the fake clock, scripted failures), an approver that decides on the fake clock, every event
 * recorded, and a guard that reports a run that never finishes instead of hanging the test.
 */
import fc from 'fast-check';
import { createEngine, FakeClock, GantryError, MemoryStore, type Engine, type ExecutorDefinition, type JsonObject, type Run, type RunEvent, type RunResult, type RunStore } from '@gantry/engine';
import { builtinExecutors, moduleAgent } from '@gantry/executors';
import { APPROVER, UNDO_AGENT, type BuiltFlow } from './run-flow-arbitraries.js';

export const CLOCK_START = Date.UTC(2026, 0, 1);

interface ProbeData extends JsonObject {
  delay_ms: number;
  fail_times: number;
  retryable: boolean;
  ok: boolean;
  score: number;
}

/**
 * The `probe` node type: sleeps `delay_ms` on the clock, fails attempts 1..fail_times with
 * AGENT_FAILED (retryable as told), then returns `{ from, ok, score }` (plus `item` per item).
 */
export const probeExecutor = {
  type: 'probe',
  schema: {
    type: 'object',
    required: ['delay_ms', 'fail_times', 'retryable', 'ok', 'score'],
    properties: {
      delay_ms: { type: 'number', minimum: 0 },
      fail_times: { type: 'integer', minimum: 0 },
      retryable: { type: 'boolean' },
      ok: { type: 'boolean' },
      score: { type: 'number' },
    },
    additionalProperties: false,
  },
  async run(ctx, data) {
    if (data.delay_ms > 0) await ctx.sleepUntil(ctx.clock.now() + data.delay_ms);
    if (ctx.attempt <= data.fail_times) {
      throw new GantryError('AGENT_FAILED', `${ctx.nodeId} fails attempt ${ctx.attempt}`, { retryable: data.retryable });
    }
    return { output: { from: ctx.nodeId, ok: data.ok, score: data.score, ...(ctx.item === undefined ? {} : { item: ctx.item.index }) } };
  },
} satisfies ExecutorDefinition<ProbeData> as unknown as ExecutorDefinition<never>;

const undoAgent = moduleAgent({
  undo: () => ({ undone: true }),
  fail: () => ({ status: 'failed', error: { code: 'AGENT_FAILED', message: 'cannot undo' } }),
});

export interface Refusal {
  readonly nodeId: string;
  readonly attempt: number;
  readonly at: number;
  readonly code: string;
}

/** One call of an executor's `run`: which node and attempt, and how many events came before it. */
export interface Call {
  readonly nodeId: string;
  readonly attempt: number;
  readonly item: number | undefined;
  /** The number of events emitted before the call: the call came after events[0..after-1]. */
  readonly after: number;
  /** A compensation run by rollback (its idempotency key ends in ":compensate"). */
  readonly compensation: boolean;
}

/** Every executor, wrapped to log its calls: which node ran, and when in the journal. */
function instrumented(executors: readonly ExecutorDefinition<never>[], rec: Recorders): ExecutorDefinition<never>[] {
  const { calls, events } = rec;
  return executors.map((x) => ({
    ...x,
    run(ctx, data) {
      // A process that has died makes no calls: the first one of a crash test, once its store died.
      if (rec.dead?.()) return new Promise(() => {});
      calls.push({ nodeId: ctx.nodeId, attempt: ctx.attempt, item: ctx.item?.index, after: events.length, compensation: ctx.idempotencyKey.endsWith(':compensate') });
      return x.run(ctx, data);
    },
  }));
}

export interface Outcome {
  readonly run: Run;
  /** Undefined when the run did not finish: it hangs. */
  readonly result: RunResult | undefined;
  /** Every event the engine emitted, in order. */
  readonly events: RunEvent[];
  /** The run's journal, as the store holds it. */
  readonly journal: readonly RunEvent[];
  /** Every executor call, compensations included (marked: they come after the node's terminal event). */
  readonly calls: Call[];
  /** Decisions the engine refused. */
  readonly refusals: Refusal[];
  /** An error that escaped the engine (a listener or a timer callback that threw). */
  readonly escaped: unknown[];
  /** The run was cancelled (by the setup's cancelAt) before it finished. */
  readonly cancelled: boolean;
}

export const RUN_ID = 'run-1';

/** How a generated flow is run: the engine's global concurrency limit, and a cancellation. */
export interface RunSetup {
  /** createEngine's `concurrency` (attempts at once, across runs). */
  readonly concurrency: number;
  /** Fake milliseconds after the start at which the run is cancelled, or never. */
  readonly cancelAt: number | undefined;
}

export const UNLIMITED: RunSetup = { concurrency: Infinity, cancelAt: undefined };

/**
 * Run setups; `limited: false` keeps the concurrency unlimited, where each attempt's latency is
 * its own (with a limit, an attempt's timeout also counts the time it waits for a slot).
 */
export const runSetup = (options: { limited?: boolean } = {}): fc.Arbitrary<RunSetup> =>
  fc.record({
    concurrency:
      options.limited === false ? fc.constant(Infinity) : fc.oneof({ weight: 3, arbitrary: fc.constant(Infinity) }, { weight: 1, arbitrary: fc.constantFrom(1, 2) }),
    cancelAt: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 16 }).map((q) => q * 250) }),
  });

interface Recorders {
  readonly events: RunEvent[];
  readonly calls: Call[];
  readonly refusals: Refusal[];
  readonly escaped: unknown[];
  /** Whether the process these engines stand for has died (a crash test's first process). */
  dead?: () => boolean;
}

/**
 * An engine for a generated flow, with the approver: decides `decideAfter` seconds after each
 * request, on the fake clock. A decision meant for an attempt that is no longer the node's
 * current one is not given.
 */
function engineFor(flow: BuiltFlow, clock: FakeClock, setup: RunSetup, rec: Recorders, options: { random?: () => number; store?: RunStore }): Engine {
  const engine = createEngine({
    executors: instrumented([...builtinExecutors, probeExecutor], rec),
    agents: { [UNDO_AGENT]: undoAgent },
    clock,
    concurrency: setup.concurrency,
    random: options.random ?? (() => 0.5),
    notifier: () => {},
    ...(options.store === undefined ? {} : { store: options.store }),
  });
  engine.on('event', (e) => rec.events.push(e));
  engine.on('approval.requested', (e) => {
    const spec = flow.byId.get(e.nodeId)?.spec;
    if (spec?.decideAfter === undefined) return;
    const decide = () => {
      const node = engine.run(e.runId)?.state().nodes.get(e.nodeId);
      if (node !== undefined && node.attempt !== e.attempt && node.status === 'waiting') return;
      // Decided now; a refusal is heard when the promise settles, at the same fake time.
      const at = clock.now();
      engine.decide(e.runId, e.nodeId, { principal: APPROVER, decision: spec.reject ? 'reject' : 'approve' }).catch((error: unknown) => {
        if (error instanceof GantryError) rec.refusals.push({ nodeId: e.nodeId, attempt: e.attempt, at, code: error.code });
        else rec.escaped.push(error);
      });
    };
    // decideAfter 0: decided by this listener, while the request is being emitted.
    if (spec.decideAfter === 0) decide();
    else clock.at(e.at + spec.decideAfter * 1000, decide);
  });
  return engine;
}

/** Runs `flow` to the end on the fake clock; never waits more than a few ms of real time. */
export async function runFlow(flow: BuiltFlow, setup: RunSetup = UNLIMITED, options: { clockStart?: number; random?: () => number } = {}): Promise<Outcome> {
  const clock = new FakeClock(options.clockStart ?? CLOCK_START);
  const rec: Recorders = { events: [], calls: [], refusals: [], escaped: [] };
  const engine = engineFor(flow, clock, setup, rec, options);
  const run = await engine.start(flow.doc, { trigger: {}, runId: RUN_ID });
  let cancelled = false;
  if (setup.cancelAt !== undefined) {
    clock.at(clock.now() + setup.cancelAt, () => {
      if (run.state().finishedAt !== undefined) return;
      cancelled = true;
      run.cancel();
    });
  }
  try {
    await clock.runAll();
  } catch (error) {
    rec.escaped.push(error);
  }
  const result = await finishedOrUndefined(run, clock);
  return { run, result, ...rec, journal: engine.options.store.events(run.id), cancelled };
}

/**
 * A durable store that dies after its `commits`-th write: from then on nothing reaches the
 * journal, as if the process had been killed at that moment (a write is all or nothing, as a
 * transaction is).
 */
class DyingStore implements RunStore {
  writes = 0;
  /** A write was refused: the process is dead from here on. */
  refused = false;
  constructor(
    readonly inner: MemoryStore,
    private readonly commits: number,
  ) {}
  get dead(): boolean {
    return this.writes >= this.commits;
  }
  createRun(...args: Parameters<RunStore['createRun']>) {
    if (this.dead) return void (this.refused = true);
    this.writes++;
    this.inner.createRun(...args);
  }
  append(events: readonly RunEvent[]) {
    if (this.dead) return void (this.refused = true);
    this.writes++;
    this.inner.append(events);
  }
  setStatus(...args: Parameters<RunStore['setStatus']>) {
    if (!this.dead) this.inner.setStatus(...args);
  }
  getRun(runId: string) {
    return this.inner.getRun(runId);
  }
  events(runId: string) {
    return this.inner.events(runId);
  }
  listRuns(...args: Parameters<RunStore['listRuns']>) {
    return this.inner.listRuns(...args);
  }
}

/** A run that crashed, then was resumed by a second process from its journal. */
export interface CrashOutcome extends Outcome {
  /** Whether the first process died before the run finished (else the run ended before the crash point). */
  readonly crashed: boolean;
  /** The journal as the first process left it. */
  readonly before: readonly RunEvent[];
}

/**
 * Runs `flow` in a process whose store dies after `commits` writes, then resumes it in a second
 * process (a new engine and clock, from the time the first had reached) from the journal alone,
 * to the end. The first process's clock is never advanced again: it is dead.
 */
export async function runFlowWithCrash(flow: BuiltFlow, setup: RunSetup, commits: number): Promise<CrashOutcome> {
  const journal = new MemoryStore({ keepFinished: Infinity });
  const dying = new DyingStore(journal, commits);
  const first = new FakeClock(CLOCK_START);
  // The first process is dead once a write was refused, or once the second one starts: from then
  // on what it still does (its promises settle while the second runs) is neither called nor heard.
  let gone = false;
  const rec: Recorders = { events: [], calls: [], refusals: [], escaped: [], dead: () => gone || dying.refused };
  const engineA = engineFor(flow, first, setup, rec, { store: dying });
  const runA = await engineA.start(flow.doc, { trigger: {}, runId: RUN_ID });
  let cancelled = false;
  if (setup.cancelAt !== undefined) {
    first.at(first.now() + setup.cancelAt, () => {
      if (runA.state().finishedAt !== undefined) return;
      cancelled = true;
      runA.cancel();
    });
  }
  // Advances the first process one timer at a time until its store has died (or the run ended).
  for (let i = 0; i < 10_000 && !dying.dead && runA.state().finishedAt === undefined && first.next !== undefined; i++) {
    await first.advance(Math.max(0, first.next - first.now()));
  }
  await first.advance(0);
  const before = [...journal.events(RUN_ID)];
  const crashed = journal.getRun(RUN_ID) !== undefined && !before.some((e) => e.type === 'run.finished');
  if (!crashed) {
    try {
      await first.runAll();
    } catch (error) {
      rec.escaped.push(error);
    }
    const result = await finishedOrUndefined(runA, first);
    return { run: runA, result, ...rec, journal: journal.events(RUN_ID), cancelled, crashed, before };
  }
  gone = true;
  // The first process's events past `before` never reached the journal: a call it made after
  // them came, in the journal's order, after `before` alone.
  const second = new FakeClock(first.now());
  const recB: Recorders = { events: [...before], calls: rec.calls.map((c) => (c.after > before.length ? { ...c, after: before.length } : c)), refusals: [...rec.refusals], escaped: [...rec.escaped] };
  const engineB = engineFor(flow, second, setup, recB, { store: journal });
  const [runB] = await engineB.resume(RUN_ID);
  if (cancelled) runB!.cancel();
  else if (setup.cancelAt !== undefined && CLOCK_START + setup.cancelAt > second.now()) {
    second.at(CLOCK_START + setup.cancelAt, () => {
      if (runB!.state().finishedAt !== undefined) return;
      cancelled = true;
      runB!.cancel();
    });
  }
  try {
    await second.runAll();
  } catch (error) {
    recB.escaped.push(error);
  }
  const result = await finishedOrUndefined(runB!, second);
  return { run: runB!, result, ...recB, journal: journal.events(RUN_ID), cancelled, crashed, before };
}

/** The run's result, or undefined if it has not finished once the clock has nothing left to fire. */
export async function finishedOrUndefined(run: Run, clock: FakeClock, realMs = 20): Promise<RunResult | undefined> {
  let done: RunResult | undefined;
  void run.finished.then((r) => (done = r));
  for (let i = 0; i < 3 && done === undefined; i++) await clock.advance(0);
  if (done === undefined) await Promise.race([run.finished, new Promise((resolve) => setTimeout(resolve, realMs))]);
  return done;
}
