// The shapes the orchestration benchmark runs, as flows of no-op nodes and as plain async code.

const NOOP = 'noop';

/** A chain a → b → c … of `size` nodes. */
export function chain(size) {
  const nodes = Array.from({ length: size }, (_, i) => ({ id: `n${i}`, type: NOOP, data: {} }));
  const edges = nodes.slice(1).map((n, i) => ({ from: `n${i}`, to: n.id }));
  return { flow: { name: `chain ${size}`, nodes, edges }, layers: nodes.map((n) => [n.id]) };
}

/** One start node, size - 2 nodes in parallel, one join. */
export function fanOutIn(size) {
  const middle = Array.from({ length: size - 2 }, (_, i) => ({ id: `m${i}`, type: NOOP, data: {} }));
  const nodes = [{ id: 'start', type: NOOP, data: {} }, ...middle, { id: 'join', type: NOOP, data: {}, join: 'all' }];
  const edges = [...middle.map((m) => ({ from: 'start', to: m.id })), ...middle.map((m) => ({ from: m.id, to: 'join' }))];
  return { flow: { name: `fan-out/fan-in ${size}`, nodes, edges }, layers: [['start'], middle.map((m) => m.id), ['join']] };
}

/** Layers of `width` nodes, each node depending on every node of the layer before. */
export function layered(size, width = 10) {
  const layers = [];
  for (let i = 0; i < size; i += width) layers.push(Array.from({ length: Math.min(width, size - i) }, (_, j) => `l${i + j}`));
  const nodes = layers.flat().map((id) => ({ id, type: NOOP, data: {}, join: 'all' }));
  const edges = [];
  for (let l = 1; l < layers.length; l++) for (const to of layers[l]) for (const from of layers[l - 1]) edges.push({ from, to });
  return { flow: { name: `layered ${size}`, nodes, edges }, layers };
}

/** The executor every benchmark node runs: no work at all. */
export const noopExecutor = {
  type: NOOP,
  async run() {
    return { output: {} };
  },
};

/**
 * The hand-written baseline: the same graph as plain async functions awaited in dependency
 * order, Promise.all per layer, each step handed its predecessors' merged outputs.
 */
export async function baseline(layers) {
  const step = async (input) => ({ ...input });
  let previous = [{}];
  for (const layer of layers) {
    const input = Object.assign({}, ...previous);
    previous = layer.length === 1 ? [await step(input)] : await Promise.all(layer.map(() => step(input)));
  }
  return previous;
}
