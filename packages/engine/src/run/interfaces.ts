import type { Logger } from 'pino';
import type { CompiledFlow, CompiledNode } from '../compile.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { Clock } from './clock.js';

/** What an executor returns. Policy (retries, edges, joins) stays with the engine (STYLE §3). */
export interface ExecutorResult {
  readonly output: JsonObject | JsonValue[];
  /** Labels selected by a conditional: pass or fail for a gate, the matching `then`s of a router. */
  readonly labels?: readonly string[];
  /** A gate's verdict; a failing gate with no fail edge and no fail_action fails as GATE_FAILED. */
  readonly outcome?: 'pass' | 'fail';
  /** fail_action block_deployment: the run ends blocked. */
  readonly blocked?: boolean;
}

/** An agent's reply, normalised (DESIGN §5). */
export interface AgentReply {
  readonly status: 'succeeded' | 'failed';
  readonly result?: JsonObject;
  readonly metrics?: JsonObject;
  readonly error?: { readonly message: string; readonly code?: string; readonly retryable?: boolean };
}

/** The task envelope every transport receives (DESIGN §5). */
export interface AgentTask {
  /** The idempotency key: the same on every retry and restart. */
  readonly task_id: string;
  readonly agent: string;
  readonly task: string;
  readonly inputs: JsonObject;
  readonly run: { readonly id: string; readonly flow: string };
  readonly node: string;
  readonly attempt: number;
  /** ISO 8601, when the node's timeout ends the attempt. */
  readonly deadline?: string;
}

/**
 * Where what a task prints goes: kept with the attempt that made it (DESIGN §12, logs), bounded,
 * shown by `gantry logs`. Writes after the attempt has ended are ignored.
 */
export interface TaskOutput {
  /**
   * Text from `source` (`stderr`, a program's or a process's name; default `output`), split into
   * lines; a last line without its newline waits for the rest (or the attempt's end).
   */
  write(text: string, source?: string): void;
}

/** What a transport gets with each task beside its envelope. */
export interface AgentCallContext {
  /**
   * The engine's clock (STYLE §8): the task's deadline, a transport's own timeouts and its waits
   * (between polls, say) read it, so that a fake clock drives them as it drives the run.
   */
  readonly clock: Clock;
  /** The attempt's output: what the agent (a program's stderr, the processes it starts) prints. Absent when called outside an engine. */
  readonly output?: TaskOutput;
}

export interface AgentTransport {
  /**
   * Performs the task, in one attempt: a thrown error with `retryable` set is retried by the
   * engine, after at least its `retryAfterMs` when it has one (the node's `retry` decides).
   * `context` is given by the engine; a caller that gives none means the system clock.
   */
  call(task: AgentTask, signal: AbortSignal, context?: AgentCallContext): Promise<AgentReply>;
}

/**
 * One agent task as it ended, for telemetry (metrics, traces): not part of any run's journal.
 * Every call counts: an agent node's, each agent of a parallel or router node, a compensation.
 */
export interface AgentTaskSample {
  readonly agent: string;
  readonly task: string;
  readonly runId: string;
  readonly nodeId: string;
  readonly attempt: number;
  /** succeeded: a reply; failed: a failed reply or a transport failure. */
  readonly status: 'succeeded' | 'failed';
  readonly durationMs: number;
}

/** An agent as registered: its transport, its concurrency limit and its compensating tasks. */
export interface AgentRegistration {
  /** Performs the tasks that `flows` does not list. */
  readonly transport?: AgentTransport;
  /**
   * Task → a flow that performs it, run as a sub-flow of the calling run (DESIGN §5, the flow
   * transport). The task's inputs, and the caller's params of the same names, become the flow's
   * params; its output is the task's result. A relative path is taken from the calling flow's file.
   */
  readonly flows?: Readonly<Record<string, string>>;
  /** Tasks of this agent at once, across runs. @default Infinity */
  readonly concurrency?: number;
  /** task → the task that undoes it, used by `rollback` when a node has no `compensate`. */
  readonly compensations?: Readonly<Record<string, string>>;
}

export interface ConnectorContext {
  readonly signal: AbortSignal;
  /** Which run and node call, for messages that say where they come from. */
  readonly run?: { readonly id: string; readonly flow: string; readonly node: string };
  /** The run's trigger payload (a GitHub webhook's body names the repository and the PR). */
  readonly trigger?: JsonValue;
  readonly idempotencyKey: string;
  readonly log: Logger;
  /** The engine's clock: the call's timeouts and waits read it. @default the system clock */
  readonly clock?: Clock;
  /**
   * A credential's value by the name the flow uses (`authentication`), or undefined (not set, or
   * not declared: the engine has refused a node naming an undeclared one before this call).
   */
  credential(name: string): string | undefined;
  /**
   * The origins a credential may be sent to (`https://api.github.com`), when the engine was told
   * (`credentialOrigins`); without them, only the connector's configured origin.
   */
  credentialOrigins?(name: string): readonly string[] | undefined;
}

/**
 * A service an external_api node calls (DESIGN §2.2): github, slack, http, prometheus, … A call
 * is one attempt: its error says whether it is retryable (and `retryAfterMs`), the node retries.
 */
export interface Connector {
  readonly service: string;
  call(action: string, params: JsonObject, ctx: ConnectorContext & { readonly authentication?: string }): Promise<JsonObject>;
}

export interface FunctionContext {
  readonly runId: string;
  readonly nodeId: string;
  /** The node's whole input (the function's `input` is what `inputs` picked from it). */
  readonly nodeInput: JsonObject;
  /** The run's trigger payload. */
  readonly trigger: JsonValue;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** A function node's implementation: the picked input and the node's other data keys. */
export type FlowFunction = (input: JsonObject, params: JsonObject, ctx: FunctionContext) => JsonObject | Promise<JsonObject>;

export interface ApprovalRequest {
  readonly approvers: readonly string[];
  readonly required: number;
  readonly timeoutSeconds: number;
  readonly onTimeout: 'fail' | 'approve';
  readonly allowSelfApproval: boolean;
  readonly message?: string;
}

export interface ApprovalOutcome {
  readonly approved: boolean;
  readonly decisions: readonly JsonObject[];
  readonly timedOut: boolean;
}

export interface SubflowOutcome {
  readonly runId: string;
  readonly status: string;
  readonly output: JsonObject;
}

/** What an executor gets: one argument, no `this` (STYLE §1). */
export interface ExecutorContext {
  readonly runId: string;
  readonly nodeId: string;
  readonly attempt: number;
  /** The for_each item and its index, when the node iterates. */
  readonly item?: { readonly value: JsonValue; readonly index: number };
  readonly input: JsonObject;
  /** Aborted on timeout, cancellation, or when the run fails elsewhere. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly clock: Clock;
  /** runId + node path (+ for_each index): the same on every retry and restart. */
  readonly idempotencyKey: string;
  readonly flow: CompiledFlow;
  readonly node: CompiledNode;
  /** The run's trigger payload. */
  readonly trigger: JsonValue;
  /** Evaluates a `{% … %}` string (other values are returned as they are, deeply resolved). */
  evaluate(value: JsonValue, input?: JsonValue): Promise<JsonValue>;
  /** Resolves after `at` (epoch ms); a durable timer. */
  sleepUntil(at: number): Promise<void>;
  /**
   * Calls an agent; `signal` narrows the abort (a parallel node's siblings), the attempt's applies
   * too. `key` tells apart the calls of one node (a parallel node's agents): it extends the
   * idempotency key, so that each call has its own, stable across retries and restarts.
   */
  callAgent(agent: string, task: string, inputs: JsonObject, options?: { signal?: AbortSignal; key?: string }): Promise<AgentReply>;
  callFunction(name: string, input: JsonObject, params: JsonObject): Promise<JsonObject>;
  callConnector(service: string, action: string, params: JsonObject, authentication?: string): Promise<JsonObject>;
  requestApproval(request: ApprovalRequest): Promise<ApprovalOutcome>;
  runSubflow(ref: string, options: { params: JsonObject; trigger: JsonValue }): Promise<SubflowOutcome>;
}

/** A node type's implementation (STYLE §1). `defineExecutor` exists only for type inference. */
export interface ExecutorDefinition<D = JsonObject> {
  readonly type: string;
  /** JSON Schema of the node's data, for types beyond the nine built in. */
  readonly schema?: object;
  /**
   * Whether the engine evaluates every `{% … %}` in `data` before `run` (default true). A
   * conditional says false: its metric and if strings are evaluated per check.
   */
  readonly resolveData?: boolean;
  run(ctx: ExecutorContext, data: D): Promise<ExecutorResult>;
}

export function defineExecutor<D = JsonObject>(definition: ExecutorDefinition<D>): ExecutorDefinition<D> {
  return definition;
}
