import { eligibleRoles, RETRYABLE_STATUSES, type Engine, type PrincipalDirectory, type RunRecord, type RunState } from '@gantry/engine';
import { explainRun, list, type ChildRun } from './run-explain.js';
import { graphOf } from './run-graph.js';
import { pendingApprovals, runState, runSummary, type runView } from './run-view.js';
import { DELIVERY_RUN_PREFIX } from './webhooks.js';
import { SCHEDULE_RUN_PREFIX } from './schedules.js';

/**
 * What the web UI reads beyond the runs API's own fields (DESIGN §10): who started a run, what
 * it waits for and who may decide, for the caller whether they may, what the server offers to do
 * with the run, why each node is where it is, and the journal's length to follow it from.
 */

type PendingApproval = ReturnType<typeof pendingApprovals>[number];

/** The statuses a run ends in. */
export const FINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'blocked', 'rolled_back', 'cancelled']);

function directoryOf(engine: Engine): PrincipalDirectory {
  return engine.options.principals as PrincipalDirectory;
}

/** Role → the principals holding it; with no principals configured a principal's name is its role (DESIGN §3.5). */
export function decidersOf(engine: Engine, roles: readonly string[]): Record<string, string[]> {
  const directory = directoryOf(engine);
  const entries = Object.entries(directory ?? {});
  return Object.fromEntries(roles.map((role) => [role, entries.length === 0 ? [role] : entries.filter(([, p]) => p.roles.includes(role)).map(([name]) => name)]));
}

/** Who or what started a run: its initiator (a webhook's sender), and whether a webhook delivery, a parent run or something else did. */
export function startedBy(record: RunRecord, initiator: string | undefined) {
  const via = record.parentRunId !== undefined ? 'sub-flow' : record.runId.startsWith(DELIVERY_RUN_PREFIX) ? 'webhook' : record.runId.startsWith(SCHEDULE_RUN_PREFIX) ? 'schedule' : 'cli-or-api';
  return { via, ...(initiator ? { initiator } : {}), ...(via === 'webhook' ? { delivery: record.runId.slice(DELIVERY_RUN_PREFIX.length) } : {}) };
}

/** The approvals unfinished sub-flow runs wait for: a parent waits on them (at most 8 levels down). */
export async function childApprovals(engine: Engine, runId: string, depth: number): Promise<ReturnType<typeof pendingApprovals>> {
  if (depth >= 8) return [];
  const approvals: ReturnType<typeof pendingApprovals> = [];
  for (const child of await engine.options.store.listRuns({ parentRunId: runId, status: ['running', 'waiting'] })) {
    approvals.push(...pendingApprovals(child.runId, await runState(engine, child.runId)), ...(await childApprovals(engine, child.runId, depth + 1)));
  }
  return approvals;
}

/** A run's approvals that wait (its sub-flow runs' too), each with who may decide it. */
async function waitingFor(engine: Engine, record: RunRecord, state: RunState) {
  return [...pendingApprovals(record.runId, state), ...(await childApprovals(engine, record.runId, 0))].map((a) => ({
    run_id: a.run_id,
    node: a.node,
    approvers: a.approvers,
    required: a.required,
    approved: a.decisions.filter((d) => d.decision === 'approve').length,
    deadline: a.deadline,
    deciders: decidersOf(engine, a.approvers),
  }));
}

/** The started event never changes: kept, per store, for the runs that are listed again and again. */
const startCaches = new WeakMap<object, Map<string, RunState['started']>>();
const START_CACHE_SIZE = 2000;

async function startOf(engine: Engine, record: RunRecord): Promise<RunState['started']> {
  const live = engine.run(record.runId)?.state() as RunState | undefined;
  if (live?.started) return live.started;
  let startCache = startCaches.get(engine.options.store);
  if (startCache === undefined) startCaches.set(engine.options.store, (startCache = new Map()));
  let started = startCache.get(record.runId);
  if (started === undefined) {
    const first = (await engine.options.store.events(record.runId))[0];
    if (first?.type !== 'run.started') return undefined;
    started = first;
    if (startCache.size >= START_CACHE_SIZE) startCache.delete(startCache.keys().next().value!);
    startCache.set(record.runId, started);
  }
  return started;
}

/** A run as the UI's list shows it (`GET /runs?details=true` and the runs stream): the summary, who started it, what it waits for. */
export async function runRow(engine: Engine, record: RunRecord) {
  const live = engine.run(record.runId);
  const status = live?.status() ?? record.status;
  const started = await startOf(engine, record);
  // Only an unfinished run waits: a finished one costs no read of its journal.
  const state = FINAL.has(status) ? undefined : await runState(engine, record.runId);
  return {
    ...runSummary(record),
    status,
    started_by: startedBy(record, started?.initiator),
    ...(state ? { waiting_for: await waitingFor(engine, record, state) } : {}),
  };
}

export type RunRow = Awaited<ReturnType<typeof runRow>>;

/** Whether the caller may decide an approval, and if not, why — the same rules the engine applies to a decision (DESIGN §3.5); the decision API stays the judge. */
export function callerMay(engine: Engine, principal: string, approval: PendingApproval, initiator: string | undefined, allowSelf: boolean) {
  const directory = directoryOf(engine);
  const mine = approval.decisions.find((d) => d.principal === principal);
  const deadline = approval.deadline === undefined ? Infinity : Date.parse(approval.deadline);
  let whyNot: string | undefined;
  let canApprove = true;
  if (engine.options.clock.now() >= deadline) whyNot = `the approval expired at ${approval.deadline}`;
  else if (eligibleRoles(principal, approval.approvers, directory).length === 0) whyNot = `you (${principal}) hold none of its approver roles: ${list(approval.approvers)}`;
  else if (mine !== undefined) whyNot = `you have already ${mine.decision === 'approve' ? 'approved' : 'rejected'} it`;
  else if (!allowSelf && initiator !== undefined && (initiator === principal || directory?.[principal]?.aliases?.includes(initiator) === true)) {
    canApprove = false;
    whyNot = `you started this run${initiator === principal ? '' : ` (as ${initiator})`} and allow_self_approval is off: you may reject it, not approve it`;
  }
  const canDecide = whyNot === undefined || !canApprove;
  return { can_decide: canDecide, can_approve: canDecide && canApprove, ...(whyNot === undefined ? {} : { why_not: whyNot }) };
}

/** Whether POST /runs/:id/retry would take the run: a top-level one that failed, rolled back or was cancelled. */
function retryable(record: RunRecord, status: string): boolean {
  return record.parentRunId === undefined && RETRYABLE_STATUSES.has(status);
}

/** The sub-flow runs each node of a run started (direct children), by node id. */
async function childrenOf(engine: Engine, runId: string) {
  return (await engine.options.store.listRuns({ parentRunId: runId })).map((child) => {
    const path = child.runId.slice(runId.length + 1);
    return { run_id: child.runId, node: /^[A-Za-z0-9_-]+/.exec(path)?.[0] ?? path, path, flow: child.flowName, status: engine.run(child.runId)?.status() ?? child.status };
  });
}

/** GET /runs/:id's additions for the UI: the journal's length, the actions offered, the sub-flow runs, each node's why, and per approval what the caller may do. */
export async function withDetails(engine: Engine, record: RunRecord, state: RunState, principal: string, view: ReturnType<typeof runView>) {
  const graph = graphOf(record);
  const children = await childrenOf(engine, record.runId);
  const byNode = new Map<string, ChildRun[]>();
  for (const c of children) byNode.set(c.node, [...(byNode.get(c.node) ?? []), { runId: c.run_id, status: c.status }]);
  const why = explainRun(graph, state, byNode);
  // The records of the runs whose approvals wait (a sub-flow run's, say), read once each.
  const records = new Map<string, RunRecord | undefined>([[record.runId, record]]);
  for (const a of view.pending_approvals) if (!records.has(a.run_id)) records.set(a.run_id, await engine.options.store.getRun(a.run_id));
  const allowSelf = (runId: string, nodeId: string) => {
    const r = records.get(runId);
    const node = r === undefined ? undefined : graphOf(r).nodes.find((n) => n.id === nodeId);
    return node?.detail.allow_self_approval === true;
  };
  const initiator = state.started?.initiator;
  const unfinished = view.status === 'running' || view.status === 'waiting';
  return {
    ...view,
    // How many journal events the state was folded from: the live stream (GET /runs/:id/events) carries on from here.
    last_seq: state.events,
    actions: unfinished ? ['cancel'] : retryable(record, view.status) ? ['retry'] : [],
    started_by: startedBy(record, initiator),
    children,
    nodes: view.nodes.map((n) => ({ ...n, ...(why.has(n.id) ? { why: why.get(n.id)! } : {}) })),
    pending_approvals: view.pending_approvals.map((a) => ({ ...a, deciders: decidersOf(engine, a.approvers), ...callerMay(engine, principal, a, initiator, allowSelf(a.run_id, a.node)) })),
  };
}
