import type { IncomingMessage } from 'node:http';
import { approvalState, type Engine } from '@gantry/engine';
import { API_BODY_LIMIT, receiveBody, type BodyPolicy } from './body.js';
import { httpError, requireJson, sendJson } from './http.js';
import type { Handler } from './router.js';
import { getRecord } from './runs-api.js';
import { nodesOf, runState } from './run-view.js';

const COMMENT_LIMIT = 10_000;

export interface ApprovalsApiDeps {
  readonly engine: Engine;
  readonly principalOf: (req: IncomingMessage) => string;
  readonly bodies: BodyPolicy;
}

function parseDecision(body: unknown): { decision: 'approve' | 'reject'; comment?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw httpError('BAD_REQUEST', 'the body must be a JSON object: { "decision": "approve" | "reject", "comment"?: string }');
  const { decision, comment, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw httpError('BAD_REQUEST', `unknown key "${unknown[0]}" in the body; it takes "decision" and "comment"`);
  if (decision !== 'approve' && decision !== 'reject') throw httpError('BAD_REQUEST', `"decision" must be "approve" or "reject", got ${JSON.stringify(decision) ?? 'nothing'}`);
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > COMMENT_LIMIT)) {
    throw httpError('BAD_REQUEST', `"comment" must be a string of at most ${COMMENT_LIMIT} characters`);
  }
  return { decision, ...(comment === undefined ? {} : { comment }) };
}

/**
 * POST /runs/:id/nodes/:node/decision with `Authorization: Bearer <token>` and
 * `{ "decision": "approve" | "reject", "comment"?: "…" }`: the token's principal decides
 * (DESIGN §3.5), recorded with channel "api". 401 unknown token, 404 unknown run or node, 403 not
 * an approver or the run's initiator approving, 409 not waiting or already decided by this
 * principal, 410 past the deadline.
 */
export function decisionHandler({ engine, principalOf, bodies }: ApprovalsApiDeps): Handler {
  return async ({ req, res, params }) => {
    const principal = principalOf(req);
    requireJson(req);
    const body = parseDecision(await receiveBody(req, bodies, { limit: API_BODY_LIMIT, limitName: 'the decision API\'s fixed limit' }));
    const runId = params.id!;
    const nodeId = params.node!;
    const record = await getRecord(engine, runId);
    if (!nodesOf(engine, record).some((n) => n.id === nodeId)) throw httpError('NODE_NOT_FOUND', `the flow "${record.flowName}" of run ${runId} has no node "${nodeId}"`);
    // Journalled, and durable once decide resolves.
    await engine.decide(runId, nodeId, { principal, ...body, channel: 'api' });
    engine.options.logger.info({ runId, nodeId, principal, decision: body.decision }, 'approval decided over the API');
    // The run acts on the decision in the turns that follow (a rejection fails it): let it, so
    // that run_status says what the decision did rather than what was before it.
    await new Promise((resolve) => setImmediate(resolve));
    const state = await runState(engine, runId);
    const node = state.nodes.get(nodeId);
    const decisions = node?.decisions ?? [];
    const approval = node?.approval;
    const outcome = approval === undefined ? undefined : approvalState(approval.approvers, approval.required, decisions, engine.options.principals);
    sendJson(res, 200, {
      run_id: runId,
      node: nodeId,
      principal,
      decision: body.decision,
      approval: outcome ?? 'pending',
      decisions: decisions.map((d) => ({ principal: d.principal, decision: d.decision, channel: d.channel, at: new Date(d.at).toISOString(), ...(d.comment === undefined ? {} : { comment: d.comment }) })),
      run_status: state.status,
    });
  };
}
