import { createHash } from 'node:crypto';
import { Graph } from '@dagrejs/graphlib';
import { GantryError } from './errors.js';
import { isExpression } from './expression-text.js';
import type { ParsedExpression } from './expression-checks.js';
import type { ErrorHandler, FlowDocument, FlowNode, NodeType, ParamSpec } from './flow-types.js';
import { topologicalOrder } from './graph-algorithms.js';
import type { CheckedFlow } from './validate.js';

/** How an edge decides whether it is taken (DESIGN §3.3). */
export type EdgeCondition =
  | { readonly kind: 'always' }
  | { readonly kind: 'label'; readonly label: string }
  | { readonly kind: 'expression'; readonly text: string };

export interface CompiledEdge {
  /** Position in the flow's `edges`, which also orders the merge of inputs (§3.1). */
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly condition: EdgeCondition;
}

export interface CompiledNode {
  readonly id: string;
  readonly type: NodeType;
  /** Position in the flow's `nodes`. */
  readonly index: number;
  readonly definition: Readonly<FlowNode>;
  readonly join: 'any' | 'all';
  /** Incoming edges in the order the flow lists them. */
  readonly incoming: readonly CompiledEdge[];
  readonly outgoing: readonly CompiledEdge[];
  /** The error handler for this node: its own stage, else `*`. */
  readonly handler: Readonly<ErrorHandler> | undefined;
}

/** The read-only part of graphlib's `Graph` that a compiled flow exposes. */
export type ReadonlyGraph = Pick<
  Graph<string, CompiledNode, CompiledEdge>,
  | 'isDirected'
  | 'isMultigraph'
  | 'nodeCount'
  | 'edgeCount'
  | 'nodes'
  | 'edges'
  | 'node'
  | 'edge'
  | 'hasNode'
  | 'hasEdge'
  | 'sources'
  | 'sinks'
  | 'successors'
  | 'predecessors'
  | 'inEdges'
  | 'outEdges'
  | 'nodeEdges'
>;

/** An immutable, validated flow, ready to be scheduled. */
export interface CompiledFlow {
  readonly name: string;
  readonly description: string | undefined;
  readonly version: string | undefined;
  /** sha256 of the flow's text (or of its JSON when built in code): the version a run keeps. */
  readonly hash: string;
  readonly definition: Readonly<FlowDocument>;
  readonly params: Readonly<Record<string, Readonly<ParamSpec>>>;
  /** Nodes by id, in the flow's order. */
  readonly nodes: ReadonlyMap<string, CompiledNode>;
  readonly edges: readonly CompiledEdge[];
  /** Every node id, predecessors before successors. */
  readonly order: readonly string[];
  /** Nodes with no incoming edges. */
  readonly startNodes: readonly string[];
  /** The graph as graphlib sees it: node labels are compiled nodes, edges are named by index. */
  readonly graph: ReadonlyGraph;
  /** The parsed form of an expression string of this flow (parsed once, at validation). */
  expression(text: string): ParsedExpression | undefined;
}

const GRAPH_MUTATORS = [
  'setGraph',
  'setDefaultNodeLabel',
  'setDefaultEdgeLabel',
  'setNodes',
  'setNode',
  'removeNode',
  'setParent',
  'filterNodes',
  'setPath',
  'setEdge',
  'removeEdge',
] as const;

/** Compiles a flow that validation accepted. */
export function compileChecked(checked: CheckedFlow, text: string | undefined): CompiledFlow {
  const document = checked.document;
  if (!checked.ok || document === undefined) {
    throw new GantryError('INTERNAL', 'compileChecked was given a flow that did not validate');
  }
  deepFreeze(document);
  const handlers = new Map<string, ErrorHandler>();
  for (const handler of document.error_handlers ?? []) handlers.set(handler.stage, handler);
  const anyHandler = handlers.get('*');

  const edges: CompiledEdge[] = (document.edges ?? []).map((edge, index) =>
    Object.freeze({ index, from: edge.from, to: edge.to, condition: conditionOf(edge.condition) }),
  );
  const incoming = new Map<string, CompiledEdge[]>();
  const outgoing = new Map<string, CompiledEdge[]>();
  for (const node of document.nodes) {
    incoming.set(node.id, []);
    outgoing.set(node.id, []);
  }
  for (const edge of edges) {
    outgoing.get(edge.from)!.push(edge);
    incoming.get(edge.to)!.push(edge);
  }

  const nodes = new Map<string, CompiledNode>();
  const graph = new Graph<string, CompiledNode, CompiledEdge>({ directed: true, multigraph: true });
  graph.setGraph(document.name);
  document.nodes.forEach((definition, index) => {
    const node: CompiledNode = Object.freeze({
      id: definition.id,
      type: definition.type,
      index,
      definition,
      join: definition.join ?? 'any',
      incoming: Object.freeze(incoming.get(definition.id)!),
      outgoing: Object.freeze(outgoing.get(definition.id)!),
      handler: handlers.get(definition.id) ?? anyHandler,
    });
    nodes.set(node.id, node);
    graph.setNode(node.id, node);
  });
  for (const edge of edges) graph.setEdge(edge.from, edge.to, edge, String(edge.index));

  const ids = document.nodes.map((n) => n.id);
  const slot = new Map(ids.map((id, i) => [id, i]));
  const order = topologicalOrder(ids.map((id) => outgoing.get(id)!.map((e) => slot.get(e.to)!)));
  if (order === undefined) throw new GantryError('GRAPH_CYCLE', 'the flow has a cycle (validation should have refused it)');

  for (const method of GRAPH_MUTATORS) {
    Object.defineProperty(graph, method, {
      value: () => {
        throw new GantryError('FLOW_IMMUTABLE', `a compiled flow's graph is read-only (${method} was called)`);
      },
    });
  }
  Object.freeze(graph);

  const expressions = checked.expressions;
  return Object.freeze({
    name: document.name,
    description: document.description,
    version: document.version,
    hash: createHash('sha256').update(text ?? JSON.stringify(document)).digest('hex'),
    definition: document,
    params: document.params ?? Object.freeze({}),
    nodes: readonlyMap(nodes),
    edges: Object.freeze(edges),
    order: Object.freeze(order.map((i) => ids[i]!)),
    startNodes: Object.freeze(ids.filter((id) => incoming.get(id)!.length === 0)),
    graph: graph as ReadonlyGraph,
    expression: (text: string) => expressions.get(text),
  });
}

function conditionOf(condition: string | undefined): EdgeCondition {
  if (condition === undefined) return { kind: 'always' };
  if (isExpression(condition)) return { kind: 'expression', text: condition };
  return { kind: 'label', label: condition };
}

/** A Map whose mutators throw, so the read-only type holds at run time too. */
function readonlyMap<K, V>(map: Map<K, V>): ReadonlyMap<K, V> {
  for (const method of ['set', 'delete', 'clear'] as const) {
    Object.defineProperty(map, method, {
      value: () => {
        throw new GantryError('FLOW_IMMUTABLE', `a compiled flow's nodes are read-only (${method} was called)`);
      },
    });
  }
  return Object.freeze(map);
}

function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null || Object.isFrozen(item)) continue;
    Object.freeze(item);
    for (const key in item) stack.push((item as Record<string, unknown>)[key]);
  }
  return value;
}
