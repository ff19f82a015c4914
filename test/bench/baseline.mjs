// The hand-written baseline: what a programmer writes to run the same graph without an engine.
// It reads the same flow (nodes, edges, join rules, gates), is prepared once per graph like a
// compiled flow, and per node does what any orchestrator of a graph must do: wait until every
// predecessor has ended, merge the outputs of the predecessors whose edge was taken (in edge
// order), make one async call (the same no-op task the engines run; a gate compares its metric),
// keep the output, choose the outgoing edges (a gate's pass or fail; an edge conditioned by
// `{% field = 'value' %}` by comparing the output's field), and skip a node none of
// whose incoming edges was taken (or, for join all, not every one), so that skips propagate.
// It keeps no history, no events, no retries, no timeouts: that is the engines' added value, and
// the cost this baseline makes visible.
import { noopOutput, routeTest } from './graphs.mjs';
import { task } from './probe.mjs';

/** Prepares a flow for repeated runs: indexes, predecessor and successor lists. */
export function prepareBaseline(flow) {
  const index = new Map(flow.nodes.map((n, i) => [n.id, i]));
  const nodes = flow.nodes.map((n) => ({
    id: n.id,
    data: n.data,
    gate: n.type === 'conditional' ? n.data.conditions[0] : undefined,
    all: n.join === 'all',
    incoming: [],
    outgoing: [],
  }));
  flow.edges.forEach((e, i) => {
    const test = routeTest(e.condition);
    const edge = { index: i, from: index.get(e.from), to: index.get(e.to), label: test === undefined ? e.condition : undefined, test };
    nodes[edge.from].outgoing.push(edge);
    nodes[edge.to].incoming.push(edge);
  });
  return { nodes, edgeCount: flow.edges.length, starts: nodes.flatMap((n, i) => (n.incoming.length === 0 ? [i] : [])) };
}

/** One async step: a gate compares, any other node is the no-op task. */
async function step(node, input) {
  if (node.gate !== undefined) return { output: input, label: input[node.gate.metric] === node.gate.value ? 'pass' : 'fail' };
  task(node.id);
  return { output: noopOutput(node.data), label: undefined };
}

/** Runs the prepared graph once; resolves with every node's output (undefined if skipped). */
export function runBaseline(graph) {
  return new Promise((resolve, reject) => {
    const { nodes } = graph;
    const waiting = new Int32Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) waiting[i] = nodes[i].incoming.length;
    const taken = new Uint8Array(graph.edgeCount);
    const outputs = new Array(nodes.length);
    let open = nodes.length;

    /** Node i has ended (ran: it was not skipped): its edges are decided, its successors may be ready. */
    const ended = (i, ran, label) => {
      for (const edge of nodes[i].outgoing) {
        const test = edge.test;
        if (ran && (test === undefined ? edge.label === undefined || edge.label === label : outputs[i][test.field] === test.value)) taken[edge.index] = 1;
        if (--waiting[edge.to] === 0) ready(edge.to);
      }
      if (--open === 0) resolve(outputs);
    };

    const ready = (i) => {
      const node = nodes[i];
      const input = {};
      let count = 0;
      for (const edge of node.incoming) {
        if (taken[edge.index] === 1) {
          count++;
          Object.assign(input, outputs[edge.from]);
        }
      }
      const runs = node.incoming.length === 0 || (node.all ? count === node.incoming.length : count > 0);
      if (!runs) return ended(i, false, undefined);
      step(node, input).then((result) => {
        outputs[i] = result.output;
        ended(i, true, result.label);
      }, reject);
    };

    for (const i of graph.starts) ready(i);
  });
}
