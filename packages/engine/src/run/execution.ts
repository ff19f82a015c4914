import type { Logger } from 'pino';
import type { CompiledFlow, CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue, Writable } from '../flow-types.js';
import type { EngineCore } from './core.js';
import { toErrorInfo } from './error-info.js';
import type { ErrorInfo, FinalRunStatus, NodeSucceededEvent, RunEvent, RunFinishedEvent, RunStartedEvent } from './events.js';
import { evaluateExpression, type Bindings } from './expressions.js';
import { edgeExpressions, edgeExpressionsNow, evaluateForEach, mapNodeOutput } from './node-expressions.js';
import type { ApprovalOutcome, ApprovalRequest, ExecutorResult } from './interfaces.js';
import { mergeInto, inputOf, truthy } from './rules.js';
import { planOf, type FlowPlan, type NodePlan } from './plan.js';
import { Attempts } from './attempts.js';
import { applyEvent, emptyRunState, isTerminal, type RunState } from './state.js';
import { ApprovalWaits } from './approval-waits.js';
import type { RunRecord } from './store.js';
import { runCompensations } from './compensation.js';
import { failureRoute, finalStatus, Frontier, frontierOf, nodeEnded, owed, readiness, successOutcome, waitsOn, type InFlight } from './next.js';
import type { Attempt, NodeOutcomes, RunScope } from './run-scope.js';
import { RunLogs } from './logs.js';

/** What a new run starts with: its run.started event but for what the execution adds. */
export type RunStart = Omit<RunStartedEvent, 'type' | 'runId' | 'at'>;

/** No edges taken (a skipped node). */
const NONE: readonly number[] = [];

export interface RunResult {
  readonly runId: string;
  readonly status: FinalRunStatus;
  readonly output: JsonObject | undefined;
  readonly error: (ErrorInfo & { readonly nodeId?: string }) | undefined;
}

/**
 * Drives one run: the small runtime that does what next.ts decides. It is the one place that
 * calls executors (through attempts.ts), writes the run's journal (through the engine) and sets
 * timers (STYLE §4). Every state change goes through {@link record}, which applies the event to
 * the state with the pure fold of state.ts, so the journal alone rebuilds the run; which nodes
 * run, are skipped or wait, and how the run ends, are next.ts's decisions.
 */
export class RunExecution implements RunScope, NodeOutcomes {
  readonly state: RunState;
  readonly finished: Promise<RunResult>;
  private readonly plan: FlowPlan;
  private logger: Logger | undefined;
  private runLogs: RunLogs | undefined;
  private abort: AbortController | undefined;
  private resolveFinished!: (result: RunResult) => void;
  /** Which nodes can be decided, kept by next.ts's nodeEnded as nodes end. */
  private frontier: Frontier;
  private readonly attempts: Attempts;
  private approvalWaits: ApprovalWaits | undefined;
  private draining = false;
  /** The run was retried once finished (run.retried): its nodes' attempts follow those made before. */
  private retried = false;
  /**
   * Work in flight, which the decisions of next.ts do not see in the journal: nodes deciding,
   * running, retrying or waiting, plus handler work (notifications). The run ends when none is
   * left, and waits when all of it waits.
   */
  private active = 0;
  /** Of that work, how many waits on a human or a timer are open. */
  private waiting = 0;
  private ending = false;
  private bindingsCache: Bindings | undefined;
  /** `finished` has been resolved (the run ended, or its journal failed). */
  private resolved = false;
  /** The array its events go to, with the built-in memory store (kept by the engine). */
  journal: RunEvent[] | undefined = undefined;

  constructor(
    readonly core: EngineCore,
    readonly flow: CompiledFlow,
    readonly runId: string,
  ) {
    this.state = emptyRunState(runId);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.plan = planOf(flow);
    this.frontier = new Frontier(this.plan);
    this.attempts = new Attempts(this, this);
  }

  /** Whether the run is stopping or has stopped: late results are ignored. */
  get isEnding(): boolean {
    return this.ending;
  }

  planOf(node: CompiledNode): NodePlan {
    return this.plan.byIndex[node.index]!;
  }

  // The logger, the run's abort controller and its approvals are made on first use: a run of
  // plain nodes never needs them, and a 10-node run should cost microseconds.
  get log(): Logger {
    return (this.logger ??= this.core.options.logger.child({ runId: this.runId, flow: this.flow.name }));
  }

  get logs(): RunLogs | undefined {
    const options = this.core.options.logs;
    return options === undefined ? undefined : (this.runLogs ??= new RunLogs(this, options));
  }

  get controller(): AbortController {
    return (this.abort ??= new AbortController());
  }

  private get approvals(): ApprovalWaits {
    return (this.approvalWaits ??= new ApprovalWaits(this));
  }

  get trigger(): JsonValue {
    return this.state.started?.trigger ?? null;
  }

  /** The node's path in this run: its id, with the for_each index. */
  nodePath(nodeId: string, item: number | undefined): string {
    return item === undefined ? nodeId : `${nodeId}[${item}]`;
  }

  bindings(item?: { value: JsonValue; index: number }): Bindings {
    const started = this.state.started!;
    const base = (this.bindingsCache ??= {
      trigger: started.trigger,
      params: started.params,
      nodes: this.state.outputs,
      run: { id: this.runId, flow: this.flow.name, started_at: new Date(started.at).toISOString() },
      limits: this.core.options.limits,
    });
    return item === undefined ? base : Object.assign({}, base, { item: item.value, index: item.index });
  }

  /** Called when the run's status changes (running ⇄ waiting, final): the store's listing and a parent's waiting follow it. */
  onStatus: ((status: RunState['status']) => void) | undefined;

  record(event: RunEvent): void {
    const before = this.state.status;
    // Read before: a listener may unsubscribe the last listener while it runs.
    const told = this.core.listened;
    applyEvent(this.state, event);
    try {
      this.core.record(event, this);
    } catch (error) {
      // The store failed to write: journalFailed has stopped the run. A caller that asked for
      // this change (a decision) is told; the run's own machinery just stops.
      if (event.type === 'approval.decided') throw error;
      this.log.error({ err: error }, 'the run store could not write this run; it was stopped');
      return;
    }
    // Listeners ran inside record: what follows reads the clock afresh.
    if (told) this.instant = undefined;
    if (this.state.status !== before) {
      this.core.statusChanged(this.runId, this.state.status, this.state.finishedAt);
      this.onStatus?.(this.state.status);
    }
  }

  /**
   * While the engine decides what a node's end makes ready (one synchronous cascade of skips and
   * starts), the moment the node ended: the events of a cascade share one reading of the clock,
   * which costs about 50 ns (V8's call out to C++) and a heap number. Cleared before an executor
   * or a notifier runs and after listeners have run, so that a reading is never older than the
   * engine's own bookkeeping.
   */
  private instant: number | undefined;

  now(): number {
    return this.instant ?? this.core.options.clock.now();
  }

  /** Code outside the engine is about to run (an executor, a notifier): read the clock afresh after it. */
  outsideCode(): void {
    this.instant = undefined;
  }

  /** The flow as a run.started event names it (one object for every run of the flow). */
  get flowRef(): RunStartedEvent['flow'] {
    return this.plan.flowRef;
  }

  /**
   * Starts a new run: its record and run.started are created in one commit, which the start
   * nodes' executors wait for. Returns that commit, with a store that lasts.
   */
  start(started: RunStart, record: RunRecord): Promise<void> | undefined {
    const event: RunStartedEvent = { type: 'run.started', runId: this.runId, at: record.startedAt, flow: started.flow, params: started.params, trigger: started.trigger };
    if (started.initiator !== undefined) (event as Writable<RunStartedEvent>).initiator = started.initiator;
    if (started.parent !== undefined) (event as Writable<RunStartedEvent>).parent = started.parent;
    applyEvent(this.state, event);
    const created = this.core.created(record, event);
    for (const node of this.plan.startNodes) this.frontier.enqueue(node);
    this.instant = record.startedAt;
    try {
      this.drain();
    } finally {
      this.instant = undefined;
    }
    return created;
  }

  /**
   * Rebuilds a run from its journal and carries on where it stopped (DESIGN §3.6): the journal
   * replayed into the state, the frontier derived from that state, and what next.ts says the
   * state still owes: the end a handler had begun, the nodes in flight (a node that had started
   * runs again with the same idempotency key as its next attempt; a retry's backoff and a for_each's
   * items carry on), and the nodes whose predecessors had all ended.
   */
  resume(events: readonly RunEvent[]): void {
    for (const event of events) {
      applyEvent(this.state, event);
      if (event.type === 'run.retried') this.retried = true;
    }
    this.frontier = frontierOf(this.flow, this.state);
    const todo = owed(this.flow, this.state, this.frontier);
    switch (todo.kind) {
      case 'nothing': {
        const s = this.state;
        this.ending = true;
        this.release();
        this.resolveFinished({ runId: this.runId, status: s.status as FinalRunStatus, output: s.output, error: s.error });
        return;
      }
      case 'failure':
        return this.failed(todo.node, todo.error, true);
      case 'carry-on':
        for (const inFlight of todo.inFlight) {
          this.active++;
          this.carryOn(inFlight);
        }
        for (const node of todo.decidable) this.frontier.enqueue(node);
        this.drain();
    }
  }

  private carryOn(inFlight: InFlight): void {
    const { node, input } = inFlight;
    switch (inFlight.kind) {
      case 'items':
        void this.resumeForEach(node, input);
        return;
      case 'retry':
        return this.attempts.resumeRetry(node, input, inFlight.attempt, inFlight.timerId, inFlight.fireAt);
      case 'restart':
        this.record({ type: 'node.started', runId: this.runId, at: this.now(), nodeId: node.id, attempt: inFlight.attempt, input });
        this.attempts.run(node, input, inFlight.attempt);
    }
  }

  private async resumeForEach(node: CompiledNode, input: JsonObject): Promise<void> {
    try {
      const forEach = node.definition.for_each!;
      // As when the node first started: a literal array's items start in this step, an expression's once it is evaluated.
      const items = Array.isArray(forEach) ? forEach : await evaluateForEach(this.flow, node, forEach, input, this.bindings());
      if (this.ending) return;
      const n = this.state.nodes.get(node.id);
      this.attempts.forEach(node, input, items, n?.items, n?.itemAttempts);
    } catch (error) {
      if (!this.ending) this.failed(node, toErrorInfo(error, 'EXPRESSION_FAILED'));
    }
  }

  /**
   * Decides the nodes that became ready, in a loop rather than by recursion: a skip at the head
   * of a 10,000-node chain skips the whole chain without growing the stack.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      // In order (start nodes in flow order); the array grows while it is walked.
      const frontier = this.frontier;
      for (let i = 0; i < frontier.queued; i++) this.decide(frontier.ready[i]!);
    } finally {
      this.frontier.queued = 0;
      this.draining = false;
    }
    this.settle();
  }

  /** Runs or skips a node whose predecessors have all ended, as the join rule says. */
  private decide(node: CompiledNode): void {
    if (this.ending) return;
    if (readiness(node, this.frontier) === 'run') this.begin(node);
    else {
      this.active++;
      this.record({ type: 'node.skipped', runId: this.runId, at: this.now(), nodeId: node.id, attempt: 0, reason: 'join' });
      this.terminal(node, NONE);
    }
  }

  private begin(node: CompiledNode): void {
    this.active++;
    const input = node.incoming.length === 0 ? {} : inputOf(node, this.state);
    const def = node.definition;
    // A node run again by a retry of the run follows the attempts it made before.
    const attempt = this.retried ? (this.state.nodes.get(node.id)?.attempt ?? 0) + 1 : 1;
    if (def.when === undefined && def.for_each === undefined) {
      this.record({ type: 'node.started', runId: this.runId, at: this.now(), nodeId: node.id, attempt, input });
      this.attempts.run(node, input, attempt);
      return;
    }
    void this.beginGuarded(node, input, attempt);
  }

  private async beginGuarded(node: CompiledNode, input: JsonObject, attempt: number): Promise<void> {
    const def = node.definition;
    try {
      if (def.when !== undefined) {
        const when = typeof def.when === 'boolean' ? def.when : truthy(await evaluateExpression(this.flow, def.when, input, this.bindings()));
        if (this.ending) return;
        if (!when) {
          this.record({ type: 'node.skipped', runId: this.runId, at: this.now(), nodeId: node.id, attempt: 0, reason: 'when' });
          return this.terminal(node, NONE);
        }
      }
      this.record({ type: 'node.started', runId: this.runId, at: this.now(), nodeId: node.id, attempt, input });
      if (def.for_each === undefined) return this.attempts.run(node, input, attempt);
      // A literal array starts its items in this step; an expression's items once it is evaluated, unless the run ended meanwhile.
      const items = Array.isArray(def.for_each) ? def.for_each : await evaluateForEach(this.flow, node, def.for_each, input, this.bindings());
      if (this.ending) return;
      this.attempts.forEach(node, input, items);
    } catch (error) {
      if (!this.ending) this.failed(node, toErrorInfo(error, 'EXPRESSION_FAILED'));
    }
  }

  /** The executor's result: mapped, checked, its edges decided, journalled. */
  succeeded(node: CompiledNode, result: ExecutorResult, attempt: number): void {
    const plan = this.plan.byIndex[node.index]!;
    if (plan.plainResult && !plan.expressionEdges) return this.complete(node, attempt, result, result.output, undefined);
    this.completeWithExpressions(node, attempt, result, plan.plainResult);
  }

  /** Edge expressions that compile are decided in this turn; an output mapping, or any other expression, waits for JSONata. */
  private completeWithExpressions(node: CompiledNode, attempt: number, result: ExecutorResult, plainResult: boolean): void {
    let expressions: Map<number, boolean> | undefined;
    try {
      expressions = plainResult ? edgeExpressionsNow(this.flow, node, result.output, this.bindings()) : undefined;
    } catch (error) {
      // A condition's value past its limit: evaluated again later, it would end the same way.
      return this.failed(node, toErrorInfo(error));
    }
    if (expressions !== undefined) return this.complete(node, attempt, result, result.output, expressions);
    void this.completeLater(node, attempt, result);
  }

  private async completeLater(node: CompiledNode, attempt: number, result: ExecutorResult): Promise<void> {
    try {
      const def = node.definition;
      // A for_each node's items were mapped one by one; its output is their array.
      const output = def.for_each !== undefined || def.output === undefined ? result.output : await mapNodeOutput(this.flow, node, def.output, result.output, this.bindings());
      const expressions = await edgeExpressions(this.flow, node, output, this.bindings());
      if (!this.ending) this.complete(node, attempt, result, output, expressions);
    } catch (error) {
      if (!this.ending) this.failed(node, toErrorInfo(error));
    }
  }

  private complete(node: CompiledNode, attempt: number, result: ExecutorResult, output: JsonObject | JsonValue[], expressions: Map<number, boolean> | undefined): void {
    const outcome = successOutcome(this.plan.byIndex[node.index]!, result, output, expressions);
    if (outcome.error !== undefined) return this.failed(node, outcome.error);
    const taken = outcome.taken;
    const at = this.now();
    const event: NodeSucceededEvent = { type: 'node.succeeded', runId: this.runId, at, nodeId: node.id, attempt, output, taken };
    if (result.labels !== undefined) (event as { labels?: readonly string[] }).labels = result.labels;
    if (result.blocked) (event as { blocked?: boolean }).blocked = true;
    this.record(event);
    const outer = this.instant;
    this.instant = at;
    try {
      this.terminal(node, taken);
    } finally {
      this.instant = outer;
    }
  }

  /** A node failed after its retries: an error edge routes it, else its error handler acts (§3.4). */
  failed(node: CompiledNode, error: ErrorInfo, resumed = false): void {
    if (this.ending || (!resumed && isTerminal(this.state.nodes.get(node.id)?.status))) return;
    const route = failureRoute(this.flow, node, this.state, error);
    if (!resumed) {
      const attempt = this.state.nodes.get(node.id)?.attempt ?? 1;
      this.record({ type: 'node.failed', runId: this.runId, at: this.now(), nodeId: node.id, attempt, error, taken: route.taken });
      if (route.taken.length > 0) return this.terminal(node, route.taken);
    }
    const notified = route.notify === undefined ? undefined : this.notify(route.notify.severity, route.notify.message, node.id);
    if (route.action === 'block_deployment') {
      // The run goes on with what remains, and ends once the notification is out too.
      if (notified !== undefined) {
        this.active++;
        void notified.finally(() => {
          this.active--;
          this.settle();
        });
      }
      return this.terminal(node, route.taken);
    }
    this.stopEverything(new GantryError('CANCELLED', `the run is stopping: node "${node.id}" failed`));
    const failure = { ...error, nodeId: node.id };
    void (async () => {
      await notified;
      if (route.action === 'rollback') return this.end((await runCompensations(this, node)) ? 'rolled_back' : 'failed', failure);
      this.end('failed', failure);
    })();
  }

  async notify(severity: 'normal' | 'high', message: string, nodeId?: string): Promise<void> {
    this.outsideCode();
    try {
      await this.core.notify({ runId: this.runId, flow: this.flow.name, severity, message, nodeId });
      this.record({ type: 'notification.sent', runId: this.runId, at: this.now(), severity, message, ...(nodeId ? { nodeId } : {}) });
    } catch (error) {
      this.log.error({ err: error }, 'notification failed');
    }
  }

  /** A node is terminal, having taken `taken`: each successor whose predecessors are now all terminal is decided. */
  private terminal(node: CompiledNode, taken: readonly number[]): void {
    nodeEnded(this.plan, this.frontier, node, taken);
    this.active--;
    this.drain();
  }

  /** Finishes the run when nothing is left, or marks it waiting when all that is left waits. */
  settle(): void {
    if (this.ending || this.draining) return;
    if (this.active === 0) return this.finish();
    this.checkWaiting();
  }

  checkWaiting(): void {
    if (this.ending || this.active === 0 || this.waiting < this.active || this.state.status === 'waiting') return;
    this.record({ type: 'run.waiting', runId: this.runId, at: this.now(), on: waitsOn(this.state, this.childWaits) });
  }

  /** What each sub-flow node's child run waits for (made when a child first waits). */
  private childWaits: Map<string, readonly { kind: 'approval' | 'timer'; until: number }[]> | undefined;

  /** A sub-flow run by `nodeId` waits: so does this run's node, on what the child waits for. */
  childWaiting(nodeId: string, waits: readonly { kind: 'approval' | 'timer'; until: number }[] | undefined): void {
    const was = this.childWaits?.has(nodeId) ?? false;
    if (waits === undefined) {
      if (!was) return;
      this.childWaits!.delete(nodeId);
      return this.leaveWait();
    }
    (this.childWaits ??= new Map()).set(nodeId, waits);
    if (!was) this.enterWait();
  }

  enterWait(): void {
    this.waiting++;
    this.checkWaiting();
  }

  leaveWait(): void {
    this.waiting--;
  }

  requestApproval(attempt: Attempt, request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalOutcome> {
    return this.approvals.request(attempt, request, signal);
  }

  waitingApprovals(): { nodeId: string; approvers: readonly string[]; deadline: number }[] {
    return this.approvals.waitingNodes();
  }

  decideApproval(nodeId: string, decision: { principal: string; decision: 'approve' | 'reject'; comment?: string; channel?: string }): void {
    this.approvals.decide(nodeId, decision);
  }

  /**
   * Aborts every running attempt and ends every node not yet terminal as skipped, reason
   * `aborted` (a node that had started has its node.started before it): every node still ends.
   */
  private stopEverything(reason: GantryError): void {
    this.ending = true;
    this.abort?.abort(reason);
    this.attempts.abortAll(reason);
    this.approvalWaits?.abandon();
    for (const node of this.flow.nodes.values()) {
      if (!isTerminal(this.state.nodes.get(node.id)?.status)) {
        this.record({ type: 'node.skipped', runId: this.runId, at: this.now(), nodeId: node.id, attempt: 0, reason: 'aborted' });
      }
    }
  }

  /**
   * The store could not write this run's journal: it stops at once (its executors are aborted)
   * and ends failed in memory; what was not written cannot be trusted, nor recorded.
   */
  journalFailed(error: unknown): void {
    this.stop(error, new GantryError('STORE_FAILED', 'the run store could not write'), storeFailure(this.runId, error));
  }

  /**
   * Another process carries the run on now (a shared store handed it on, DESIGN §9): it stops
   * here as journalFailed stops it, and its end says why, in this process alone.
   */
  letGo(reason: GantryError): void {
    this.stop(reason, reason, { runId: this.runId, status: 'failed', output: undefined, error: toErrorInfo(reason) });
  }

  /** Stops at once: executors aborted, waits abandoned, nothing more recorded; `finished` gets `result`. */
  private stop(reason: unknown, attemptsReason: GantryError, result: RunResult): void {
    if (this.resolved) return;
    this.ending = true;
    this.runLogs?.closeAll(false);
    this.abort?.abort(reason);
    this.attempts.abortAll(attemptsReason);
    this.approvalWaits?.abandon();
    this.release();
    this.resolved = true;
    this.resolveFinished(result);
  }

  cancel(): void {
    if (this.state.status !== 'running' && this.state.status !== 'waiting') return;
    if (this.ending && this.state.finishedAt !== undefined) return;
    this.stopEverything(new GantryError('CANCELLED', 'the run was cancelled'));
    this.end('cancelled', undefined);
  }

  private finish(): void {
    this.end(finalStatus(this.flow, this.plan, this.state), undefined);
  }

  private end(status: FinalRunStatus, error: (ErrorInfo & { nodeId?: string }) | undefined): void {
    if (this.state.finishedAt !== undefined || this.resolved) return;
    this.ending = true;
    const output = status === 'succeeded' || status === 'blocked' ? this.output() : undefined;
    // What attempts logged and has not been journaled yet goes before the end.
    this.runLogs?.closeAll(true);
    const event: Writable<RunFinishedEvent> = { type: 'run.finished', runId: this.runId, at: this.now(), status };
    if (output) event.output = output;
    if (error) event.error = error;
    this.record(event);
    // A journal that failed to take run.finished has already ended the run as failed.
    if (this.resolved) return;
    this.resolved = true;
    this.release();
    const result: RunResult = { runId: this.runId, status, output, error };
    // Whoever awaits the end is told once the end is durable (at once, for a store that does not last),
    // unless a shared store refused it: the run goes on in the process that holds it now.
    if (!this.core.waitsForJournal) return this.resolveFinished(result);
    this.core.committed(this.runId).then(
      (written) => this.resolveFinished(written ? result : releasedResult(this.runId)),
      (failure: unknown) => this.resolveFinished(storeFailure(this.runId, failure)),
    );
  }

  /** The engine lets go of the run; so does the run of its journal, which a handle kept by a caller would otherwise hold. */
  private release(): void {
    this.core.released(this.runId);
    this.journal = undefined;
  }

  /** The run's output: the merged outputs of its succeeded sink nodes, in flow order. */
  private output(): JsonObject {
    const output: JsonObject = {};
    for (const node of this.plan.sinks) {
      const n = this.state.nodes.get(node.id);
      if (n?.status === 'succeeded') mergeInto(output, n.output);
    }
    return output;
  }
}

/** How a run ends, in this process alone, whose end a shared store refused: another process holds it now. */
function releasedResult(runId: string): RunResult {
  const reason = new GantryError('RUN_RELEASED', `run ${runId} goes on elsewhere: another process holds it now; its end here was not recorded`);
  return { runId, status: 'failed', output: undefined, error: toErrorInfo(reason) };
}

/** How a run ends whose journal could not be written: failed, with what the store said. */
function storeFailure(runId: string, error: unknown): RunResult {
  const info = toErrorInfo(error, 'STORE_FAILED');
  return { runId, status: 'failed', output: undefined, error: { ...info, message: `the run's journal could not be written: ${info.message}` } };
}
