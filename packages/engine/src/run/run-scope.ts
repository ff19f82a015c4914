import type { Logger } from 'pino';
import type { CompiledFlow, CompiledNode } from '../compile.js';
import type { JsonValue } from '../flow-types.js';
import type { EngineCore } from './core.js';
import type { ErrorInfo, RunEvent } from './events.js';
import type { Bindings } from './expressions.js';
import type { ApprovalOutcome, ApprovalRequest, ExecutorResult } from './interfaces.js';
import type { NodePlan } from './plan.js';
import type { RunState } from './state.js';
import type { RunLogs } from './logs.js';

/**
 * What the run's helpers (attempts, approvals, durable timers, compensation, an executor's
 * context) may use of their run: read its state and the clock, record an event, and say when a
 * wait on a human or a timer begins and ends. They decide nothing about the graph (next.ts does)
 * and never see the execution itself, which implements this.
 */
export interface RunScope {
  readonly runId: string;
  readonly flow: CompiledFlow;
  readonly core: EngineCore;
  /** The run's state as its journal has built it: read it, never write it (the fold does). */
  readonly state: RunState;
  /** The run is stopping or has stopped: late results are ignored. */
  readonly isEnding: boolean;
  /** The run's own abort controller (every attempt without one of its own hears it). */
  readonly controller: AbortController;
  readonly log: Logger;
  /** The run's kept logs (DESIGN §12), made when first asked for; undefined with the engine's `logs: false`. */
  readonly logs: RunLogs | undefined;
  readonly trigger: JsonValue;
  /** The time for an event (one reading per cascade of the engine's own bookkeeping). */
  now(): number;
  /** Code outside the engine is about to run: read the clock afresh after it. */
  outsideCode(): void;
  /** Applies the event to the state and appends it to the journal. */
  record(event: RunEvent): void;
  /** The node's path in this run: its id, with the for_each index. */
  nodePath(nodeId: string, item: number | undefined): string;
  bindings(item?: { value: JsonValue; index: number }): Bindings;
  planOf(node: CompiledNode): NodePlan;
  /** A wait on a human or a timer begins: if all that is left waits, the run is waiting. */
  enterWait(): void;
  leaveWait(): void;
  requestApproval(attempt: Attempt, request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalOutcome>;
}

/** Where a node's attempts report how the node ended (after its retries): the scheduler. */
export interface NodeOutcomes {
  succeeded(node: CompiledNode, result: ExecutorResult, attempt: number): void;
  failed(node: CompiledNode, error: ErrorInfo): void;
}

/** One attempt of one node (or of one for_each item), as the scheduler tracks it. */
export interface Attempt {
  readonly node: CompiledNode;
  /** The for_each item's index, when the node iterates. */
  readonly index: number | undefined;
  readonly attempt: number;
  /** Its own controller when it can be aborted alone (a timeout, a for_each item). */
  readonly controller: AbortController | undefined;
  cancelTimeout?: (() => void) | undefined;
  /** Gives its concurrency slot back (under a limit). */
  releaseSlot?: (() => void) | undefined;
  /** Ends the attempt with an outcome (set by the scheduler; a timeout or an abort calls it). */
  settle?: ((outcome: { ok: false; error: unknown }) => void) | undefined;
  done: boolean;
  /** Journals what the attempt logged, as it ends (an executor's attempt has one). */
  closeOutput?(): void;
}

/** How a for_each item's attempt reports its end to the loop over the items. */
export type ItemOutcome = { ok: true; output: JsonValue } | { ok: false; error: ErrorInfo };
