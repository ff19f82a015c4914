/**
 * A small harness for the run-semantics tables (DESIGN §3): an engine on a fake clock with the
 * built-in executors plus a `probe` node type whose behaviour each test scripts, a recorder of
 * every event, and the universal invariants every finished run must satisfy.
 *
 * Rows that show behaviour contradicting DESIGN.md carry a `finding` (see {@link FINDING}) and
 * run as `it.fails`. `SEMANTICS_SHOW_FINDINGS=1 npx vitest run test/semantics` runs them as plain
 * tests, to see how each one fails.
 */
import {
  createEngine,
  FakeClock,
  GantryError,
  replay,
  type Engine,
  type EngineOptions,
  type ErrorCode,
  type ExecutorContext,
  type ExecutorDefinition,
  type ExecutorResult,
  type JsonObject,
  type JsonValue,
  type Notification,
  type Run,
  type RunEvent,
  type RunRecord,
  type RunResult,
  type StartOptions,
} from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import { expect } from 'vitest';
import { harnessStore } from './stores.js';

/** What a probe saw on one call. */
export interface ProbeCall {
  readonly nodeId: string;
  readonly attempt: number;
  readonly input: JsonObject;
  readonly data: JsonObject;
  readonly idempotencyKey: string;
  readonly item: { readonly value: JsonValue; readonly index: number } | undefined;
  readonly signal: AbortSignal;
  readonly at: number;
}

/** A scripted behaviour for one probe node: return its output, or throw. */
export type Behaviour = (ctx: ExecutorContext, data: JsonObject, call: ProbeCall) => Promise<JsonObject | JsonValue[]> | JsonObject | JsonValue[];

/**
 * The `probe` node type. Without a scripted behaviour it reads its data:
 * `out` (the output, expressions resolved; default `{ <nodeId>: true }`),
 * `fail: { code?, retryable?, times? }` (throw, on the first `times` attempts or always),
 * `sleep_ms` (a durable sleep on the clock first), `hang: true` (wait for the abort signal).
 */
export function probeExecutor(calls: ProbeCall[], behaviours: Record<string, Behaviour>): ExecutorDefinition<never> {
  const definition: ExecutorDefinition<JsonObject> = {
    type: 'probe',
    async run(ctx, data): Promise<ExecutorResult> {
      const call: ProbeCall = {
        nodeId: ctx.nodeId,
        attempt: ctx.attempt,
        input: ctx.input,
        data,
        idempotencyKey: ctx.idempotencyKey,
        item: ctx.item,
        signal: ctx.signal,
        at: ctx.clock.now(),
      };
      calls.push(call);
      const scripted = behaviours[ctx.nodeId];
      if (scripted) return { output: await scripted(ctx, data, call) };
      if (typeof data.sleep_ms === 'number') await ctx.sleepUntil(ctx.clock.now() + data.sleep_ms);
      if (data.hang === true) await untilAborted(ctx.signal);
      const fail = data.fail as { code?: ErrorCode; retryable?: boolean; times?: number } | undefined;
      if (fail && (fail.times === undefined || ctx.attempt <= fail.times)) {
        throw new GantryError(fail.code ?? 'AGENT_FAILED', `${ctx.nodeId} failed on attempt ${ctx.attempt}`, { retryable: fail.retryable ?? false });
      }
      return { output: (data.out as JsonObject | undefined) ?? { [ctx.nodeId]: true } };
    },
  };
  return definition as unknown as ExecutorDefinition<never>;
}

/** Resolves never; rejects with the signal's reason once it is aborted. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export interface Harness {
  readonly engine: Engine;
  readonly clock: FakeClock;
  readonly events: RunEvent[];
  readonly calls: ProbeCall[];
  readonly notes: Notification[];
  /** Starts a run of a plain flow object. */
  start(flow: object, options?: StartOptions): Promise<Run>;
  /** Starts a run and moves the fake clock until it finishes (or `maxMs` of fake time passed). */
  run(flow: object, options?: StartOptions & { maxMs?: number }): Promise<Finished>;
}

export interface Finished {
  readonly run: Run;
  readonly result: RunResult;
  /** The events of this run only, in order, as the listeners heard them. */
  readonly events: RunEvent[];
  /** The run's journal, as the store holds it. */
  readonly journal: readonly RunEvent[];
}

export interface HarnessOptions extends Omit<EngineOptions, 'clock' | 'executors'> {
  behaviours?: Record<string, Behaviour>;
  executors?: readonly ExecutorDefinition<never>[];
}

/** An engine on a fake clock: built-in executors, the probe type, every event recorded. */
export function harness(options: HarnessOptions = {}): Harness {
  const { behaviours = {}, executors = [], ...rest } = options;
  // The store of this run of the tables (GANTRY_SEMANTICS_STORE): time moves once its commits are done.
  const { store, idle, ids } = rest.store === undefined ? harnessStore() : { store: undefined, idle: undefined, ids: undefined };
  const clock = new FakeClock(undefined, idle === undefined ? {} : { settle: idle });
  const events: RunEvent[] = [];
  const calls: ProbeCall[] = [];
  const notes: Notification[] = [];
  const engine = createEngine({
    random: () => 0.5,
    notifier: (n) => {
      notes.push(n);
    },
    ...(store === undefined ? {} : { store }),
    ...(ids === undefined ? {} : { ids }),
    ...rest,
    clock,
    executors: [...builtinExecutors, probeExecutor(calls, behaviours), ...executors],
  });
  engine.on('event', (e) => events.push(e));
  const start = (flow: object, startOptions?: StartOptions) => engine.start(flow, startOptions);
  return {
    engine,
    clock,
    events,
    calls,
    notes,
    start,
    async run(flow, runOptions = {}) {
      const { maxMs = 24 * 3600_000, ...startOptions } = runOptions;
      const run = await start(flow, startOptions);
      const result = await finish(clock, run, maxMs);
      return { run, result, events: events.filter((e) => e.runId === run.id), journal: await engine.options.store.events(run.id) };
    },
  };
}

/** Moves the fake clock timer by timer until the run finishes; fails the test if it does not. */
export async function finish(clock: FakeClock, run: Run, maxMs = 24 * 3600_000): Promise<RunResult> {
  let done: RunResult | undefined;
  void run.finished.then((r) => (done = r));
  const end = clock.now() + maxMs;
  for (let i = 0; i < 10_000 && done === undefined; i++) {
    const next = clock.next;
    if (next === undefined || next > end) {
      // Nothing is due on the fake clock: give real I/O (a flow file being read) a moment.
      // Bounded in real time: under load a file read can take a while.
      const patience = Date.now() + 5_000;
      while (Date.now() < patience && done === undefined && clock.next === next) {
        await clock.advance(0);
        if (done === undefined && clock.next === next) await new Promise((r) => setTimeout(r, 2));
      }
      if (done !== undefined) break;
      if (clock.next !== next) continue;
      throw new Error(`run ${run.id} did not finish: status ${run.status()}, no timer left before ${maxMs} ms of fake time`);
    }
    await clock.advance(Math.max(0, next - clock.now()));
  }
  return done!;
}

/** Lets promise callbacks run without moving the clock. */
export async function tick(clock: FakeClock): Promise<void> {
  await clock.advance(0);
}

export const TERMINAL = new Set(['succeeded', 'failed', 'skipped']);

/** Node statuses by id. */
export function statuses(run: Run): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of run.flow.nodes.keys()) out[id] = run.state().nodes.get(id)?.status ?? 'pending';
  return out;
}

/** The node's output as recorded. */
export function outputOf(run: Run, nodeId: string): JsonValue | undefined {
  return run.state().nodes.get(nodeId)?.output as JsonValue | undefined;
}

/** The ids of the nodes an edge taken out of `nodeId` leads to, in edge order. */
export function takenTargets(run: Run, nodeId: string): string[] {
  const node = run.flow.nodes.get(nodeId)!;
  const taken = run.state().nodes.get(nodeId)?.taken ?? [];
  return node.outgoing.filter((e) => taken.includes(e.index)).map((e) => e.to);
}

/** A compact trace: `type nodeId` for node events, `type` for the others. */
export function trace(events: readonly RunEvent[], types?: readonly string[]): string[] {
  return events
    .filter((e) => types === undefined || types.includes(e.type))
    .map((e) => ('nodeId' in e && e.nodeId !== undefined ? `${e.type} ${e.nodeId}${'item' in e && e.item !== undefined ? `[${e.item}]` : ''}` : e.type));
}

function isNodeTerminalEvent(e: RunEvent): boolean {
  return (e.type === 'node.succeeded' || e.type === 'node.failed' || e.type === 'node.skipped') && ('item' in e ? e.item === undefined : true);
}

/**
 * The invariants of every run (STYLE §10): every node ends terminal; no node starts before every
 * predecessor is terminal; every node gets exactly one terminal event; run.finished is last of
 * the node events and carries the status the run's result has.
 */
export function expectInvariants(finished: Finished): void {
  const { run, result, events } = finished;
  const flow = run.flow;
  for (const [id, node] of run.state().nodes) expect.soft(TERMINAL.has(node.status), `node ${id} ends ${node.status}`).toBe(true);
  for (const id of flow.nodes.keys()) expect.soft(run.state().nodes.has(id), `node ${id} has a state`).toBe(true);
  const terminalAt = new Map<string, number>();
  events.forEach((e, i) => {
    const nodeId = (e as { nodeId?: string }).nodeId;
    if (isNodeTerminalEvent(e) && nodeId !== undefined) {
      expect.soft(terminalAt.has(nodeId), `node ${nodeId} has one terminal event`).toBe(false);
      terminalAt.set(nodeId, i);
    }
  });
  events.forEach((e, i) => {
    if (e.type !== 'node.started') return;
    for (const edge of flow.nodes.get(e.nodeId)!.incoming) {
      const at = terminalAt.get(edge.from);
      expect.soft(at !== undefined && at < i, `node.started ${e.nodeId} (event #${i}) comes after predecessor ${edge.from} is terminal (#${at})`).toBe(true);
    }
  });
  const finishedAt = events.findIndex((e) => e.type === 'run.finished');
  expect(finishedAt, 'run.finished is recorded').toBeGreaterThanOrEqual(0);
  const last = events[finishedAt] as Extract<RunEvent, { type: 'run.finished' }>;
  expect(last.status).toBe(result.status);
  expect(run.status()).toBe(result.status);
  const nodeEventsAfter = events.slice(finishedAt + 1).filter((e) => e.type.startsWith('node.'));
  expect.soft(nodeEventsAfter.map((e) => e.type), 'no node event after run.finished').toEqual([]);
  // DESIGN §4: every event carries type, runId and at; node events carry nodeId and attempt.
  expect(events[0]?.type, 'run.started comes first').toBe('run.started');
  for (const e of events) {
    expect.soft(typeof e.at === 'number' && e.runId === run.id, `${e.type} carries runId and at`).toBe(true);
    if (/^(node|approval|timer)\./.test(e.type)) {
      const n = e as { nodeId?: unknown; attempt?: unknown };
      expect.soft(typeof n.nodeId === 'string' && typeof n.attempt === 'number', `${e.type} carries nodeId and attempt`).toBe(true);
    }
  }
  // The journal alone rebuilds the run (STYLE §4, DESIGN §3.6).
  const rebuilt = replay(run.id, finished.journal);
  expect.soft(rebuilt.status, 'replayed status').toBe(result.status);
  for (const [id, node] of run.state().nodes) expect.soft(rebuilt.nodes.get(id)?.status, `replayed status of ${id}`).toBe(node.status);
}

let counter = 0;
/** A flow from nodes and edges, with a fresh name. */
export function flow(nodes: object[], edges: object[] = [], extra: object = {}): object {
  return { name: `semantics-${++counter}`, nodes, edges, ...extra };
}

/** A probe node. */
export function probe(id: string, data: JsonObject = {}, envelope: object = {}): object {
  return { id, type: 'probe', data, ...envelope };
}

/** One row of a semantics table: a small flow and what its run must show. */
export interface Row {
  readonly name: string;
  readonly flow: object;
  readonly start?: StartOptions;
  readonly harness?: HarnessOptions;
  /** The run's final status. */
  readonly status: string;
  /** Expected node statuses (only the nodes listed). */
  readonly nodes?: Record<string, string>;
  /** Expected node outputs (deep equality). */
  readonly outputs?: Record<string, unknown>;
  /** Expected node inputs as recorded (deep equality). */
  readonly inputs?: Record<string, unknown>;
  /** Expected targets of the edges taken out of a node. */
  readonly taken?: Record<string, string[]>;
  /** Expected trace of the events of these types (see {@link trace}). */
  readonly trace?: { readonly types: readonly string[]; readonly expected: readonly string[] };
  /** Anything else, on the finished run. */
  readonly check?: (finished: Finished, h: Harness) => void | Promise<void>;
  /** Set when the engine contradicts DESIGN.md: the row is an `it.fails`, and this says why. */
  readonly finding?: string;
}

/** Runs one row to the end and checks it, then the universal invariants. */
export async function checkRow(row: Row): Promise<Finished> {
  const h = harness(row.harness);
  const finished = await h.run(row.flow, row.start);
  const { run, result } = finished;
  expect(result.status, `final status (error: ${JSON.stringify(result.error)})`).toBe(row.status);
  if (row.nodes) {
    const got = statuses(run);
    expect(Object.fromEntries(Object.keys(row.nodes).map((k) => [k, got[k]]))).toEqual(row.nodes);
  }
  for (const [id, output] of Object.entries(row.outputs ?? {})) expect(outputOf(run, id), `output of ${id}`).toEqual(output);
  for (const [id, input] of Object.entries(row.inputs ?? {})) expect(run.state().nodes.get(id)?.input, `input of ${id}`).toEqual(input);
  for (const [id, targets] of Object.entries(row.taken ?? {})) expect(takenTargets(run, id), `edges taken out of ${id}`).toEqual(targets);
  if (row.trace) expect(trace(finished.events, row.trace.types)).toEqual(row.trace.expected);
  await row.check?.(finished, h);
  expectInvariants(finished);
  return finished;
}

type TestApi = { (name: string, fn: () => Promise<unknown>): void; fails(name: string, fn: () => Promise<unknown>): void };

/**
 * Declares a case: `it.fails` when it shows a finding. With SEMANTICS_SHOW_FINDINGS=1 in the
 * environment, findings run as plain cases, so that vitest shows how each one fails.
 */
export function declare(test: TestApi, name: string, finding: string | undefined, fn: () => Promise<unknown>): void {
  if (finding === undefined) return test(name, fn);
  const title = `${name} [finding ${finding.split(':')[0]}]`;
  if (process.env.SEMANTICS_SHOW_FINDINGS) test(title, fn);
  else test.fails(title, fn);
}

/** Declares one vitest case per row; rows with a `finding` are `it.fails`. */
export function table(rows: readonly Row[], test: TestApi): void {
  for (const row of rows) declare(test, row.name, row.finding, () => checkRow(row));
}

/** Milliseconds from the run's start to the first event of `type` about `nodeId` (item events excluded unless asked). */
export function offset(events: readonly RunEvent[], type: string, nodeId: string, item?: number): number | undefined {
  const start = events.find((e) => e.type === 'run.started')?.at ?? 0;
  const e = events.find((x) => x.type === type && 'nodeId' in x && x.nodeId === nodeId && ('item' in x ? x.item === item : item === undefined));
  return e === undefined ? undefined : e.at - start;
}

/** Events of one type about one node. */
export function eventsOf<T extends RunEvent['type']>(events: readonly RunEvent[], type: T, nodeId?: string): Extract<RunEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type && (nodeId === undefined || ('nodeId' in e && e.nodeId === nodeId)));
}

/**
 * Behaviour the engine shows that contradicts DESIGN.md (see the report). Rows that show one are
 * `it.fails`; when the engine is fixed they start passing and vitest says so.
 */
/**
 * Findings: behaviour that contradicts DESIGN.md, each named here and marked on the rows that
 * show it. Every finding of the first pass (F1–F10) has been fixed; new ones go here.
 */
export const FINDING = {} as const satisfies Record<string, string>;

/** A run's record as the store has it, once what the engine recorded so far is durable. */
export async function storedRecord(h: Harness, runId: string): Promise<RunRecord | undefined> {
  await h.engine.flush();
  return h.engine.options.store.getRun(runId);
}

/** The universal invariants of a run driven by hand (not through {@link Harness.run}). */
export async function expectRunInvariants(h: Harness, run: Run, result: RunResult): Promise<void> {
  await h.engine.flush();
  expectInvariants({ run, result, events: h.events.filter((e) => e.runId === run.id), journal: await h.engine.options.store.events(run.id) });
}

/** Resolves after `turns` turns of the event loop: a real but deterministic delay for test agents. */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Lets promises and real I/O (a flow file being read) run until `condition` holds, without moving the clock. */
export async function until(clock: FakeClock, condition: () => boolean, what = 'the condition'): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) {
    await clock.advance(0);
    if (!condition()) await new Promise((r) => setTimeout(r, 2));
  }
  if (!condition()) throw new Error(`${what} did not happen`);
}
