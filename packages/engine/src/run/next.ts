/**
 * What happens next in a run: the one place that decides (DESIGN §3.2–§3.4). Pure functions of
 * the compiled flow (its plan), the run's state and its frontier; execution.ts is the small
 * runtime that does what they say (runs executors, writes the journal, sets timers).
 *
 * - A node is decided once every predecessor is terminal: {@link nodeEnded} counts that down and
 *   queues the node; {@link readiness} is the join rule that then runs or skips it.
 * - What a node's end passes on: {@link successOutcome} (edges taken, or why the success is a
 *   failure) and {@link failureRoute} (error edges, else the error handler's action).
 * - When the run ends and how: {@link finalStatus}; what it waits on: {@link waitsOn}.
 * - After a restart, {@link owed}: resume is the journal replayed into a state, the frontier
 *   derived from that state by {@link frontierOf} (the same nodeEnded a live run calls), and
 *   what that state still owes. No second path rebuilds the run.
 *
 * The compiled flow is frozen, and `for…of` over a frozen array takes V8's generic iterator
 * path: the loops that run for every node index their arrays instead.
 */
import type { CompiledFlow, CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import { isRecord } from '../flow-view.js';
import { describeChecks, errorWithDetails, toErrorInfo } from './error-info.js';
import type { ErrorInfo } from './events.js';
import type { ExecutorResult } from './interfaces.js';
import { planOf, type FlowPlan, type NodePlan } from './plan.js';
import { blockedByHandler, takenOnFailure, takenOnSuccess } from './rules.js';
import { isTerminal, type RunState } from './state.js';

/**
 * Which nodes can be decided: per node (by index) the incoming edges whose source is not
 * terminal yet and the incoming edges taken, and the queue of nodes whose predecessors are all
 * terminal and that are not decided yet. A cache of the run state: {@link frontierOf} derives it
 * from any state, and a live run keeps it by calling {@link nodeEnded} as each node ends.
 */
export class Frontier {
  /** Per node index: incoming edges whose source is not terminal yet. */
  readonly remaining: number[];
  /** Per node index: incoming edges taken so far. */
  readonly takenIn: number[];
  /**
   * Nodes whose predecessors are all terminal, to be decided: the first `queued`. The array is
   * reused, never emptied: emptying an array frees its storage, and a chain would allocate a new
   * one at every node.
   */
  readonly ready: CompiledNode[] = [];
  queued = 0;

  constructor(plan: FlowPlan) {
    // Plain arrays of small integers, copied from the plan's: a typed array costs a buffer and
    // two objects more, which a 10-node run feels.
    this.remaining = plan.indegrees.slice();
    this.takenIn = plan.zeros.slice();
  }

  /** Queues a node to be decided. */
  enqueue(node: CompiledNode): void {
    this.ready[this.queued++] = node;
  }
}

export type Readiness = 'wait' | 'run' | 'skip';

/**
 * The join rule (§3.2): a node waits until every predecessor is terminal; it then runs if at
 * least one incoming edge was taken (join any) or every one was (join all), else it is skipped.
 * A node with no incoming edges is a start node and runs.
 */
export function readiness(node: CompiledNode, frontier: Frontier): Readiness {
  const i = node.index;
  if (frontier.remaining[i]! > 0) return 'wait';
  const incoming = node.incoming.length;
  if (incoming === 0) return 'run';
  const taken = frontier.takenIn[i]!;
  return (node.join === 'all' ? taken === incoming : taken > 0) ? 'run' : 'skip';
}

/**
 * A node became terminal having taken the edges `taken`: its targets count it, and each target
 * whose predecessors are now all terminal is queued to be decided, in edge order.
 */
export function nodeEnded(plan: FlowPlan, frontier: Frontier, node: CompiledNode, taken: readonly number[]): void {
  const { remaining, takenIn } = frontier;
  for (let i = 0; i < taken.length; i++) takenIn[plan.edgeTarget[taken[i]!]!]!++;
  const targets = plan.byIndex[node.index]!.targets;
  for (let i = 0; i < targets.length; i++) if (--remaining[targets[i]!.index]! === 0) frontier.enqueue(targets[i]!);
}

/** The frontier of a run of `flow` in this state: every terminal node counted as ended, nothing queued. */
export function frontierOf(flow: CompiledFlow, state: RunState): Frontier {
  const plan = planOf(flow);
  const frontier = new Frontier(plan);
  for (const [id, n] of state.nodes) {
    if (isTerminal(n.status)) nodeEnded(plan, frontier, plan.nodes.get(id)!.node, n.taken ?? []);
  }
  frontier.queued = 0;
  return frontier;
}

/** What an executor's success makes of the node: the edges it takes, or the failure it is. */
export type SuccessOutcome = { readonly taken: readonly number[]; readonly error?: undefined } | { readonly error: ErrorInfo };

/**
 * §3.1/§3.3: a node's output must be an object (an array for for_each); a gate that failed with
 * no fail edge and no fail_action fails the node (GATE_FAILED); otherwise the labels and edge
 * expressions choose the edges taken.
 */
export function successOutcome(plan: NodePlan, result: ExecutorResult, output: JsonObject | JsonValue[], expressions: ReadonlyMap<number, boolean> | undefined): SuccessOutcome {
  const node = plan.node;
  if (node.definition.for_each === undefined && !isRecord(output)) {
    const got = Array.isArray(output) ? 'an array' : (JSON.stringify(output) ?? 'nothing');
    return { error: toErrorInfo(new GantryError('OUTPUT_INVALID', `node "${node.id}" (${node.type}) returned ${got}, but a node's output is a JSON object`)) };
  }
  if (result.outcome === 'fail' && !result.blocked && !plan.hasFailEdge) {
    return { error: toErrorInfo(errorWithDetails('GATE_FAILED', `gate "${node.id}" failed: ${describeChecks(result.output)}`, output as JsonValue)) };
  }
  return { taken: plan.alwaysTaken ?? takenOnSuccess(node, result.labels, expressions) };
}

/** How a node's failure after its retries is handled (§3.4). */
export interface FailureRoute {
  /** Its error edges: taken, the failure is handled there and the run goes on. */
  readonly taken: readonly number[];
  /** What the error handler does when no error edge routes it: the run fails, rolls back, or goes on to end blocked. */
  readonly action: 'fail' | 'rollback' | 'block_deployment';
  /** A notification the handler sends (once per node: not again after a restart). */
  readonly notify: { readonly severity: 'normal' | 'high'; readonly message: string } | undefined;
}

export function failureRoute(flow: CompiledFlow, node: CompiledNode, state: RunState, error: ErrorInfo): FailureRoute {
  const taken = takenOnFailure(node);
  const handler = node.handler;
  if (taken.length > 0 || handler === undefined) return { taken, action: 'fail', notify: undefined };
  const notify =
    (handler.notification || handler.escalation) && !state.notified.has(node.id)
      ? { severity: handler.escalation === 'immediate' ? ('high' as const) : ('normal' as const), message: handler.message ?? `${flow.name}: node "${node.id}" failed: ${error.message}` }
      : undefined;
  return { taken, action: handler.action ?? 'fail', notify };
}

/** How a run whose every node is terminal ends: blocked by a gate's fail_action or a handler, else succeeded. */
export function finalStatus(flow: CompiledFlow, plan: FlowPlan, state: RunState): 'succeeded' | 'blocked' {
  return state.blocked || (plan.blockingHandlers && blockedByHandler(flow, state)) ? 'blocked' : 'succeeded';
}

/** One thing a waiting run waits for. */
export interface WaitingOn {
  readonly nodeId: string;
  readonly kind: 'approval' | 'timer';
  readonly until: number;
}

/** What a run waits on: its approvals and timers, its retries' timers, and what its sub-flow runs wait on. */
export function waitsOn(state: RunState, childWaits: ReadonlyMap<string, readonly { kind: 'approval' | 'timer'; until: number }[]> | undefined): WaitingOn[] {
  const on: WaitingOn[] = [];
  for (const [nodeId, n] of state.nodes) if (n.waitingOn) on.push({ nodeId, ...n.waitingOn });
  for (const timer of state.timers.values()) if (timer.purpose === 'retry') on.push({ nodeId: timer.nodeId, kind: 'timer', until: timer.fireAt });
  if (childWaits !== undefined) for (const [nodeId, waits] of childWaits) for (const w of waits) on.push({ ...w, nodeId });
  return on;
}

/** A node that had started and had not ended when the journal stopped, and how to carry it on. */
export type InFlight =
  /** A for_each node: its items that had not succeeded run (again). */
  | { readonly kind: 'items'; readonly node: CompiledNode; readonly input: JsonObject }
  /** It was waiting out a retry's backoff: the rest of the wait, then that attempt. */
  | { readonly kind: 'retry'; readonly node: CompiledNode; readonly input: JsonObject; readonly attempt: number; readonly timerId: string; readonly fireAt: number }
  /** It was running: it runs again as its next attempt, with the same idempotency key. */
  | { readonly kind: 'restart'; readonly node: CompiledNode; readonly input: JsonObject; readonly attempt: number };

/** What a run rebuilt from its journal still owes (DESIGN §3.6). */
export type Owed =
  | { readonly kind: 'nothing' }
  /** A node had failed and its handler had begun to end the run (a notification, a rollback): finish that. */
  | { readonly kind: 'failure'; readonly node: CompiledNode; readonly error: ErrorInfo }
  /** The nodes in flight carry on, and the nodes whose predecessors all ended are decided. */
  | { readonly kind: 'carry-on'; readonly inFlight: readonly InFlight[]; readonly decidable: readonly CompiledNode[] };

/**
 * What a run in `state` (rebuilt from its journal) still owes, with its frontier derived from
 * that state: nothing once it has finished; the end a handler had begun; else its nodes in
 * flight, and the nodes whose predecessors had all ended but which were not decided yet, in flow
 * order.
 */
export function owed(flow: CompiledFlow, state: RunState, frontier: Frontier): Owed {
  if (state.finishedAt !== undefined) return { kind: 'nothing' };
  for (const [id, n] of state.nodes) {
    if (n.status !== 'failed' || (n.taken?.length ?? 0) > 0 || n.error === undefined) continue;
    const node = flow.nodes.get(id)!;
    if (node.handler?.action !== 'block_deployment') return { kind: 'failure', node, error: n.error };
  }
  const inFlight: InFlight[] = [];
  const decidable: CompiledNode[] = [];
  for (const node of flow.nodes.values()) {
    const n = state.nodes.get(node.id);
    if (n === undefined || n.status === 'pending') {
      if (frontier.remaining[node.index] === 0) decidable.push(node);
      continue;
    }
    if (isTerminal(n.status)) continue;
    const input = n.input ?? {};
    if (node.definition.for_each !== undefined) {
      inFlight.push({ kind: 'items', node, input });
      continue;
    }
    const retry = retryTimer(state, node.id);
    inFlight.push(retry === undefined ? { kind: 'restart', node, input, attempt: n.attempt + 1 } : { kind: 'retry', node, input, attempt: n.attempt, ...retry });
  }
  return { kind: 'carry-on', inFlight, decidable };
}

/** The retry timer a node (as a whole, not an item) was waiting on, if any. */
function retryTimer(state: RunState, nodeId: string): { timerId: string; fireAt: number } | undefined {
  for (const [timerId, timer] of state.timers) {
    if (timer.nodeId === nodeId && timer.purpose === 'retry' && timer.item === undefined) return { timerId, fireAt: timer.fireAt };
  }
  return undefined;
}

/** Run statuses a retry can carry on from (DESIGN §12). */
export const RETRYABLE_STATUSES: ReadonlySet<string> = new Set(['failed', 'rolled_back', 'cancelled']);

/**
 * The nodes a retry of a finished run runs again (DESIGN §12), in flow order: the nodes whose
 * failure ended the run (no error edge took it) and the nodes its stop skipped, or with `from`
 * that node; and every node after them. Every other node keeps how it ended, its output with it.
 */
export function retryPlan(flow: CompiledFlow, state: RunState, from?: string): string[] {
  const again = new Set<string>();
  const visit = (id: string): void => {
    if (again.has(id)) return;
    again.add(id);
    const outgoing = flow.nodes.get(id)!.outgoing;
    for (let i = 0; i < outgoing.length; i++) visit(outgoing[i]!.to);
  };
  if (from !== undefined) visit(from);
  else {
    for (const [id, n] of state.nodes) {
      const unrouted = n.status === 'failed' && (n.taken?.length ?? 0) === 0;
      if (unrouted || (n.status === 'skipped' && n.skipReason === 'aborted')) visit(id);
    }
  }
  return [...flow.nodes.keys()].filter((id) => again.has(id));
}
