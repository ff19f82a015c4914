import type { CompiledFlow, CompiledNode } from '../compile.js';
import { resolveRetry, type ResolvedRetry } from './backoff.js';
import { holdsExpression } from './expressions.js';
import { hasFailEdge } from './rules.js';
import type { RunStartedEvent } from './events.js';

/** What the scheduler needs to know of a node on every run, worked out once per compiled node. */
export interface NodePlan {
  readonly node: CompiledNode;
  /** Its data holds `{% … %}` somewhere, so it is resolved before each attempt. */
  readonly dynamicData: boolean;
  /** Some outgoing edge's condition is an expression, evaluated against the output. */
  readonly expressionEdges: boolean;
  /** Nothing to do between the executor's result and the journal: no output mapping, no for_each. */
  readonly plainResult: boolean;
  readonly hasFailEdge: boolean;
  readonly retry: ResolvedRetry;
  /** The target of each outgoing edge, in the order of `node.outgoing`. */
  readonly targets: readonly CompiledNode[];
  /** When every outgoing edge is taken on success whatever the result (no labels, no expressions), those edges. */
  readonly alwaysTaken: readonly number[] | undefined;
}

export interface FlowPlan {
  readonly nodes: ReadonlyMap<string, NodePlan>;
  /** Plans by node index. */
  readonly byIndex: readonly NodePlan[];
  /** Incoming edge counts by node index: each run starts from a copy. */
  readonly indegrees: readonly number[];
  /** A zero per node: each run's count of taken incoming edges starts from a copy. */
  readonly zeros: readonly number[];
  readonly sinks: readonly CompiledNode[];
  /** Some error handler blocks the deployment (so a finished run looks for such failures). */
  readonly blockingHandlers: boolean;
  readonly startNodes: readonly CompiledNode[];
  /** Edge index → its target's node index. */
  readonly edgeTarget: Int32Array;
  /** The flow as every run.started event names it. */
  readonly flowRef: RunStartedEvent['flow'];
}

const plans = new WeakMap<CompiledFlow, FlowPlan>();

export function planOf(flow: CompiledFlow): FlowPlan {
  let plan = plans.get(flow);
  if (plan !== undefined) return plan;
  const nodes = new Map<string, NodePlan>();
  const byIndex: NodePlan[] = [];
  const indegrees = zeros(flow.nodes.size);
  for (const node of flow.nodes.values()) {
    const def = node.definition;
    const nodePlan: NodePlan = Object.freeze({
      node,
      dynamicData: holdsExpression(def.data),
      expressionEdges: node.outgoing.some((e) => e.condition.kind === 'expression'),
      plainResult: def.output === undefined && def.for_each === undefined,
      hasFailEdge: hasFailEdge(node),
      retry: resolveRetry(def.retry),
      targets: node.outgoing.map((e) => flow.nodes.get(e.to)!),
      alwaysTaken:
        node.type !== 'conditional' && node.outgoing.every((e) => e.condition.kind === 'always') ? Object.freeze(node.outgoing.map((e) => e.index)) : undefined,
    });
    nodes.set(node.id, nodePlan);
    byIndex[node.index] = nodePlan;
    indegrees[node.index] = node.incoming.length;
  }
  plan = Object.freeze({
    nodes,
    byIndex,
    indegrees,
    zeros: zeros(flow.nodes.size),
    sinks: [...flow.nodes.values()].filter((n) => n.outgoing.length === 0),
    blockingHandlers: (flow.definition.error_handlers ?? []).some((h) => h.action === 'block_deployment'),
    startNodes: flow.startNodes.map((id) => flow.nodes.get(id)!),
    edgeTarget: Int32Array.from(flow.edges, (e) => flow.nodes.get(e.to)!.index),
    flowRef: Object.freeze({ name: flow.name, hash: flow.hash, ...(flow.version ? { version: flow.version } : {}), ...(flow.path ? { source: flow.path } : {}) }),
  });
  plans.set(flow, plan);
  return plan;
}

/** `n` zeros in a packed array of small integers (`new Array(n).fill(0)` makes a holey one, slower to read). */
function zeros(n: number): number[] {
  const array: number[] = [];
  for (let i = 0; i < n; i++) array.push(0);
  return array;
}
