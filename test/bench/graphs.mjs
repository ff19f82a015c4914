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

const ROUTE_A = "{% route = 'a' %}";
const ROUTE_B = "{% route = 'b' %}";

/**
 * Diamonds routed by expressions: the same shape as {@link diamonds}, a start node and
 * `(size - 1) / 4` diamonds in a row, but where a diamond had a gate it has a custom node (the
 * no-op) that outputs `route`, and its two outgoing edges are conditioned by expressions over
 * that output, `{% route = 'a' %}` and `{% route = 'b' %}`. Routes alternate, so half the
 * diamonds go each way.
 */
export function routing(size) {
  const count = Math.max(1, Math.round((size - 1) / 4));
  const nodes = [{ id: 's', type: NOOP, data: {} }];
  const edges = [];
  let previous = 's';
  for (let k = 0; k < count; k++) {
    nodes.push(
      { id: `r${k}`, type: NOOP, data: { route: k % 2 === 0 ? 'a' : 'b' } },
      { id: `a${k}`, type: NOOP, data: {} },
      { id: `b${k}`, type: NOOP, data: {} },
      { id: `j${k}`, type: NOOP, data: {} },
    );
    edges.push(
      { from: previous, to: `r${k}` },
      { from: `r${k}`, to: `a${k}`, condition: ROUTE_A },
      { from: `r${k}`, to: `b${k}`, condition: ROUTE_B },
      { from: `a${k}`, to: `j${k}` },
      { from: `b${k}`, to: `j${k}` },
    );
    previous = `j${k}`;
  }
  // Tasks run: the start, then the router, one branch and the join of each diamond.
  return { flow: { name: `routing ${nodes.length}`, nodes, edges }, tasks: 1 + 3 * count };
}

/**
 * The test of an edge condition of the one form the peers translate, `{% field = 'value' %}`:
 * `{ field, value }`; undefined for a label or no condition.
 */
export function routeTest(condition) {
  if (condition === undefined || !condition.startsWith('{%')) return undefined;
  const match = /^\{% ([A-Za-z_]\w*) = '([^']*)' %\}$/.exec(condition);
  if (match === null) throw new Error(`bench: only an edge condition "{% field = 'value' %}" is translated for the peers, got ${condition}`);
  return { field: match[1], value: match[2] };
}

/** The output of a no-op node: its `side` (the node before a gate) or its `route` (a router) when it has one, else nothing. */
export function noopOutput(data) {
  if (data.side !== undefined) return { side: data.side };
  return data.route === undefined ? {} : { route: data.route };
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
