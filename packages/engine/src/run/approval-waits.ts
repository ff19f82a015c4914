import { GantryError } from '../errors.js';
import type { JsonObject } from '../flow-types.js';
import { approvalState, eligibleRoles } from './approvals.js';
import type { Attempt } from './context.js';
import type { ApprovalDecidedEvent } from './events.js';
import type { RunExecution } from './execution.js';
import type { ApprovalOutcome, ApprovalRequest } from './interfaces.js';

export interface Decision {
  readonly principal: string;
  readonly decision: 'approve' | 'reject';
  readonly comment?: string;
  /** How it arrived: cli, prompt, api. @default "api" */
  readonly channel?: string;
}

interface Pending {
  readonly attempt: Attempt;
  readonly request: ApprovalRequest;
  readonly deadline: number;
  readonly timerId: string;
  readonly decisions: ApprovalDecidedEvent[];
  readonly resolve: (outcome: ApprovalOutcome) => void;
  readonly reject: (error: unknown) => void;
  /** Counted among the run's waits (not when decided while it was being requested). */
  waiting: boolean;
  cancelTimer: () => void;
  cleanup: () => void;
}

/** The approvals a run waits for (DESIGN §3.5): requests, decisions, deadlines. */
export class ApprovalWaits {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly execution: RunExecution) {}

  request(attempt: Attempt, request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalOutcome> {
    const x = this.execution;
    const nodeId = attempt.node.id;
    if (signal.aborted || x.isEnding) return Promise.reject(signal.reason ?? new GantryError('CANCELLED', 'the run is stopping'));
    const deadline = x.now() + request.timeoutSeconds * 1000;
    const timerId = `${nodeId}#approval${attempt.number}`;
    const base = { runId: x.runId, nodeId, attempt: attempt.number };
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
      decisions: [],
      resolve: resolveOutcome,
      reject: rejectOutcome,
      waiting: false,
      cancelTimer: () => {},
      cleanup: () => signal.removeEventListener('abort', onAbort),
    };
    this.pending.set(nodeId, pending);
    signal.addEventListener('abort', onAbort, { once: true });
    x.record({ type: 'approval.requested', at: x.now(), ...base, approvers: request.approvers, required: request.required, deadline, ...(request.message ? { message: request.message } : {}) });
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
    const pending = this.pending.get(nodeId);
    if (pending === undefined) {
      const node = x.state.nodes.get(nodeId);
      if (node?.approvalExpired) {
        const deadline = node.approvalDeadline;
        throw new GantryError('APPROVAL_EXPIRED', `run ${x.runId}: the approval of "${nodeId}" expired${deadline === undefined ? '' : ` at ${new Date(deadline).toISOString()}`}`);
      }
      const status = node?.status ?? (x.flow.nodes.has(nodeId) ? 'pending' : undefined);
      const why = status === undefined ? `the flow has no node "${nodeId}"` : `node "${nodeId}" is ${status}, not waiting for a decision`;
      throw new GantryError('APPROVAL_NOT_WAITING', `run ${x.runId}: ${why}`);
    }
    const { request } = pending;
    if (x.now() >= pending.deadline) {
      throw new GantryError('APPROVAL_EXPIRED', `run ${x.runId}: the approval of "${nodeId}" expired at ${new Date(pending.deadline).toISOString()}`);
    }
    const roles = eligibleRoles(decision.principal, request.approvers, x.core.options.principals);
    if (roles.length === 0) {
      throw new GantryError('APPROVAL_FORBIDDEN', `"${decision.principal}" holds none of the approver roles of "${nodeId}": ${request.approvers.join(', ')}`);
    }
    if (decision.decision === 'approve' && !request.allowSelfApproval && decision.principal === x.state.started?.initiator) {
      throw new GantryError('APPROVAL_FORBIDDEN', `"${decision.principal}" started this run and may not approve it (allow_self_approval is off)`);
    }
    if (pending.decisions.some((d) => d.principal === decision.principal)) {
      throw new GantryError('APPROVAL_ALREADY_DECIDED', `"${decision.principal}" has already decided on "${nodeId}"`);
    }
    const event: ApprovalDecidedEvent = {
      type: 'approval.decided',
      runId: x.runId,
      at: x.now(),
      nodeId,
      attempt: pending.attempt.number,
      principal: decision.principal,
      decision: decision.decision,
      channel: decision.channel ?? 'api',
      ...(decision.comment === undefined ? {} : { comment: decision.comment }),
    };
    x.record(event);
    pending.decisions.push(event);
    const outcome = approvalState(request.approvers, request.required, pending.decisions, x.core.options.principals);
    if (outcome === 'approved') this.settle(nodeId, () => pending.resolve({ approved: true, timedOut: false, decisions: summary(pending) }));
    if (outcome === 'rejected') {
      const error = Object.assign(new GantryError('APPROVAL_REJECTED', `"${decision.principal}" rejected "${nodeId}"${decision.comment ? `: ${decision.comment}` : ''}`), {
        details: { decisions: summary(pending) },
      });
      this.settle(nodeId, () => pending.reject(error));
    }
  }

  private expire(nodeId: string): void {
    const pending = this.pending.get(nodeId);
    if (pending === undefined) return;
    const x = this.execution;
    x.record({ type: 'timer.fired', runId: x.runId, at: x.now(), nodeId, attempt: pending.attempt.number, timerId: pending.timerId });
    if (pending.request.onTimeout === 'approve') {
      return this.settle(nodeId, () => pending.resolve({ approved: true, timedOut: true, decisions: summary(pending) }));
    }
    const error = Object.assign(new GantryError('APPROVAL_TIMEOUT', `"${nodeId}" was not approved within ${pending.request.timeoutSeconds} s`), {
      details: { decisions: summary(pending) },
    });
    this.settle(nodeId, () => pending.reject(error));
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

function summary(pending: Pending): JsonObject[] {
  return pending.decisions.map((d) => ({
    principal: d.principal,
    decision: d.decision,
    channel: d.channel,
    at: new Date(d.at).toISOString(),
    ...(d.comment === undefined ? {} : { comment: d.comment }),
  }));
}
