import { replay, type ApprovalDecidedEvent, type ErrorInfo, type Engine, type RunRecord, type RunState } from '@gantry/engine';

/** A flow's nodes as the API lists them: in the flow's order, with their types. */
export type NodeList = readonly { readonly id: string; readonly type: string }[];

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A run's state: the live run's when this process runs it, else rebuilt from its journal. */
export async function runState(engine: Engine, runId: string): Promise<RunState> {
  return (engine.run(runId)?.state() as RunState | undefined) ?? replay(runId, await engine.options.store.events(runId));
}

/**
 * The nodes of the flow version a run started with, read from the text kept with the run (not
 * validated again: the run was started with it, and a node type registered by a program may not
 * be known here).
 */
export function nodesOf(engine: Engine, record: RunRecord): NodeList {
  const live = engine.run(record.runId)?.flow;
  if (live !== undefined) return [...live.nodes.values()].map((n) => ({ id: n.id, type: n.type }));
  try {
    const doc = JSON.parse(record.flowText) as { nodes?: { id?: unknown; type?: unknown }[] };
    return (doc.nodes ?? []).flatMap((n) => (typeof n.id === 'string' ? [{ id: n.id, type: String(n.type) }] : []));
  } catch {
    return [];
  }
}

function errorView(error: ErrorInfo & { nodeId?: string }) {
  return { code: error.code, message: error.message, ...(error.nodeId ? { node: error.nodeId } : {}) };
}

function decisionView(d: ApprovalDecidedEvent) {
  return { principal: d.principal, decision: d.decision, channel: d.channel, at: iso(d.at), ...(d.comment === undefined ? {} : { comment: d.comment }) };
}

/** A run in a list: no journal, no flow text. */
export function runSummary(record: RunRecord) {
  return {
    run_id: record.runId,
    flow: record.flowName,
    status: record.status,
    started_at: iso(record.startedAt),
    ...(record.finishedAt === undefined ? {} : { finished_at: iso(record.finishedAt), duration_ms: record.finishedAt - record.startedAt }),
    ...(record.parentRunId === undefined ? {} : { parent_run_id: record.parentRunId }),
  };
}

/** The approvals a run waits for, with how to decide them. */
export function pendingApprovals(runId: string, state: RunState) {
  const pending = [];
  for (const [nodeId, n] of state.nodes) {
    if (n.status !== 'waiting' || n.waitingOn?.kind !== 'approval' || n.approval === undefined) continue;
    pending.push({
      run_id: runId,
      node: nodeId,
      approvers: n.approval.approvers,
      required: n.approval.required,
      deadline: iso(n.approval.deadline),
      decisions: (n.decisions ?? []).map(decisionView),
      decide: `POST /runs/${encodeURIComponent(runId)}/nodes/${encodeURIComponent(nodeId)}/decision`,
    });
  }
  return pending;
}

/** GET /runs/:id: the run's status, a timeline of every node, and its pending approvals. */
export function runView(record: RunRecord, state: RunState, nodes: NodeList) {
  const started = state.started;
  return {
    ...runSummary(record),
    // The journal is the truth; the runs table's status may lag a live run by a tick.
    status: state.started === undefined ? record.status : state.status,
    flow_version: { hash: record.flowHash, ...(started?.flow.version ? { version: started.flow.version } : {}), ...(record.flowSource ? { source: record.flowSource } : {}) },
    ...(started?.initiator ? { initiator: started.initiator } : {}),
    params: started?.params ?? {},
    nodes: nodes.map(({ id, type }) => {
      const n = state.nodes.get(id);
      return {
        id,
        type,
        status: n?.status ?? 'pending',
        ...(n && n.attempt > 0 ? { attempts: n.attempt } : {}),
        ...(n?.startedAt === undefined ? {} : { started_at: iso(n.startedAt) }),
        ...(n?.finishedAt === undefined ? {} : { finished_at: iso(n.finishedAt) }),
        ...(n?.startedAt !== undefined && n.finishedAt !== undefined ? { duration_ms: n.finishedAt - n.startedAt } : {}),
        ...(n?.skipReason ? { skip_reason: n.skipReason } : {}),
        ...(n?.status === 'waiting' && n.waitingOn ? { waiting_for: { kind: n.waitingOn.kind, until: iso(n.waitingOn.until) } } : {}),
        ...(n?.decisions?.length ? { decisions: n.decisions.map(decisionView) } : {}),
        ...(n?.error ? { error: { code: n.error.code, message: n.error.message } } : {}),
        ...(n?.compensation ? { compensation: n.compensation } : {}),
      };
    }),
    pending_approvals: pendingApprovals(record.runId, state),
    ...(state.output === undefined ? {} : { output: state.output }),
    ...(state.error === undefined ? {} : { error: errorView(state.error as ErrorInfo & { nodeId?: string }) }),
  };
}
