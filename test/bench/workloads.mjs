// The workloads of the comparison, and the engines that run them.
import { chain, diamonds, fanOutIn, layered, routing } from './graphs.mjs';

export const SHAPES = { chain, fanOutIn, layered, diamonds, routing };

/** The engines, in the table's order (n8n is optional: run.mjs leaves it out when test/bench/n8n is not installed). */
export const ENGINES = ['baseline', 'gantry-memory', 'gantry-sqlite', 'node-red', 'bpmn', 'n8n'];
export const ENGINE_NAMES = { baseline: 'baseline', 'gantry-memory': 'Gantry memory', 'gantry-sqlite': 'Gantry SQLite', 'node-red': 'Node-RED', bpmn: 'bpmn-engine', n8n: 'n8n' };

/** Runs carried at once in the throughput workload. */
export const IN_FLIGHT = 100;

/** The size of the routing workloads: 500 diamonds. */
export const ROUTING_SIZE = 2_001;

/**
 * The engines that do not run the routing workloads, and why: they never finish diamonds of
 * 1,001 nodes (BENCHMARKS.md §8), so their adapters do not translate expression edges.
 */
export const ROUTING_LEFT_OUT = { bpmn: 'not run: it never finishes diamonds of 1,001', n8n: 'not run: it never finishes diamonds of 1,001' };

/**
 * @param {boolean} quick  graphs of 1,000 nodes only
 * @returns {{ key: string, shape: string, size: number, mode: 'graph'|'sequential'|'in-flight' }[]}
 */
export function workloads(quick) {
  const sizes = quick ? [1_000] : [100, 1_000, 10_000];
  const list = [];
  for (const shape of ['chain', 'fanOutIn', 'layered', 'diamonds']) {
    for (const size of sizes) list.push({ key: `${shape}-${size}`, shape, size: shape === 'diamonds' ? size + 1 : size, mode: 'graph' });
  }
  list.push({ key: 'runs-sequential', shape: 'chain', size: 10, mode: 'sequential' });
  list.push({ key: 'runs-in-flight', shape: 'chain', size: 10, mode: 'in-flight' });
  // Routing, by expression edges on custom nodes and by the built-in gate (the same diamonds).
  list.push({ key: 'routing-expressions', shape: 'routing', size: ROUTING_SIZE, mode: 'graph' });
  list.push({ key: 'routing-gate', shape: 'diamonds', size: ROUTING_SIZE, mode: 'graph' });
  return list;
}

export function label(workload) {
  const n = workload.size.toLocaleString('en');
  if (workload.mode === 'sequential') return `10-node chain, one run at a time`;
  if (workload.mode === 'in-flight') return `10-node chain, ${IN_FLIGHT} runs in flight`;
  if (workload.key === 'routing-expressions') return `routing ${n}: expression edges`;
  if (workload.key === 'routing-gate') return `routing ${n}: built-in gate`;
  return { chain: `chain ${n}`, fanOutIn: `fan-out/fan-in ${n}`, layered: `layered ${n} (width 10)`, diamonds: `diamonds ${n}` }[workload.shape];
}
