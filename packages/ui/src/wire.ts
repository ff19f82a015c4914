/**
 * What gantry serve answers, as the UI reads it (packages/server: runs-api, run-details,
 * run-graph, live-api). Plain JSON: times are ISO strings in views, epoch milliseconds in events.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type RunStatus = 'running' | 'waiting' | 'succeeded' | 'failed' | 'blocked' | 'rolled_back' | 'cancelled';

export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly retryable?: boolean;
  readonly details?: JsonValue;
}

/** One line an attempt logged or printed (node.log). */
export interface LogLine {
  readonly at: number;
  readonly source: string;
  readonly text: string;
  readonly level?: string;
}

/** A journal event (DESIGN §4): the fields the UI reads. */
export interface RunEvent {
  readonly type: string;
  readonly runId: string;
  readonly at: number;
  readonly nodeId?: string;
  readonly attempt?: number;
  readonly item?: number;
  readonly input?: JsonObject;
  readonly output?: JsonValue;
  readonly error?: ErrorInfo & { nodeId?: string };
  readonly taken?: readonly number[];
  readonly labels?: readonly string[];
  readonly reason?: 'join' | 'when' | 'aborted';
  readonly retryAt?: number;
  readonly approvers?: readonly string[];
  readonly required?: number;
  readonly deadline?: number;
  readonly message?: string;
  readonly principal?: string;
  readonly decision?: 'approve' | 'reject';
  readonly comment?: string;
  readonly channel?: string;
  readonly purpose?: 'wait' | 'retry' | 'approval';
  readonly fireAt?: number;
  readonly timerId?: string;
  readonly status?: RunStatus;
  readonly severity?: string;
  readonly on?: readonly { nodeId: string; kind: 'approval' | 'timer'; until: number }[];
  readonly flow?: { name: string; hash: string; version?: string; source?: string };
  readonly params?: JsonObject;
  readonly trigger?: JsonValue;
  readonly initiator?: string;
  readonly parent?: { runId: string; path: string };
  /** node.log: the lines an attempt kept, and how many a bound dropped. */
  readonly lines?: readonly LogLine[];
  readonly dropped?: number;
  readonly compensation?: boolean;
  /** run.retried: the nodes that run again, from where, asked by whom. */
  readonly nodes?: readonly string[];
  readonly from?: string;
  readonly by?: string;
}

export interface JournalBatch {
  readonly run: string;
  readonly from: number;
  readonly events: readonly RunEvent[];
}

export interface StartedBy {
  readonly via: 'webhook' | 'sub-flow' | 'cli-or-api' | 'schedule';
  readonly initiator?: string;
  readonly delivery?: string;
}

export interface WaitingApproval {
  readonly run_id: string;
  readonly node: string;
  readonly approvers: readonly string[];
  readonly required: number;
  readonly approved: number;
  readonly deadline?: string;
  readonly deciders: Readonly<Record<string, readonly string[]>>;
}

/** What a runs line and a run's view both say of the run. */
interface RunHeader {
  readonly run_id: string;
  readonly flow: string;
  readonly status: RunStatus;
  readonly started_at: string;
  readonly finished_at?: string;
  readonly duration_ms?: number;
  readonly parent_run_id?: string;
}

/** A line of GET /runs?details=true, and of the runs stream. */
export interface RunRow extends RunHeader {
  readonly started_by: StartedBy;
  readonly waiting_for?: readonly WaitingApproval[];
}

export interface Decision {
  readonly principal: string;
  readonly decision: 'approve' | 'reject';
  readonly channel: string;
  readonly at: string;
  readonly comment?: string;
}

export interface PendingApproval {
  readonly run_id: string;
  readonly node: string;
  readonly approvers: readonly string[];
  readonly required: number;
  readonly deadline?: string;
  readonly decisions: readonly Decision[];
  readonly deciders: Readonly<Record<string, readonly string[]>>;
  readonly can_decide: boolean;
  readonly can_approve: boolean;
  readonly why_not?: string;
}

export interface NodeLine {
  readonly id: string;
  readonly type: string;
  readonly status: string;
  readonly why?: string;
}

/** GET /runs/:id */
export interface RunView extends RunHeader {
  readonly initiator?: string;
  readonly params: JsonObject;
  readonly nodes: readonly NodeLine[];
  readonly pending_approvals: readonly PendingApproval[];
  readonly error?: { code: string; message: string; node?: string };
  readonly last_seq: number;
  readonly actions: readonly string[];
  readonly started_by: StartedBy;
  readonly children: readonly { run_id: string; node: string; path: string; flow: string; status: RunStatus }[];
}

export interface GraphNode {
  readonly id: string;
  readonly type: string;
  readonly description?: string;
  readonly join: 'any' | 'all';
  readonly when?: string;
  readonly for_each?: JsonValue;
  readonly max_attempts: number;
  readonly timeout_seconds?: number;
  readonly compensate?: true;
  readonly detail: Readonly<Record<string, JsonValue>>;
}

export interface GraphEdge {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly condition?: string;
}

/** GET /runs/:id/graph */
export interface RunGraph {
  readonly name: string;
  readonly hash: string;
  readonly version?: string;
  readonly description?: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly error_handlers: readonly { stage: string; action: string; message?: string }[];
}
