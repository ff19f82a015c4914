import type { ErrorCode } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';

/** The statuses a run can end in, plus the two it passes through (DESIGN §3). */
export type RunStatus = 'running' | 'waiting' | 'succeeded' | 'failed' | 'blocked' | 'rolled_back' | 'cancelled';
export type FinalRunStatus = Exclude<RunStatus, 'running' | 'waiting'>;

/** An error as the journal keeps it: plain data, never a stack or a credential. */
export interface ErrorInfo {
  /** One of Gantry's codes (ERROR_CODES); a foreign error's own code is kept as `details.code`. */
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  /** How long the other side asked to wait before another attempt (`Retry-After`), in ms. */
  readonly retryAfterMs?: number;
  readonly details?: JsonValue;
}

interface Base {
  readonly runId: string;
  /** Epoch milliseconds from the engine's clock. */
  readonly at: number;
}

interface NodeBase extends Base {
  readonly nodeId: string;
  readonly attempt: number;
  /** The for_each item this event is about; absent for the node as a whole. */
  readonly item?: number;
}

export interface RunStartedEvent extends Base {
  readonly type: 'run.started';
  readonly flow: { readonly name: string; readonly hash: string; readonly version?: string; readonly source?: string };
  readonly params: JsonObject;
  readonly trigger: JsonValue;
  /** Who started the run (the webhook's sender, the CLI user); may not approve its approvals. */
  readonly initiator?: string;
  /** Set for a sub-flow's run: the parent run and the node path that started it. */
  readonly parent?: { readonly runId: string; readonly path: string };
}

export interface NodeStartedEvent extends NodeBase {
  readonly type: 'node.started';
  /** What the node resolved as its input (DESIGN §3.1); absent on a for_each item's first attempt. */
  readonly input?: JsonObject;
}

export interface NodeRetryingEvent extends NodeBase {
  readonly type: 'node.retrying';
  readonly error: ErrorInfo;
  /** When the next attempt starts: an absolute time, so it survives a restart. */
  readonly retryAt: number;
}

export interface NodeSucceededEvent extends NodeBase {
  readonly type: 'node.succeeded';
  readonly output: JsonObject | JsonValue[];
  /** Indexes of the outgoing edges taken (absent on a for_each item). */
  readonly taken?: readonly number[];
  /** Labels a conditional selected (pass/fail, a router's labels). */
  readonly labels?: readonly string[];
  /** A gate failed with fail_action block_deployment: the run will end blocked. */
  readonly blocked?: boolean;
}

export interface NodeFailedEvent extends NodeBase {
  readonly type: 'node.failed';
  readonly error: ErrorInfo;
  /** Error edges taken: the failure is handled and the run goes on there. */
  readonly taken?: readonly number[];
}

export interface NodeSkippedEvent extends NodeBase {
  readonly type: 'node.skipped';
  /** join: no (or not every) incoming edge was taken; when: its condition was false; aborted: the run stopped first. */
  readonly reason: 'join' | 'when' | 'aborted';
}

export interface ApprovalRequestedEvent extends NodeBase {
  readonly type: 'approval.requested';
  readonly approvers: readonly string[];
  readonly required: number;
  readonly deadline: number;
  readonly message?: string;
}

export interface ApprovalDecidedEvent extends NodeBase {
  readonly type: 'approval.decided';
  readonly principal: string;
  readonly decision: 'approve' | 'reject';
  readonly comment?: string;
  /** How the decision arrived: cli, prompt, api, timeout. */
  readonly channel: string;
}

export interface TimerSetEvent extends NodeBase {
  readonly type: 'timer.set';
  readonly timerId: string;
  readonly purpose: 'wait' | 'retry' | 'approval';
  readonly fireAt: number;
}

export interface TimerFiredEvent extends NodeBase {
  readonly type: 'timer.fired';
  readonly timerId: string;
}

export interface RunWaitingEvent extends Base {
  readonly type: 'run.waiting';
  readonly on: readonly { readonly nodeId: string; readonly kind: 'approval' | 'timer'; readonly until: number }[];
}

export interface CompensationEvent extends NodeBase {
  readonly type: 'compensation.started' | 'compensation.succeeded' | 'compensation.failed';
  readonly error?: ErrorInfo;
}

export interface NotificationSentEvent extends Base {
  readonly type: 'notification.sent';
  readonly severity: 'normal' | 'high';
  readonly message: string;
  readonly nodeId?: string;
}

export interface RunFinishedEvent extends Base {
  readonly type: 'run.finished';
  readonly status: FinalRunStatus;
  readonly output?: JsonObject;
  readonly error?: ErrorInfo & { readonly nodeId?: string };
}

/** One line an attempt logged or printed (DESIGN §12, logs). */
export interface LogLine {
  /** Epoch ms from the engine's clock, when the line was written. */
  readonly at: number;
  /** Where it came from: `log` (the executor's logger), `stderr`, a program's or process's name. */
  readonly source: string;
  readonly text: string;
  /** The logger's level, for lines of `ctx.log`. */
  readonly level?: string;
}

/**
 * Lines an attempt kept, journaled together while it runs and once more as it ends (before its
 * end): a node's logs live with the run, bounded per attempt and per run.
 */
export interface NodeLogEvent extends NodeBase {
  readonly type: 'node.log';
  readonly lines: readonly LogLine[];
  /** UTF-8 bytes of the lines' texts: what they count against the bounds. */
  readonly bytes: number;
  /** Lines left out since the attempt's previous node.log, a bound having been reached. */
  readonly dropped?: number;
  /** Lines of the node's compensation rather than of its attempt. */
  readonly compensation?: true;
}

/**
 * A finished run (failed, rolled back or cancelled) is carried on in its own journal (DESIGN §12):
 * the nodes listed go back to pending and run again as their next attempts, with the same
 * idempotency keys; every other node keeps how it ended.
 */
export interface RunRetriedEvent extends Base {
  readonly type: 'run.retried';
  /** The nodes that run again: the failed ones (or `from`) and every node after them. */
  readonly nodes: readonly string[];
  /** The node the retry was asked to start from, when it was. */
  readonly from?: string;
  /** Who asked for it (a principal, or the CLI). */
  readonly by?: string;
}

/** Every event of a run: plain serialisable objects, a closed union on `type` (DESIGN §4). */
export type RunEvent =
  | RunStartedEvent
  | NodeStartedEvent
  | NodeRetryingEvent
  | NodeSucceededEvent
  | NodeFailedEvent
  | NodeSkippedEvent
  | ApprovalRequestedEvent
  | ApprovalDecidedEvent
  | TimerSetEvent
  | TimerFiredEvent
  | RunWaitingEvent
  | CompensationEvent
  | NotificationSentEvent
  | RunFinishedEvent
  | RunRetriedEvent
  | NodeLogEvent;

export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

export const RUN_EVENT_TYPES: readonly RunEventType[] = Object.freeze([
  'run.started',
  'node.started',
  'node.retrying',
  'node.succeeded',
  'node.failed',
  'node.skipped',
  'approval.requested',
  'approval.decided',
  'timer.set',
  'timer.fired',
  'run.waiting',
  'compensation.started',
  'compensation.succeeded',
  'compensation.failed',
  'notification.sent',
  'run.finished',
  'run.retried',
  'node.log',
]);
