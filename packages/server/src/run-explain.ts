import type { NodeState, RunState } from '@gantry/engine';
import type { GraphEdge, GraphNode, RunGraph } from './run-graph.js';

/**
 * Why each node of a run is where it is, in words, from the join and skip rules of DESIGN §3.2
 * and §3.3 applied to the flow and the run's state: "skipped: its only incoming edge, from
 * quality_gate, is labelled fail and the gate passed". The one place the web UI's explanations
 * come from; when the engine exports its own frontier (what waits on what), this module reads it
 * instead of looking at the predecessors itself.
 */

/** A sub-flow run a node started, as explanations name it. */
export interface ChildRun {
  readonly runId: string;
  readonly status: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'skipped']);

/** "a, b and c" */
export const list = (items: readonly string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function statusWords(n: NodeState | undefined): string {
  if (n === undefined || n.status === 'pending') return 'not started';
  return n.status;
}

/** The gate's outcome or the router's choice, from the labels a conditional succeeded with. */
function choiceOf(source: GraphNode, n: NodeState): string {
  const labels = n.labels ?? [];
  if (source.type === 'conditional' && source.detail.form === 'gate') return labels.includes('fail') ? 'the gate failed' : 'the gate passed';
  return labels.length === 0 ? 'the router chose nothing' : `the router chose ${list(labels)}`;
}

/** Why an edge out of a node that has ended was not taken. */
export function whyNotTaken(edge: GraphEdge, source: GraphNode | undefined, n: NodeState | undefined): string {
  const from = edge.from;
  if (n === undefined || !TERMINAL.has(n.status)) return `${from} has not ended`;
  if (n.status === 'skipped') return `${from} was skipped, and a skipped node takes none of its edges`;
  const condition = edge.condition;
  if (n.status === 'failed') return condition === 'error' ? `${from} failed, yet its error edge was not taken` : `${from} failed, which takes only error edges`;
  if (condition === undefined) {
    // An unconditioned edge of a router to a node named by a `then` is that label's edge.
    return source?.type === 'conditional' ? `the router did not choose ${edge.to} (${choiceOf(source, n)})` : `${from} took none of its edges`;
  }
  if (condition === 'error') return `it is taken only when ${from} fails, and ${from} succeeded`;
  if (condition.startsWith('{%')) return `its condition ${condition} was false for ${from}'s output`;
  if (source?.type === 'conditional') {
    if (condition === 'default') return `default is taken only when no route matches, and ${choiceOf(source, n)}`;
    return `${choiceOf(source, n)}`;
  }
  return `${from} did not select ${condition}`;
}

function edgeName(edge: GraphEdge): string {
  const label = edge.condition === undefined ? '' : edge.condition.startsWith('{%') ? ' (conditional)' : ` (labelled ${edge.condition})`;
  return `the edge from ${edge.from}${label}`;
}

function whySkipped(node: GraphNode, graph: RunGraph, state: RunState, n: NodeState): string {
  if (n.skipReason === 'when') return `skipped: its condition ${node.when ?? '(when)'} was false`;
  if (n.skipReason === 'aborted') return `skipped: the run stopped before it was reached (${runEnd(state)})`;
  const incoming = graph.edges.filter((e) => e.to === node.id);
  const byId = new Map(graph.nodes.map((g) => [g.id, g]));
  const reason = (e: GraphEdge) => {
    const source = byId.get(e.from);
    const sourceState = state.nodes.get(e.from);
    const label = e.condition !== undefined && !e.condition.startsWith('{%') && e.condition !== 'error' && e.condition !== 'default' ? e.condition : undefined;
    // "labelled fail and the gate passed": a conditional's label says it all.
    if (label !== undefined && source?.type === 'conditional' && sourceState?.status === 'succeeded') return { label, text: choiceOf(source, sourceState) };
    return { label: undefined, text: whyNotTaken(e, source, sourceState) };
  };
  if (incoming.length === 1) {
    const e = incoming[0]!;
    const r = reason(e);
    return r.label !== undefined
      ? `skipped: its only incoming edge, from ${e.from}, is labelled ${r.label} and ${r.text}`
      : `skipped: its only incoming edge, from ${e.from}, was not taken: ${r.text}`;
  }
  const reasons = incoming
    .filter((e) => !state.takenEdges.has(e.index))
    .map((e) => {
      const r = reason(e);
      return r.label !== undefined ? `${edgeName(e)} and ${r.text}` : `${edgeName(e)}: ${r.text}`;
    });
  if (node.join === 'all') return `skipped: join "all" needs all ${incoming.length} incoming edges taken, and ${reasons.length === 1 ? 'one was not' : `${reasons.length} were not`}: ${reasons.join('; ')}`;
  return `skipped: none of its ${incoming.length} incoming edges was taken: ${reasons.join('; ')}`;
}

function runEnd(state: RunState): string {
  const failed = [...state.nodes].find(([, n]) => n.status === 'failed' && (n.taken?.length ?? 0) === 0);
  switch (state.status) {
    case 'cancelled':
      return 'the run was cancelled';
    case 'rolled_back':
      return failed ? `${failed[0]} failed and the run was rolled back` : 'the run was rolled back';
    case 'blocked':
      return 'the deployment was blocked';
    case 'failed':
      return failed ? `${failed[0]} failed` : 'the run failed';
    default:
      return failed ? `${failed[0]} failed` : `the run is ${state.status}`;
  }
}

function whyPending(node: GraphNode, graph: RunGraph, state: RunState): string {
  if (state.finishedAt !== undefined) return `not reached: the run ended ${state.status}`;
  const incoming = graph.edges.filter((e) => e.to === node.id);
  if (incoming.length === 0) return 'a start node: it starts with the run';
  const open = incoming.filter((e) => !TERMINAL.has(state.nodes.get(e.from)?.status ?? 'pending'));
  if (open.length === 0) return 'its predecessors have ended: it is about to be decided';
  const names = [...new Set(open.map((e) => `${e.from} (${statusWords(state.nodes.get(e.from))})`))];
  const rule = node.join === 'all' ? 'it runs if every incoming edge is taken' : incoming.length > 1 ? 'it runs if any incoming edge is taken' : '';
  return `waits for its predecessor${names.length === 1 ? '' : 's'} ${list(names)}${rule ? `; ${rule}` : ''}`;
}

function whyWaiting(node: GraphNode, state: RunState, n: NodeState, children: readonly ChildRun[]): string {
  if (n.waitingOn?.kind === 'approval' && n.approval !== undefined) {
    const { approvers, required } = n.approval;
    const decisions = n.decisions ?? [];
    const so = decisions.length === 0 ? 'none so far' : decisions.map((d) => `${d.principal} ${d.decision === 'approve' ? 'approved' : 'rejected'}`).join(', ');
    const needed = required >= approvers.length && approvers.length > 1 ? `each of ${list(approvers)} must approve` : `${plural(required, 'approval')} needed from ${list(approvers)}`;
    return `waits for a human decision: ${needed} (${so})`;
  }
  if (n.waitingOn?.kind === 'timer') return node.type === 'wait' ? 'waits for its timer' : 'waits for a timer';
  return whyRunning(node, state, n, children);
}

/** The retry timer a node waits on between two attempts, if any. */
export function retryTimer(state: RunState, nodeId: string): { fireAt: number; attempt: number } | undefined {
  for (const timer of state.timers.values()) if (timer.nodeId === nodeId && timer.purpose === 'retry' && timer.item === undefined) return timer;
  return undefined;
}

function whyRunning(node: GraphNode, state: RunState, n: NodeState, children: readonly ChildRun[]): string {
  const of = node.max_attempts > 1 ? ` of ${node.max_attempts}` : '';
  const failure = n.error === undefined ? '' : `${n.error.code}: ${n.error.message}`;
  const retry = retryTimer(state, node.id);
  if (retry !== undefined) return `retrying: attempt ${retry.attempt}${of} failed (${failure}); attempt ${retry.attempt + 1}${of} starts when its backoff ends`;
  const live = children.filter((c) => c.status === 'running' || c.status === 'waiting');
  if (live.length > 0) {
    const sub = live.map((c) => `${c.runId} (${c.status === 'waiting' ? 'waiting for a timer or a decision' : 'running'})`);
    return `runs its sub-flow ${live.length === 1 ? 'run' : 'runs'} ${list(sub)}`;
  }
  if (n.itemAttempts !== undefined) return `running: ${n.items?.size ?? 0} of its items done, ${n.itemAttempts.size} started`;
  const earlier = n.attempt > 1 && failure ? `; attempt ${n.attempt - 1} failed (${failure})` : '';
  return `running, attempt ${n.attempt}${of}${earlier}`;
}

function whyEnded(node: GraphNode, graph: RunGraph, state: RunState, n: NodeState): string {
  const out = graph.edges.filter((e) => e.from === node.id);
  const taken = out.filter((e) => state.takenEdges.has(e.index)).map((e) => e.to);
  const attempts = n.attempt > 1 ? ` after ${n.attempt} attempts` : '';
  let text: string;
  if (n.status === 'failed') {
    text = `failed${attempts}: ${n.error?.code ?? 'ERROR'}: ${n.error?.message ?? ''}`.trimEnd();
    if (taken.length > 0) text += `; its error edge to ${list(taken)} was taken`;
    else {
      const handler = graph.error_handlers.find((h) => h.stage === node.id) ?? graph.error_handlers.find((h) => h.stage === '*');
      text += handler ? `; the error handler ${handler.stage === '*' ? 'for every stage' : `for ${node.id}`} acted: ${handler.action}` : '; no error handler: the run failed';
    }
  } else {
    const choice = node.type === 'conditional' ? `${choiceOf(node, n).replace(/^the (gate|router)/, 'it')}; ` : '';
    text = `succeeded${attempts}; ${choice}${taken.length > 0 ? `took the edge${taken.length === 1 ? '' : 's'} to ${list(taken)}` : out.length > 0 ? 'took none of its edges' : 'it has no outgoing edge'}`;
  }
  if (n.compensation === 'succeeded') text += '; then undone by its compensation';
  else if (n.compensation === 'running') text += '; its compensation is running';
  else if (n.compensation === 'failed') text += '; its compensation failed';
  return text;
}

/** One sentence per node of the graph: why it was skipped, what it waits for, how it ended. */
export function explainRun(graph: RunGraph, state: RunState, children: ReadonlyMap<string, readonly ChildRun[]> = new Map()): Map<string, string> {
  const why = new Map<string, string>();
  for (const node of graph.nodes) {
    const n = state.nodes.get(node.id);
    const kids = children.get(node.id) ?? [];
    if (n === undefined || n.status === 'pending') why.set(node.id, whyPending(node, graph, state));
    else if (n.status === 'skipped') why.set(node.id, whySkipped(node, graph, state, n));
    else if (n.status === 'waiting') why.set(node.id, whyWaiting(node, state, n, kids));
    else if (n.status === 'running') why.set(node.id, whyRunning(node, state, n, kids));
    else why.set(node.id, whyEnded(node, graph, state, n));
  }
  return why;
}
