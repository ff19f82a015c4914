import type { Logger } from 'pino';
import type { CompiledFlow, CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { Clock } from './clock.js';
import type { CallSite } from './core.js';
import { durableSleep } from './durable-sleep.js';
import { resolveValue } from './expressions.js';
import type { AgentReply, ApprovalOutcome, ApprovalRequest, ExecutorContext, SubflowOutcome, TaskOutput } from './interfaces.js';
import { capturingLogger } from './log-capture.js';
import type { AttemptLog } from './logs.js';
import type { Attempt, ItemOutcome, RunScope } from './run-scope.js';

type Item = { readonly value: JsonValue; readonly index: number };

/**
 * An attempt and the context its executor gets, in one object: a class with methods on its
 * prototype and every field set in the constructor (one shape), so that an attempt costs one
 * small object (the logger and the idempotency key are made only if asked for). What the
 * executor has no business with (the run's execution, the caches) is in private fields: a
 * spread, `Object.keys` or a log line of the context shows the attempt, not the whole run.
 */
export class AttemptContext implements ExecutorContext, CallSite, Attempt {
  readonly runId: string;
  readonly nodeId: string;
  /** Set when the work starts: a timeout counts from there, not from the wait for a free slot. */
  deadline: number | undefined = undefined;
  done = false;
  cancelTimeout: (() => void) | undefined = undefined;
  releaseSlot: (() => void) | undefined = undefined;
  settle: ((outcome: { ok: false; error: unknown }) => void) | undefined = undefined;
  readonly #execution: RunScope;
  /** Distinguishes a compensation's key (and child runs) from the node's own. */
  readonly #keySuffix: string;
  #logger: Logger | undefined = undefined;
  #output: AttemptLog | undefined = undefined;
  #key: string | undefined = undefined;
  /** Waits so far in this attempt: the place of each in the attempt names its timer. */
  #waits = 0;

  constructor(
    execution: RunScope,
    readonly node: CompiledNode,
    readonly attempt: number,
    readonly input: JsonObject,
    readonly item: Item | undefined,
    readonly controller: AbortController | undefined,
    /** For a for_each item: where its outcome goes. */
    readonly onItem: ((outcome: ItemOutcome) => void) | undefined,
    keySuffix = '',
  ) {
    this.#execution = execution;
    this.#keySuffix = keySuffix;
    this.runId = execution.runId;
    this.nodeId = node.id;
  }

  get index(): number | undefined {
    return this.item?.index;
  }

  /** `runId:nodePath` (plus the compensation suffix): built when first asked for, as most executors never do. */
  get idempotencyKey(): string {
    return (this.#key ??= `${this.#execution.runId}:${this.#execution.nodePath(this.nodeId, this.index)}${this.#keySuffix}`);
  }

  get signal(): AbortSignal {
    return this.controller?.signal ?? this.#execution.controller.signal;
  }

  get flow(): CompiledFlow {
    return this.#execution.flow;
  }

  get clock(): Clock {
    return this.#execution.core.options.clock;
  }

  get trigger(): JsonValue {
    return this.#execution.trigger;
  }

  /** The executor's logger; with the engine's `logs` on, what it logs is also kept with the attempt. */
  get log(): Logger {
    if (this.#logger !== undefined) return this.#logger;
    const base = this.#execution.log.child({ nodeId: this.nodeId, attempt: this.attempt, ...(this.item ? { item: this.item.index } : {}) });
    const logs = this.#execution.logs;
    return (this.#logger = logs === undefined ? base : capturingLogger(base, (level, text) => this.attemptLog()?.logged(level, text), logs.options.levelValue));
  }

  /** Where a transport writes what its agent prints: kept with this attempt (made when first asked for). */
  get output(): TaskOutput {
    return this.attemptLog() ?? NO_OUTPUT;
  }

  private attemptLog(): AttemptLog | undefined {
    if (this.#output !== undefined || this.done) return this.#output;
    return (this.#output = this.#execution.logs?.attempt(this.nodeId, this.attempt, this.index, this.#keySuffix !== ''));
  }

  /** The attempt has ended: its last lines are journaled (before its end's event), later ones ignored. */
  closeOutput(): void {
    this.#output?.close();
  }

  evaluate(value: JsonValue, input: JsonValue = this.input): Promise<JsonValue> {
    return resolveValue(this.#execution.flow, value, input, this.#execution.bindings(this.item));
  }

  sleepUntil(at: number): Promise<void> {
    return durableSleep(this.#execution, this, at, this.signal, ++this.#waits);
  }

  callAgent(agent: string, task: string, inputs: JsonObject, options?: { signal?: AbortSignal; key?: string }): Promise<AgentReply> {
    if (options?.signal === undefined && options?.key === undefined) return this.#execution.core.callAgent(agent, task, inputs, this);
    const site: CallSite = {
      ...this.site(),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      // A parallel node's agents share the attempt's output: each line says which agent printed it.
      ...(options.key === undefined ? {} : { idempotencyKey: `${this.idempotencyKey}:${options.key}`, childPath: `${this.childPath}:${options.key}`, output: sourcedBy(this.output, options.key) }),
    };
    return this.#execution.core.callAgent(agent, task, inputs, site);
  }

  private site(): CallSite {
    const { runId, nodeId, attempt, idempotencyKey, deadline, signal, input, log, output, childPath } = this;
    return { runId, flow: this.flow, nodeId, attempt, idempotencyKey, deadline, signal, clock: this.clock, input, trigger: this.trigger, log, output, childPath };
  }

  callFunction(name: string, input: JsonObject, params: JsonObject): Promise<JsonObject> {
    return this.#execution.core.callFunction(name, input, params, this);
  }

  callConnector(service: string, action: string, params: JsonObject, authentication?: string): Promise<JsonObject> {
    return this.#execution.core.callConnector(service, action, params, authentication, this);
  }

  requestApproval(request: ApprovalRequest): Promise<ApprovalOutcome> {
    if (this.index !== undefined) {
      throw new GantryError('USAGE', `node "${this.nodeId}": a human_approval node cannot iterate with for_each`);
    }
    return this.#execution.requestApproval(this, request, this.signal);
  }

  /**
   * A child run's id names the node path and the failed attempts before this one: after a
   * restart the same attempt finds its child run (to resume or to read) instead of a new one.
   */
  get childPath(): string {
    const path = this.#execution.nodePath(this.nodeId, this.index);
    const retries = this.#execution.state.retries.get(path) ?? 0;
    return `${retries === 0 ? path : `${path}~${retries + 1}`}${this.#keySuffix}`;
  }

  runSubflow(ref: string, options: { params: JsonObject; trigger: JsonValue }): Promise<SubflowOutcome> {
    return this.#execution.core.runSubflow(this, this.childPath, ref, options);
  }
}

/** The output of an attempt whose executor logs nothing and calls no agent, or of an engine with `logs: false`. */
const NO_OUTPUT: TaskOutput = Object.freeze({ write() {} });

/** An output whose lines name `who` before their source: `security:stderr`. */
function sourcedBy(output: TaskOutput, who: string): TaskOutput {
  return output === NO_OUTPUT ? output : { write: (text, source) => output.write(text, source === undefined ? who : `${who}:${source}`) };
}
