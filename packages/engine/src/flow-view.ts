import { Vocabulary } from './suggest.js';

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ViewNode {
  readonly id: string;
  readonly type: string;
  readonly index: number;
  /** Dense number among the nodes with distinct ids (the first of duplicates), else -1. */
  readonly slot: number;
  readonly raw: Record<string, unknown>;
}

export interface ViewEdge {
  readonly from: string;
  readonly to: string;
  readonly condition: string | undefined;
  readonly index: number;
}

/**
 * The parts of a possibly invalid document that graph checks can use. Checks run even when the
 * schema failed, so that one pass reports every problem; anything malformed is left out here
 * (the schema has reported it already).
 */
export interface FlowView {
  readonly nodes: readonly ViewNode[];
  /** First node with each id. */
  readonly byId: ReadonlyMap<string, ViewNode>;
  /** The first node of each id, by slot. */
  readonly unique: readonly ViewNode[];
  readonly edges: readonly ViewEdge[];
  readonly handlers: readonly { stage: string; index: number }[];
  readonly params: ReadonlySet<string>;
  /** The node ids and the param names, for suggestions ("did you mean"), indexed on first use. */
  readonly ids: Vocabulary;
  readonly paramNames: Vocabulary;
}

export function viewOf(document: unknown): FlowView {
  const root = isRecord(document) ? document : {};
  const nodes: ViewNode[] = [];
  const unique: ViewNode[] = [];
  const byId = new Map<string, ViewNode>();
  const rawNodes = Array.isArray(root.nodes) ? root.nodes : [];
  for (let index = 0; index < rawNodes.length; index++) {
    const raw = rawNodes[index];
    if (!isRecord(raw) || typeof raw.id !== 'string') continue;
    const first = !byId.has(raw.id);
    const node: ViewNode = { id: raw.id, type: typeof raw.type === 'string' ? raw.type : '', index, slot: first ? unique.length : -1, raw };
    nodes.push(node);
    if (first) {
      byId.set(node.id, node);
      unique.push(node);
    }
  }
  const edges: ViewEdge[] = [];
  const rawEdges = Array.isArray(root.edges) ? root.edges : [];
  for (let index = 0; index < rawEdges.length; index++) {
    const raw = rawEdges[index];
    if (!isRecord(raw) || typeof raw.from !== 'string' || typeof raw.to !== 'string') continue;
    const condition = typeof raw.condition === 'string' ? raw.condition : undefined;
    edges.push({ from: raw.from, to: raw.to, condition, index });
  }
  const handlers: { stage: string; index: number }[] = [];
  const rawHandlers = Array.isArray(root.error_handlers) ? root.error_handlers : [];
  rawHandlers.forEach((raw, index) => {
    if (isRecord(raw) && typeof raw.stage === 'string') handlers.push({ stage: raw.stage, index });
  });
  const params = new Set(isRecord(root.params) ? Object.keys(root.params) : []);
  return { nodes, byId, unique, edges, handlers, params, ids: new Vocabulary(() => byId.keys()), paramNames: new Vocabulary(() => params) };
}

export type ConditionalForm =
  | { kind: 'gate' }
  | { kind: 'router'; labels: ReadonlySet<string> }
  | { kind: 'mixed' }
  | { kind: 'unknown' };

/** Whether a conditional's data is the gate form, the router form, or a mix of both. */
export function conditionalForm(data: unknown): ConditionalForm {
  const conditions = isRecord(data) && Array.isArray(data.conditions) ? data.conditions.filter(isRecord) : [];
  if (conditions.length === 0) return { kind: 'unknown' };
  const gates = conditions.filter((c) => 'metric' in c || 'operator' in c || 'value' in c);
  const routes = conditions.filter((c) => 'if' in c || 'then' in c || 'agents' in c);
  if (gates.length > 0 && routes.length > 0) return { kind: 'mixed' };
  if (routes.length > 0) {
    return { kind: 'router', labels: new Set(routes.map((c) => c.then).filter((t): t is string => typeof t === 'string')) };
  }
  return { kind: 'gate' };
}

/** The labels an edge out of `node` may carry (besides expressions, which any node allows). */
export function producibleLabels(node: ViewNode): ReadonlySet<string> | 'any' {
  if (node.type !== 'conditional') return new Set(['error']);
  const form = conditionalForm(node.raw.data);
  switch (form.kind) {
    case 'gate':
      return new Set(['pass', 'fail', 'error']);
    case 'router':
      return new Set([...form.labels, 'default', 'error']);
    default:
      return 'any';
  }
}
