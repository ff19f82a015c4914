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
  /** sha256 of the flow's text (of its JSON when built in code): the version a run keeps. */
  readonly hash: string;
  readonly definition: Readonly<FlowDocument>;
  /** The file it was loaded from (absolute), which sub-flow references are relative to. */
  readonly path: string | undefined;
  /** The flow's text exactly as loaded, kept with a run so that it resumes on this version. */
  readonly text: string;
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
export function compileChecked(checked: CheckedFlow, text: string, path?: string): CompiledFlow {
  const document = checked.document;
  if (!checked.ok || document === undefined) {
    throw new GantryError('INTERNAL', 'compileChecked was given a flow that did not validate');
  }
  deepFreeze(document);
  const handlers = new Map<string, ErrorHandler>();
  for (const handler of document.error_handlers ?? []) handlers.set(handler.stage, handler);
  const anyHandler = handlers.get('*');

  // A valid flow's ids are unique, so a node's position in `nodes` is its number here.
  const position = new Map<string, number>();
  document.nodes.forEach((node, i) => position.set(node.id, i));
  const incoming: CompiledEdge[][] = document.nodes.map(() => []);
  const outgoing: CompiledEdge[][] = document.nodes.map(() => []);
  const successors: number[][] = document.nodes.map(() => []);
  const edges = (document.edges ?? []).map((edge, index) => {
    const compiled: CompiledEdge = Object.freeze({ index, from: edge.from, to: edge.to, condition: conditionOf(edge.condition) });
    const from = position.get(edge.from)!;
    const to = position.get(edge.to)!;
    outgoing[from]!.push(compiled);
    incoming[to]!.push(compiled);
    successors[from]!.push(to);
    return compiled;
  });

  const nodes = new Map<string, CompiledNode>();
  const startNodes: string[] = [];
  document.nodes.forEach((definition, index) => {
    if (incoming[index]!.length === 0) startNodes.push(definition.id);
    nodes.set(
      definition.id,
      Object.freeze({
        id: definition.id,
        type: definition.type,
        index,
        definition,
        join: definition.join ?? 'any',
        incoming: Object.freeze(incoming[index]!),
        outgoing: Object.freeze(outgoing[index]!),
        handler: handlers.get(definition.id) ?? anyHandler,
      }),
    );
  });

  const order = topologicalOrder(successors);
  if (order === undefined) throw new GantryError('GRAPH_CYCLE', 'the flow has a cycle (validation should have refused it)');

  const expressions = checked.expressions;
  let graph: ReadonlyGraph | undefined;
  const compiled: Omit<CompiledFlow, 'graph'> = {
    name: document.name,
    description: document.description,
    version: document.version,
    hash: createHash('sha256').update(text).digest('hex'),
    definition: document,
    path,
    text,
    params: document.params ?? Object.freeze({}),
    nodes: readonlyMap(nodes),
    edges: Object.freeze(edges),
    order: Object.freeze(order.map((i) => document.nodes[i]!.id)),
    startNodes: Object.freeze(startNodes),
    expression: (text: string) => expressions.get(text),
  };
  // graphlib's multigraph costs more to build than the rest of compilation: the scheduler walks
  // `incoming`/`outgoing`, so the graphlib view is built on first use. Defined here rather than
  // written as a getter in the literal: V8 11 makes an object literal with a getter a dictionary,
  // and every read of a compiled flow's fields would look its name up.
  Object.defineProperty(compiled, 'graph', { get: () => (graph ??= toGraphlib(document.name, nodes, edges)), enumerable: true, configurable: true });
  return Object.freeze(compiled) as CompiledFlow;
}

function toGraphlib(name: string, nodes: ReadonlyMap<string, CompiledNode>, edges: readonly CompiledEdge[]): ReadonlyGraph {
  const graph = new Graph<string, CompiledNode, CompiledEdge>({ directed: true, multigraph: true });
  graph.setGraph(name);
  for (const node of nodes.values()) graph.setNode(node.id, node);
  for (const edge of edges) graph.setEdge(edge.from, edge.to, edge, String(edge.index));
  for (const method of GRAPH_MUTATORS) {
    Object.defineProperty(graph, method, {
      value: () => {
        throw new GantryError('FLOW_IMMUTABLE', `a compiled flow's graph is read-only (${method} was called)`);
      },
    });
  }
  return Object.freeze(graph);
}

const ALWAYS: EdgeCondition = Object.freeze({ kind: 'always' });

function conditionOf(condition: string | undefined): EdgeCondition {
  if (condition === undefined) return ALWAYS;
  if (isExpression(condition)) return Object.freeze({ kind: 'expression', text: condition });
  return Object.freeze({ kind: 'label', label: condition });
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
