import type { CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import { retryDelayMs } from './backoff.js';
import { AttemptContext } from './context.js';
import { toErrorInfo } from './error-info.js';
import type { ErrorInfo } from './events.js';
import { resolveValue } from './expressions.js';
import type { ExecutorResult } from './interfaces.js';
import { mapItemOutput } from './node-expressions.js';
import type { Attempt, ItemOutcome, NodeOutcomes, RunScope } from './run-scope.js';
import { oversizeOutput } from '../value-limits.js';

type Item = { readonly value: JsonValue; readonly index: number };

/**
 * The attempts of a run's nodes: timeouts, retries with backoff, for_each items, and the
 * global concurrency limit. Results that arrive after an attempt was timed out, aborted or
 * superseded are ignored, and an attempt still queued when the run stops never starts.
 */
export class Attempts {
  /** Attempts that can be aborted on their own: a timeout, a for_each item, a retry's wait (made on first use). */
  private tracked: Set<Attempt> | undefined;

  constructor(
    private readonly x: RunScope,
    private readonly outcomes: NodeOutcomes,
  ) {}

  /** Runs a node (attempt `number`, and the retries its policy allows after it). */
  run(node: CompiledNode, input: JsonObject, number = 1): void {
    this.attempt(node, input, number, undefined, undefined);
  }

  /** After a restart: a retry whose backoff timer was set waits out the rest of it. */
  resumeRetry(node: CompiledNode, input: JsonObject, number: number, timerId: string, retryAt: number): void {
    this.x.enterWait();
    this.waitThenAttempt(node, input, number, undefined, undefined, timerId, retryAt);
  }

  /** Runs the items of a for_each node, `concurrency` at a time, stopping at the first failure. */
  forEach(node: CompiledNode, input: JsonObject, items: JsonValue[], done?: ReadonlyMap<number, JsonValue>, started?: ReadonlyMap<number, number>): void {
    const limit = node.definition.concurrency ?? 1;
    const results: JsonValue[] = new Array(items.length);
    // After a restart the items that succeeded before it keep their results and do not run again.
    const todo = items.map((_, i) => i).filter((i) => !done?.has(i));
    for (const [i, output] of done ?? []) results[i] = output;
    const progress = { next: 0, done: 0, failed: false };
    const attempt = this.x.state.nodes.get(node.id)?.attempt ?? 1;
    if (todo.length === 0) return this.outcomes.succeeded(node, { output: results }, attempt);
    const launch = () => {
      while (!progress.failed && progress.next < todo.length && progress.next - progress.done < limit) {
        const index = todo[progress.next++]!;
        // An item that had started before a restart runs again as its next attempt.
        this.attempt(node, input, (started?.get(index) ?? 0) + 1, { value: items[index]!, index }, (outcome) => {
          if (this.x.isEnding || progress.failed) return;
          if (outcome.ok) {
            results[index] = outcome.output;
            progress.done++;
            if (progress.done === todo.length) this.outcomes.succeeded(node, { output: results }, attempt);
            else launch();
            return;
          }
          progress.failed = true;
          for (const other of [...this.tracked!]) if (other.node === node) this.abort(other, new GantryError('CANCELLED', 'a sibling item failed'));
          this.outcomes.failed(node, { ...outcome.error, message: `item ${index}: ${outcome.error.message}` });
        });
      }
    };
    launch();
  }

  /** The run is stopping: abort every tracked attempt (the others hear the run's signal). */
  abortAll(reason: GantryError): void {
    for (const attempt of [...(this.tracked ?? [])]) {
      attempt.controller?.abort(reason);
      this.release(attempt);
    }
  }

  private attempt(node: CompiledNode, input: JsonObject, number: number, item: Item | undefined, onItem: ((outcome: ItemOutcome) => void) | undefined, retried = false): void {
    const x = this.x;
    const own = node.definition.timeout !== undefined || item !== undefined;
    // The attempt is its executor's context too; what settling needs is on it, so that the
    // continuations below are methods rather than closures made for each attempt.
    const current = new AttemptContext(x, node, number, input, item, own ? new AbortController() : undefined, onItem);
    if (own) {
      (this.tracked ??= new Set()).add(current);
      current.settle = (outcome) => this.failedAttempt(current, outcome.error);
    }
    if (item !== undefined && !retried) {
      x.record({ type: 'node.started', runId: x.runId, at: x.now(), nodeId: node.id, attempt: number, item: item.index });
    }
    // The executor starts once this tick's journal write (its node.started) is durable: an effect
    // is never made by an attempt the journal does not know of.
    const core = x.core;
    const running = core.limited
      ? core.limit(() => this.holdSlot(current, () => core.afterJournal(() => this.start(current))))
      : core.waitsForJournal
        ? core.afterJournal(() => this.start(current))
        : this.start(current);
    running.then(
      (result) => this.succeededAttempt(current, result),
      (error) => this.failedAttempt(current, error),
    );
  }

  /** Starts the executor of an attempt (behind the journal write, within the concurrency limit). */
  private start(current: AttemptContext): Promise<ExecutorResult> {
    const x = this.x;
    const node = current.node;
    const def = node.definition;
    // Queued behind the concurrency limit while the run stopped: it must not start at all.
    if (current.done || x.isEnding) return Promise.reject(new GantryError('CANCELLED', 'the run stopped before this attempt started'));
    if (def.timeout !== undefined) {
      // The timeout counts from the start of the work, not from the wait for a free slot.
      const deadline = (current.deadline = x.now() + def.timeout * 1000);
      current.cancelTimeout = x.core.options.clock.at(deadline, () => {
        this.abort(current, new GantryError('TIMEOUT', `node "${node.id}" ran past its timeout of ${def.timeout} s`, { retryable: true }));
      });
    }
    x.outsideCode();
    return this.execute(node, current, current.item, x.planOf(node).dynamicData);
  }

  private succeededAttempt(current: AttemptContext, result: ExecutorResult): void {
    if (current.done) return;
    // Outputs are bounded before they are journaled; a store that does not last keeps nothing past the process.
    const oversize = this.x.core.waitsForJournal ? oversizeOutput(this.x.core.options.limits, current.node.id, result.output) : undefined;
    if (oversize !== undefined) return this.failedAttempt(current, oversize);
    this.release(current);
    const x = this.x;
    if (x.isEnding) return;
    const { node, onItem, item } = current;
    if (onItem === undefined) return this.outcomes.succeeded(node, result, current.attempt);
    const mapping = node.definition.output;
    void (mapping === undefined ? Promise.resolve(result.output as JsonValue) : mapItemOutput(x.flow, mapping, result.output, x.bindings(item))).then(
      (output) => {
        x.record({ type: 'node.succeeded', runId: x.runId, at: x.now(), nodeId: node.id, attempt: current.attempt, item: item!.index, output: output as JsonObject });
        onItem({ ok: true, output });
      },
      (error) => onItem({ ok: false, error: toErrorInfo(error) }),
    );
  }

  private failedAttempt(current: AttemptContext, failure: unknown): void {
    if (current.done) return;
    this.release(current);
    const x = this.x;
    if (x.isEnding) return;
    const { node, onItem } = current;
    const error = toErrorInfo(failure, 'NODE_FAILED');
    if (error.retryable && current.attempt - this.attemptsBefore(current) < x.planOf(node).retry.maxAttempts) {
      return this.retry(node, current.input, current.attempt, current.item, error, onItem);
    }
    if (onItem !== undefined) onItem({ ok: false, error });
    else this.outcomes.failed(node, error);
  }

  /**
   * Under a concurrency limit, the slot is given back when the attempt ends, even if its
   * executor ignores the abort and never settles: one stuck executor must not stall the engine.
   */
  private holdSlot(current: Attempt, start: () => Promise<ExecutorResult>): Promise<ExecutorResult> {
    return new Promise((resolve, reject) => {
      current.releaseSlot = () => reject(new GantryError('CANCELLED', 'the attempt ended'));
      start().then(resolve, reject);
    });
  }

  private execute(node: CompiledNode, ctx: AttemptContext, item: Item | undefined, dynamic: boolean): Promise<ExecutorResult> {
    const executor = this.x.core.executor(node.type);
    if (executor === undefined) return Promise.reject(new GantryError('EXECUTOR_NOT_FOUND', `no executor is registered for node type "${node.type}"`));
    if (dynamic && executor.resolveData !== false) {
      return resolveValue(this.x.flow, node.definition.data as JsonValue, ctx.input, this.x.bindings(item)).then((data) => executor.run(ctx, data as never));
    }
    try {
      return executor.run(ctx, node.definition.data as never);
    } catch (error) {
      // An executor whose run is not async may throw instead of rejecting.
      return Promise.reject(error);
    }
  }

  /** Waits out the backoff on a durable timer, then starts the next attempt. */
  private retry(node: CompiledNode, input: JsonObject, number: number, item: Item | undefined, error: ErrorInfo, onItem: ((outcome: ItemOutcome) => void) | undefined): void {
    const x = this.x;
    const now = x.now();
    const retryAt = now + retryDelayMs(x.planOf(node).retry, number, x.core.options.random, error.retryAfterMs);
    const base = { runId: x.runId, nodeId: node.id, attempt: number, ...(item ? { item: item.index } : {}) };
    x.record({ type: 'node.retrying', at: now, ...base, error, retryAt });
    const timerId = `${x.nodePath(node.id, item?.index)}#retry${number}`;
    x.record({ type: 'timer.set', at: now, ...base, timerId, purpose: 'retry', fireAt: retryAt });
    x.enterWait();
    this.waitThenAttempt(node, input, number, item, onItem, timerId, retryAt);
  }

  private waitThenAttempt(node: CompiledNode, input: JsonObject, number: number, item: Item | undefined, onItem: ((outcome: ItemOutcome) => void) | undefined, timerId: string, retryAt: number): void {
    const x = this.x;
    const base = { runId: x.runId, nodeId: node.id, attempt: number, ...(item ? { item: item.index } : {}) };
    const holder: Attempt = { node, index: item?.index, attempt: number, controller: undefined, done: false };
    (this.tracked ??= new Set()).add(holder);
    holder.settle = () => x.leaveWait();
    holder.cancelTimeout = x.core.options.clock.at(retryAt, () => {
      if (holder.done) return;
      this.release(holder);
      x.leaveWait();
      if (x.isEnding) return;
      x.record({ type: 'timer.fired', at: x.now(), ...base, timerId });
      x.record({ type: 'node.started', at: x.now(), ...base, attempt: number + 1, input });
      this.attempt(node, input, number + 1, item, onItem, true);
    });
  }

  /** The attempts made before the run was retried, which the node's retry policy does not count. */
  private attemptsBefore(current: AttemptContext): number {
    const n = this.x.state.nodes.get(current.node.id);
    return (current.item === undefined ? n?.attemptsBefore : n?.itemAttemptsBefore?.get(current.item.index)) ?? 0;
  }

  private release(attempt: Attempt): void {
    attempt.done = true;
    attempt.closeOutput?.();
    attempt.cancelTimeout?.();
    attempt.releaseSlot?.();
    this.tracked?.delete(attempt);
  }

  private abort(attempt: Attempt, reason: GantryError): void {
    if (attempt.done) return;
    attempt.controller?.abort(reason);
    attempt.settle?.({ ok: false, error: reason });
    // A waiting retry has no executor to hear the abort: release it here.
    if (!attempt.done) this.release(attempt);
  }
}
