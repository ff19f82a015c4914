import { GantryError } from '../errors.js';
import type { JsonObject } from '../flow-types.js';
import { approvalState } from '../approvals.js';
import { checkDecision, type Decision } from './decisions.js';
import type { ApprovalDecidedEvent } from './events.js';
import type { ApprovalOutcome, ApprovalRequest } from './interfaces.js';
import type { Attempt, RunScope } from './run-scope.js';

export type { Decision } from './decisions.js';

interface Pending {
  readonly attempt: Attempt;
  readonly request: ApprovalRequest;
  readonly deadline: number;
  readonly timerId: string;
  readonly resolve: (outcome: ApprovalOutcome) => void;
  readonly reject: (error: unknown) => void;
  /** Counted among the run's waits (not when decided while it was being requested). */
  waiting: boolean;
  cancelTimer: () => void;
  cleanup: () => void;
}

/**
 * The approvals a run waits for (DESIGN §3.5): requests, decisions, deadlines. Decisions and
 * deadlines live in the journal, so an approval requested again after a restart keeps its
 * deadline and the decisions given meanwhile (from another process, say).
 */
export class ApprovalWaits {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly execution: RunScope) {}

  request(attempt: Attempt, request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalOutcome> {
    const x = this.execution;
    const nodeId = attempt.node.id;
    if (signal.aborted || x.isEnding) return Promise.reject(signal.reason ?? new GantryError('CANCELLED', 'the run is stopping'));
    const timerId = `${nodeId}#approval${x.state.retries.get(nodeId) ?? 0}`;
    const earlier = x.state.nodes.get(nodeId)?.approval;
    const resumed = earlier !== undefined && (x.state.timers.has(timerId) || x.state.firedTimers.has(timerId));
    // One reading of the clock: the deadline is exactly the request's time plus the timeout.
    const now = x.now();
    const deadline = resumed ? earlier.deadline : now + request.timeoutSeconds * 1000;
    const base = { runId: x.runId, nodeId, attempt: attempt.attempt };
    let resolveOutcome!: (outcome: ApprovalOutcome) => void;
    let rejectOutcome!: (error: unknown) => void;
    const outcome = new Promise<ApprovalOutcome>((resolve, reject) => {
      resolveOutcome = resolve;
      rejectOutcome = reject;
    });
    const onAbort = () => this.settle(nodeId, () => rejectOutcome(signal.reason));
    // Registered before the events go out: a listener may decide while they are emitted.
    const pending: Pending = {
      attempt,
      request,
      deadline,
      timerId,
      resolve: resolveOutcome,
      reject: rejectOutcome,
      waiting: false,
      cancelTimer: () => {},
      cleanup: () => signal.removeEventListener('abort', onAbort),
    };
    this.pending.set(nodeId, pending);
    signal.addEventListener('abort', onAbort, { once: true });
    if (resumed && x.state.firedTimers.has(timerId)) {
      // The deadline fired before the restart: it does not fire twice.
      this.conclude(nodeId, true);
      return outcome;
    }
    x.record({ type: 'approval.requested', at: now, ...base, approvers: request.approvers, required: request.required, deadline, ...(request.message ? { message: request.message } : {}) });
    if (this.pending.get(nodeId) === pending && resumed) this.conclude(nodeId, false);
    if (this.pending.get(nodeId) === pending) {
      x.record({ type: 'timer.set', at: x.now(), ...base, timerId, purpose: 'approval', fireAt: deadline });
      pending.cancelTimer = x.core.options.clock.at(deadline, () => this.expire(nodeId));
      pending.waiting = true;
      x.enterWait();
    }
    return outcome;
  }

  /** Records a decision, or refuses it with the code the API maps to an HTTP status. */
  decide(nodeId: string, decision: Decision): void {
    const x = this.execution;
    const event = checkDecision(x.state, x.flow, nodeId, decision, x.core.options.principals, x.now());
    if (!this.pending.has(nodeId)) {
      throw new GantryError('APPROVAL_NOT_WAITING', `run ${x.runId}: node "${nodeId}" is not waiting for a decision in this process`);
    }
    x.record(event);
    this.conclude(nodeId, false);
  }

  /** Settles the approval if its decisions (or its deadline, when `expired`) decide it. */
  private conclude(nodeId: string, expired: boolean): void {
    const x = this.execution;
    const pending = this.pending.get(nodeId);
    if (pending === undefined) return;
    const decisions = x.state.nodes.get(nodeId)?.decisions ?? [];
    const { request } = pending;
    const state = approvalState(request.approvers, request.required, decisions, x.core.options.principals);
    if (state === 'approved') return this.settle(nodeId, () => pending.resolve({ approved: true, timedOut: false, decisions: summary(decisions) }));
    if (state === 'rejected') {
      const last = decisions.find((d) => d.decision === 'reject')!;
      const error = new GantryError('APPROVAL_REJECTED', `"${last.principal}" rejected "${nodeId}"${last.comment ? `: ${last.comment}` : ''}`, {
        details: { decisions: summary(decisions) },
      });
      return this.settle(nodeId, () => pending.reject(error));
    }
    if (!expired) return;
    if (request.onTimeout === 'approve') {
      return this.settle(nodeId, () => pending.resolve({ approved: true, timedOut: true, decisions: summary(decisions) }));
    }
    const error = new GantryError('APPROVAL_TIMEOUT', `"${nodeId}" was not approved within ${request.timeoutSeconds} s`, {
      details: { decisions: summary(decisions) },
    });
    this.settle(nodeId, () => pending.reject(error));
  }

  private expire(nodeId: string): void {
    const pending = this.pending.get(nodeId);
    if (pending === undefined) return;
    const x = this.execution;
    x.record({ type: 'timer.fired', runId: x.runId, at: x.now(), nodeId, attempt: pending.attempt.attempt, timerId: pending.timerId });
    this.conclude(nodeId, true);
  }

  private settle(nodeId: string, finish: () => void): void {
    const pending = this.pending.get(nodeId);
    if (pending === undefined) return;
    this.pending.delete(nodeId);
    pending.cancelTimer();
    pending.cleanup();
    if (pending.waiting) this.execution.leaveWait();
    finish();
  }

  /** The run is ending: stop every deadline timer. */
  abandon(): void {
    for (const pending of this.pending.values()) {
      pending.cancelTimer();
      pending.cleanup();
    }
    this.pending.clear();
  }

  /** Nodes waiting for a decision, with their deadlines. */
  waitingNodes(): { nodeId: string; approvers: readonly string[]; deadline: number }[] {
    return [...this.pending.entries()].map(([nodeId, p]) => ({ nodeId, approvers: p.request.approvers, deadline: p.deadline }));
  }
}

function summary(decisions: readonly ApprovalDecidedEvent[]): JsonObject[] {
  return decisions.map((d) => ({
    principal: d.principal,
    decision: d.decision,
    channel: d.channel,
    at: new Date(d.at).toISOString(),
    ...(d.comment === undefined ? {} : { comment: d.comment }),
  }));
}
