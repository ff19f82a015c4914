import type { Logger } from 'pino';
import type { CompiledFlow, CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { Clock } from './clock.js';
import type { CallSite } from './core.js';
import type { RunExecution } from './execution.js';
import { resolveValue } from './expressions.js';
import type { AgentReply, ApprovalOutcome, ApprovalRequest, ExecutorContext, SubflowOutcome } from './interfaces.js';

/** One attempt of one node (or of one for_each item). */
export interface Attempt {
  readonly node: CompiledNode;
  readonly item: number | undefined;
  readonly number: number;
  /** Its own controller when it can be aborted alone (a timeout, a for_each item). */
  readonly controller: AbortController | undefined;
  cancelTimeout?: () => void;
  /** Gives its concurrency slot back (under a limit). */
  releaseSlot?: () => void;
  /** Ends the attempt with an outcome (set by the scheduler; a timeout or an abort calls it). */
  settle?: (outcome: { ok: false; error: unknown }) => void;
  done: boolean;
}

/**
 * The context an executor gets. A class with methods on its prototype, so that building one per
 * attempt costs one small object (the logger is made only if asked for).
 */
export class AttemptContext implements ExecutorContext, CallSite {
  readonly runId: string;
  readonly nodeId: string;
  readonly attempt: number;
  readonly item: { readonly value: JsonValue; readonly index: number } | undefined;
  readonly input: JsonObject;
  readonly deadline: number | undefined;
  private logger: Logger | undefined;
  private key: string | undefined;
  /** Waits so far in this attempt: the place of each in the attempt names its timer. */
  private waits = 0;

  constructor(
    private readonly execution: RunExecution,
    private readonly current: Attempt,
    input: JsonObject,
    item: { value: JsonValue; index: number } | undefined,
    /** The attempt's own signal; without one, the run's (made only when asked for). */
    private readonly ownSignal: AbortSignal | undefined,
    deadline: number | undefined,
    /** Distinguishes a compensation's key (and child runs) from the node's own. */
    private readonly keySuffix = '',
  ) {
    this.runId = execution.runId;
    this.nodeId = current.node.id;
    this.attempt = current.number;
    this.item = item;
    this.input = input;
    this.deadline = deadline;
  }

  /** `runId:nodePath` (plus the compensation suffix): built when first asked for, as most executors never do. */
  get idempotencyKey(): string {
    return (this.key ??= `${this.execution.runId}:${this.execution.nodePath(this.current.node.id, this.current.item)}${this.keySuffix}`);
  }

  get signal(): AbortSignal {
    return this.ownSignal ?? this.execution.controller.signal;
  }

  get flow(): CompiledFlow {
    return this.execution.flow;
  }

  get node(): CompiledNode {
    return this.current.node;
  }

  get clock(): Clock {
    return this.execution.core.options.clock;
  }

  get trigger(): JsonValue {
    return this.execution.trigger;
  }

  get log(): Logger {
    return (this.logger ??= this.execution.log.child({ nodeId: this.nodeId, attempt: this.attempt, ...(this.item ? { item: this.item.index } : {}) }));
  }

  evaluate(value: JsonValue, input: JsonValue = this.input): Promise<JsonValue> {
    return resolveValue(this.execution.flow, value, input, this.execution.bindings(this.item));
  }

  sleepUntil(at: number): Promise<void> {
    return this.execution.sleepUntil(this.current, at, this.signal, ++this.waits);
  }

  callAgent(agent: string, task: string, inputs: JsonObject, options?: { signal?: AbortSignal; key?: string }): Promise<AgentReply> {
    if (options?.signal === undefined && options?.key === undefined) return this.execution.core.callAgent(agent, task, inputs, this);
    const site: CallSite = {
      ...this.site(),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.key === undefined ? {} : { idempotencyKey: `${this.idempotencyKey}:${options.key}`, childPath: `${this.childPath}:${options.key}` }),
    };
    return this.execution.core.callAgent(agent, task, inputs, site);
  }

  private site(): CallSite {
    const { runId, nodeId, attempt, idempotencyKey, deadline, signal, input, log, childPath } = this;
    return { runId, flow: this.flow, nodeId, attempt, idempotencyKey, deadline, signal, input, trigger: this.trigger, log, childPath };
  }

  callFunction(name: string, input: JsonObject, params: JsonObject): Promise<JsonObject> {
    return this.execution.core.callFunction(name, input, params, this);
  }

  callConnector(service: string, action: string, params: JsonObject, authentication?: string): Promise<JsonObject> {
    return this.execution.core.callConnector(service, action, params, authentication, this);
  }

  requestApproval(request: ApprovalRequest): Promise<ApprovalOutcome> {
    if (this.current.item !== undefined) {
      throw new GantryError('USAGE', `node "${this.nodeId}": a human_approval node cannot iterate with for_each`);
    }
    return this.execution.requestApproval(this.current, request, this.signal);
  }

  /**
   * A child run's id names the node path and the failed attempts before this one: after a
   * restart the same attempt finds its child run (to resume or to read) instead of a new one.
   */
  get childPath(): string {
    const path = this.execution.nodePath(this.nodeId, this.current.item);
    const retries = this.execution.state.retries.get(path) ?? 0;
    return `${retries === 0 ? path : `${path}~${retries + 1}`}${this.keySuffix}`;
  }

  runSubflow(ref: string, options: { params: JsonObject; trigger: JsonValue }): Promise<SubflowOutcome> {
    return this.execution.core.runSubflow(this, this.childPath, ref, options);
  }
}
