// Generated flows for benchmarks: layered DAGs that look like real pipelines (agents, gates,
// functions, parallel fan-outs, waits, API calls, some expressions, retries and timeouts).

/**
 * @param {number} size  number of nodes
 * @param {{ width?: number, expressionEvery?: number }} options
 */
export function layeredFlow(size, { width = 10, expressionEvery = 10 } = {}) {
  const nodes = [{ id: 'trigger', type: 'webhook', data: { endpoint: '/hook', method: 'POST' } }];
  const edges = [];
  let previousLayer = ['trigger'];
  let layer = [];
  for (let i = 1; i < size; i++) {
    const id = `n${i}`;
    const kind = i % 7;
    const node = { id, type: 'agent', data: { agent: `agent-${i % 13}`, task: 'work' } };
    if (kind === 1) Object.assign(node, { type: 'function', data: { function: 'transform', inputs: ['a', 'b'] } });
    if (kind === 2) Object.assign(node, { type: 'conditional', data: { conditions: [{ metric: 'score', operator: '>=', value: 5 }] } });
    if (kind === 3) Object.assign(node, { type: 'parallel', data: { agents: [{ agent: 'a', task: 't' }, { agent: 'b', task: 't' }] } });
    if (kind === 4) Object.assign(node, { type: 'external_api', data: { service: 'http', action: 'post', url: 'http://x/y' } });
    if (kind === 5) Object.assign(node, { retry: { max_attempts: 3, backoff: 'exponential' }, timeout: 30 });
    if (expressionEvery > 0 && i % expressionEvery === 0 && kind !== 2 && kind !== 3) {
      node.data = { ...node.data, inputs: { score: `{% $nodes.trigger.score + ${i} %}` } };
    }
    nodes.push(node);
    const from = previousLayer[i % previousLayer.length];
    const source = nodes.find((n) => n.id === from);
    edges.push(source?.type === 'conditional' ? { from, to: id, condition: 'pass' } : { from, to: id });
    layer.push(id);
    if (layer.length === width) {
      previousLayer = layer;
      layer = [];
    }
  }
  return { name: `layered ${size}`, version: '1', nodes, edges };
}
