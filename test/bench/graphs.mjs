// The graphs every engine of the comparison runs, as Gantry flows of no-op nodes; the baseline
// and the peer adapters translate these same flows. Each shape also says how many no-op tasks one
// run executes, which each engine's run is checked against.
import { task } from './probe.mjs';

const NOOP = 'noop';

/** A chain a → b → c … of `size` nodes. */
export function chain(size) {
  const nodes = Array.from({ length: size }, (_, i) => ({ id: `n${i}`, type: NOOP, data: {} }));
  const edges = nodes.slice(1).map((n, i) => ({ from: `n${i}`, to: n.id }));
  return { flow: { name: `chain ${size}`, nodes, edges }, tasks: size };
}

/** One start node, size - 2 nodes in parallel, one join that waits for all of them. */
export function fanOutIn(size) {
  const middle = Array.from({ length: size - 2 }, (_, i) => ({ id: `m${i}`, type: NOOP, data: {} }));
  const nodes = [{ id: 'start', type: NOOP, data: {} }, ...middle, { id: 'join', type: NOOP, data: {}, join: 'all' }];
  const edges = [...middle.map((m) => ({ from: 'start', to: m.id })), ...middle.map((m) => ({ from: m.id, to: 'join' }))];
  return { flow: { name: `fan-out/fan-in ${size}`, nodes, edges }, tasks: size };
}

/** Layers of `width` nodes, each node depending on every node of the layer before (join all). */
export function layered(size, width = 10) {
  const layers = [];
  for (let i = 0; i < size; i += width) layers.push(Array.from({ length: Math.min(width, size - i) }, (_, j) => `l${i + j}`));
  const nodes = layers.flat().map((id) => ({ id, type: NOOP, data: {}, join: 'all' }));
  const edges = [];
  for (let l = 1; l < layers.length; l++) for (const to of layers[l]) for (const from of layers[l - 1]) edges.push({ from, to });
  return { flow: { name: `layered ${size}`, nodes, edges }, tasks: size };
}

/**
 * Repeated conditional diamonds: a start node, then `(size - 1) / 4` diamonds in a row, each a
 * gate (Gantry's built-in `conditional`, gate form) that tests `side` in its input, a `pass` and
 * a `fail` branch, and a join of the two (join any: the branch not taken is skipped). The node
 * before each gate says which side to take; the sides alternate, so half the diamonds go each way.
 */
export function diamonds(size) {
  const count = Math.max(1, Math.round((size - 1) / 4));
  const nodes = [{ id: 's', type: NOOP, data: { side: 1 } }];
  const edges = [];
  let previous = 's';
  for (let k = 0; k < count; k++) {
    nodes.push(
      { id: `g${k}`, type: 'conditional', data: { conditions: [{ metric: 'side', operator: '==', value: 1 }] } },
      { id: `a${k}`, type: NOOP, data: {} },
      { id: `b${k}`, type: NOOP, data: {} },
      { id: `j${k}`, type: NOOP, data: { side: (k + 1) % 2 } },
    );
    edges.push(
      { from: previous, to: `g${k}` },
      { from: `g${k}`, to: `a${k}`, condition: 'pass' },
      { from: `g${k}`, to: `b${k}`, condition: 'fail' },
      { from: `a${k}`, to: `j${k}` },
      { from: `b${k}`, to: `j${k}` },
    );
    previous = `j${k}`;
  }
  // Tasks run: the start, then one branch and the join of each diamond (the gates are not tasks).
  return { flow: { name: `diamonds ${nodes.length}`, nodes, edges }, tasks: 1 + 2 * count };
}

/** The output of a no-op node: its `side` when it has one (the node before a gate), else nothing. */
export function noopOutput(data) {
  return data.side === undefined ? {} : { side: data.side };
}

/** Gantry's executor for every no-op node. */
export const noopExecutor = {
  type: NOOP,
  async run(ctx, data) {
    task(ctx.nodeId);
    return { output: noopOutput(data) };
  },
};

/** A flow's nodes by id and its edges in and out of each node, for the peers' translations. */
export function adjacency(flow) {
  const byId = new Map(flow.nodes.map((n) => [n.id, n]));
  const incoming = new Map(flow.nodes.map((n) => [n.id, []]));
  const outgoing = new Map(flow.nodes.map((n) => [n.id, []]));
  for (const e of flow.edges) {
    incoming.get(e.to).push(e);
    outgoing.get(e.from).push(e);
  }
  return { byId, incoming, outgoing };
}
