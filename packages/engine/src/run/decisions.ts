import type { CompiledFlow } from '../compile.js';
import { GantryError } from '../errors.js';
import { approvalState, eligibleRoles, foldName, isPerson, principalNamed, type PrincipalDirectory } from '../approvals.js';
import type { ApprovalDecidedEvent } from './events.js';
import type { RunState } from './state.js';

export interface Decision {
  readonly principal: string;
  readonly decision: 'approve' | 'reject';
  readonly comment?: string;
  /** How it arrived: cli, prompt, api. @default "api" */
  readonly channel?: string;
}

/**
 * Checks a decision against DESIGN §3.5 and the run's journal, and returns the event that
 * records it; throws with the code an API maps to its status (409 not waiting or already
 * decided, 403 not an approver or the initiator, 410 past the deadline). The same rules serve a
 * live run and a stored one decided from another process. Names compare ignoring case, and the
 * decision is recorded under the directory's spelling of the principal (`--as ALICE` is `alice`).
 */
export function checkDecision(
  state: RunState,
  flow: CompiledFlow,
  nodeId: string,
  decision: Decision,
  principals: PrincipalDirectory,
  now: number,
): ApprovalDecidedEvent {
  const runId = state.runId;
  const node = state.nodes.get(nodeId);
  const approval = node?.approval;
  if (node?.approvalExpired || (approval !== undefined && node?.status === 'waiting' && now >= approval.deadline)) {
    throw new GantryError('APPROVAL_EXPIRED', `run ${runId}: the approval of "${nodeId}" expired at ${new Date(approval!.deadline).toISOString()}`);
  }
  if (approval === undefined || node?.status !== 'waiting' || node.waitingOn?.kind !== 'approval') {
    const status = node?.status ?? (flow.nodes.has(nodeId) ? 'pending' : undefined);
    const why = status === undefined ? `the flow has no node "${nodeId}"` : `node "${nodeId}" is ${status}, not waiting for a decision`;
    throw new GantryError('APPROVAL_NOT_WAITING', `run ${runId}: ${why}`);
  }
  const principal = principalNamed(decision.principal, principals) ?? decision.principal;
  if (eligibleRoles(principal, approval.approvers, principals).length === 0) {
    throw new GantryError('APPROVAL_FORBIDDEN', `"${decision.principal}" holds none of the approver roles of "${nodeId}": ${approval.approvers.join(', ')}`);
  }
  const allowSelf = flow.nodes.get(nodeId)?.definition.data.allow_self_approval === true;
  const initiator = state.started?.initiator;
  if (decision.decision === 'approve' && !allowSelf && isPerson(principal, initiator, principals)) {
    const as = initiator === principal ? '' : ` (as ${initiator})`;
    throw new GantryError('APPROVAL_FORBIDDEN', `"${principal}" started this run${as} and may not approve it (allow_self_approval is off)`);
  }
  const folded = foldName(principal);
  const earlier = (node.decisions ?? []).find((d) => foldName(d.principal) === folded);
  if (earlier !== undefined) {
    const as = earlier.principal === principal ? '' : ` (as "${earlier.principal}")`;
    throw new GantryError('APPROVAL_ALREADY_DECIDED', `"${principal}" has already decided on "${nodeId}"${as}`);
  }
  // Decided already by the decisions recorded (a run not live here has not acted on them yet):
  // refused as a live run refuses it, so that the outcome does not depend on where the run is.
  const settled = approvalState(approval.approvers, approval.required, node.decisions ?? [], principals);
  if (settled !== 'pending') {
    throw new GantryError('APPROVAL_NOT_WAITING', `run ${runId}: "${nodeId}" is ${settled} already by the decisions recorded; it waits for no more`);
  }
  if (decision.decision !== 'approve' && decision.decision !== 'reject') {
    throw new GantryError('USAGE', `a decision is "approve" or "reject", got ${JSON.stringify(decision.decision)}`);
  }
  return {
    type: 'approval.decided',
    runId,
    at: now,
    nodeId,
    attempt: node.attempt,
    principal,
    decision: decision.decision,
    channel: decision.channel ?? 'api',
    ...(decision.comment === undefined ? {} : { comment: decision.comment }),
  };
}
