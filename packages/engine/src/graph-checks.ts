import type { Finding } from './diagnostics.js';
import { isExpression } from './expression-text.js';
import { producibleLabels, type FlowView, type ViewEdge, type ViewNode } from './flow-view.js';
import { cycleThrough, cyclicComponents, reachableFrom } from './graph-algorithms.js';
import { Vocabulary } from './suggest.js';

/** Ids, edges, cycles, start nodes, reachability, edge labels and error handler stages. */
export function graphFindings(view: FlowView): Finding[] {
  const findings: Finding[] = [];
  const { nodes, byId, edges } = view;

  for (const node of nodes) {
    const first = byId.get(node.id)!;
    if (first !== node) {
      findings.push({
        code: 'DUPLICATE_NODE_ID',
        pointer: `/nodes/${node.index}/id`,
        message: `node id "${node.id}" is already used by node #${first.index}; ids must be unique`,
      });
    }
  }

  const { unique } = view;
  const adjacency: number[][] = unique.map(() => []);
  const possible: number[][] = unique.map(() => []);
  const indegree = new Int32Array(unique.length);
  const firstEdgeInto = new Int32Array(unique.length).fill(-1);
  const seenEdges = new Map<string, number>();
  const labelsOf = new Map<ViewNode, ReturnType<typeof producibleLabels>>();
  const labelWords = new Map<ViewNode, Vocabulary>();

  for (const edge of edges) {
    const source = byId.get(edge.from);
    const target = byId.get(edge.to);
    if (source === undefined) findings.push(danglingEdge(edge, 'from', view));
    if (target === undefined) findings.push(danglingEdge(edge, 'to', view));
    if (source === undefined || target === undefined) continue;
    const key = `${edge.from}\u0000${edge.to}\u0000${edge.condition ?? ''}`;
    const earlier = seenEdges.get(key);
    if (earlier !== undefined) {
      findings.push({
        code: 'DUPLICATE_EDGE',
        pointer: `/edges/${edge.index}`,
        message: `edge #${edge.index} (${edge.from} → ${edge.to}) repeats edge #${earlier}`,
      });
      continue;
    }
    seenEdges.set(key, edge.index);
    adjacency[source.slot]!.push(target.slot);
    indegree[target.slot]!++;
    if (firstEdgeInto[target.slot] === -1) firstEdgeInto[target.slot] = edge.index;
    if (edge.condition === undefined || isExpression(edge.condition)) {
      possible[source.slot]!.push(target.slot);
      continue;
    }
    let labels = labelsOf.get(source);
    if (labels === undefined) labelsOf.set(source, (labels = producibleLabels(source)));
    if (labels === 'any' || labels.has(edge.condition)) {
      possible[source.slot]!.push(target.slot);
      continue;
    }
    let words = labelWords.get(source);
    if (words === undefined) labelWords.set(source, (words = new Vocabulary(() => labels)));
    findings.push({
      code: 'IMPOSSIBLE_CONDITION',
      pointer: `/edges/${edge.index}/condition`,
      message: `edge #${edge.index} (${edge.from} → ${edge.to}): node "${edge.from}" (${source.type || 'unknown type'}) never produces the label "${edge.condition}"${words.didYouMean(edge.condition)}; it can produce ${listSome(labels)}, or an edge can test its output with an expression {% … %}`,
    });
  }

  for (const node of unique) {
    if ((node.type === 'webhook' || node.type === 'schedule') && indegree[node.slot]! > 0) {
      findings.push({
        code: node.type === 'webhook' ? 'WEBHOOK_NOT_START' : 'SCHEDULE_NOT_START',
        pointer: `/edges/${firstEdgeInto[node.slot]}`,
        message: `node "${node.id}" is a ${node.type}, a trigger, so no edge may lead into it`,
      });
    }
  }

  const onCycle = new Uint8Array(unique.length);
  for (const component of cyclicComponents(adjacency)) {
    for (const v of component) onCycle[v] = 1;
    const path = cycleThrough(component[0]!, component, adjacency).map((v) => unique[v]!.id);
    const closing = edges.find((e) => e.from === path[path.length - 2] && e.to === path[path.length - 1]);
    const onPath = new Set(path);
    const others = component.map((v) => unique[v]!.id).filter((id) => !onPath.has(id));
    const tangle = others.length > 0 ? ` (${others.length} more nodes are tangled in it: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})` : '';
    findings.push({
      code: 'GRAPH_CYCLE',
      pointer: closing ? `/edges/${closing.index}` : '/edges',
      message: `the edges form a cycle: ${path.join(' → ')}${tangle}. Flows are acyclic: use for_each to repeat work`,
    });
  }

  const starts = unique.map((_, v) => v).filter((v) => indegree[v] === 0);
  if (unique.length > 0 && starts.length === 0) {
    findings.push({
      code: 'NO_START_NODE',
      pointer: '/nodes',
      message: 'every node has an incoming edge, so no node can start a run; a flow needs a node with no incoming edges (usually its webhook trigger)',
    });
  } else {
    // Not push(...): a spread of 100,000 findings overflows the call stack.
    for (const finding of unreachable(unique, starts, indegree, possible, onCycle)) findings.push(finding);
  }

  for (const finding of handlerFindings(view)) findings.push(finding);
  return findings;
}

/** `"a", "b", "c"`, or the first ten and how many more: a router may have thousands of labels. */
function listSome(labels: ReadonlySet<string>): string {
  const shown: string[] = [];
  for (const label of labels) {
    if (shown.length === 10) return `${shown.join(', ')} and ${labels.size - 10} more`;
    shown.push(`"${label}"`);
  }
  return shown.join(', ');
}

function danglingEdge(edge: ViewEdge, end: 'from' | 'to', view: FlowView): Finding {
  return {
    code: 'EDGE_UNKNOWN_NODE',
    pointer: `/edges/${edge.index}/${end}`,
    message: `edge #${edge.index}: "${end}" names no node: "${edge[end]}"${view.ids.didYouMean(edge[end])}`,
  };
}

function unreachable(
  unique: FlowView['nodes'],
  starts: number[],
  indegree: Int32Array,
  possible: number[][],
  onCycle: Uint8Array,
): Finding[] {
  const triggers = starts.filter((v) => unique[v]!.type === 'webhook' || unique[v]!.type === 'schedule');
  const entries = triggers.length > 0 ? triggers : starts;
  const reached = reachableFrom(entries, possible);
  const triggerNames = triggers.map((v) => `"${unique[v]!.id}"`).join(', ');
  const findings: Finding[] = [];
  unique.forEach((node, v) => {
    if (reached[v] === 1 || onCycle[v] === 1) return;
    const why = indegree[v] === 0
      ? `it has no incoming edge, so it would start with every run alongside the trigger ${triggerNames}; add an edge into it or remove it`
      : 'every edge into it comes from a node that cannot reach it or carries a label its source never produces';
    findings.push({
      code: 'UNREACHABLE_NODE',
      pointer: `/nodes/${node.index}`,
      message: `node "${node.id}" is not reachable from ${triggers.length > 0 ? `the trigger ${triggerNames}` : 'any start node'}: ${why}`,
    });
  });
  return findings;
}

function handlerFindings(view: FlowView): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  for (const handler of view.handlers) {
    const pointer = `/error_handlers/${handler.index}/stage`;
    if (handler.stage !== '*' && !view.byId.has(handler.stage)) {
      findings.push({
        code: 'HANDLER_UNKNOWN_STAGE',
        pointer,
        message: `error handler #${handler.index}: stage "${handler.stage}" names no node${view.ids.didYouMean(handler.stage)}; use a node id, or "*" for every node`,
      });
    }
    const earlier = seen.get(handler.stage);
    if (earlier !== undefined) {
      findings.push({
        code: 'DUPLICATE_HANDLER',
        pointer,
        message: `error handler #${handler.index}: stage "${handler.stage}" already has handler #${earlier}; merge them into one`,
      });
    } else {
      seen.set(handler.stage, handler.index);
    }
  }
  return findings;
}
