/**
 * Runs a generated flow on a fresh engine with a fake clock: the `probe` node type (latency on
 * the fake clock, scripted failures), an approver that decides on the fake clock, every event
 * recorded, and a guard that reports a run that never finishes instead of hanging the test.
 */
import fc from 'fast-check';
import { createEngine, FakeClock, GantryError, type ExecutorDefinition, type JsonObject, type Run, type RunEvent, type RunResult } from '@gantry/engine';
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
function instrumented(executors: readonly ExecutorDefinition<never>[], calls: Call[], events: readonly RunEvent[]): ExecutorDefinition<never>[] {
  return executors.map((x) => ({
    ...x,
    run(ctx, data) {
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

/** Runs `flow` to the end on the fake clock; never waits more than a few ms of real time. */
export async function runFlow(flow: BuiltFlow, setup: RunSetup = UNLIMITED, options: { clockStart?: number; random?: () => number } = {}): Promise<Outcome> {
  const clock = new FakeClock(options.clockStart ?? CLOCK_START);
  const events: RunEvent[] = [];
  const calls: Call[] = [];
  const engine = createEngine({
    executors: instrumented([...builtinExecutors, probeExecutor], calls, events),
    agents: { [UNDO_AGENT]: undoAgent },
    clock,
    concurrency: setup.concurrency,
    random: options.random ?? (() => 0.5),
    notifier: () => {},
  });
  const refusals: Refusal[] = [];
  const escaped: unknown[] = [];
  engine.on('event', (e) => events.push(e));
  // The approver: decides `decideAfter` seconds after each request, on the fake clock. A decision
  // meant for an attempt that is no longer the node's current one is not given.
  engine.on('approval.requested', (e) => {
    const spec = flow.byId.get(e.nodeId)?.spec;
    if (spec?.decideAfter === undefined) return;
    const decide = () => {
      const node = engine.run(e.runId)?.state().nodes.get(e.nodeId);
      if (node !== undefined && node.attempt !== e.attempt && node.status === 'waiting') return;
      try {
        engine.decide(e.runId, e.nodeId, { principal: APPROVER, decision: spec.reject ? 'reject' : 'approve' });
      } catch (error) {
        if (error instanceof GantryError) refusals.push({ nodeId: e.nodeId, attempt: e.attempt, at: clock.now(), code: error.code });
        else escaped.push(error);
      }
    };
    // decideAfter 0: decided by this listener, while the request is being emitted.
    if (spec.decideAfter === 0) decide();
    else clock.at(e.at + spec.decideAfter * 1000, decide);
  });
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
    escaped.push(error);
  }
  const result = await finishedOrUndefined(run, clock);
  return { run, result, events, journal: engine.options.store.events(run.id), calls, refusals, escaped, cancelled };
}

/** The run's result, or undefined if it has not finished once the clock has nothing left to fire. */
export async function finishedOrUndefined(run: Run, clock: FakeClock, realMs = 20): Promise<RunResult | undefined> {
  let done: RunResult | undefined;
  void run.finished.then((r) => (done = r));
  for (let i = 0; i < 3 && done === undefined; i++) await clock.advance(0);
  if (done === undefined) await Promise.race([run.finished, new Promise((resolve) => setTimeout(resolve, realMs))]);
  return done;
}
