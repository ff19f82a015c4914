import dagre from '@dagrejs/dagre';
import type { RunGraph } from './wire';

/**
 * Where each node and edge of a flow is drawn: dagre's layered layout, top to bottom. A pure
 * function of the flow, so it is computed once per flow version and shared by every run of it.
 */

export const NODE_WIDTH = 196;
export const NODE_HEIGHT = 58;

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface PlacedEdge {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly points: readonly Point[];
  readonly label?: { readonly text: string; readonly x: number; readonly y: number };
}

export interface Layout {
  /** Node centres. */
  readonly nodes: ReadonlyMap<string, Point>;
  readonly edges: readonly PlacedEdge[];
  readonly width: number;
  readonly height: number;
}

/** What an edge's condition reads as on the drawing: a label, or "if …" for an expression cut short. */
export function edgeText(condition: string | undefined): string | undefined {
  if (condition === undefined) return undefined;
  if (!condition.startsWith('{%')) return condition;
  const body = condition.slice(2, -2).trim();
  return `if ${body.length > 22 ? `${body.slice(0, 21)}…` : body}`;
}

const cache = new Map<string, Layout>();

export function layoutGraph(graph: RunGraph): Layout {
  const cached = cache.get(graph.hash);
  if (cached !== undefined) return cached;
  const g = new dagre.graphlib.Graph({ multigraph: true });
  const big = graph.nodes.length > 300;
  // network-simplex ranks best but grows fast; a large flow takes the quicker longest-path.
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 52, edgesep: 14, marginx: 16, marginy: 16, ranker: big ? 'longest-path' : 'network-simplex' });
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const ids = new Set(graph.nodes.map((n) => n.id));
  for (const e of graph.edges) {
    if (!ids.has(e.from) || !ids.has(e.to)) continue;
    const text = edgeText(e.condition);
    g.setEdge(e.from, e.to, text === undefined ? {} : { width: text.length * 7 + 10, height: 16, labelpos: 'c' }, String(e.index));
  }
  dagre.layout(g);
  const nodes = new Map<string, Point>();
  for (const n of graph.nodes) {
    const placed = g.node(n.id) as { x: number; y: number };
    nodes.set(n.id, { x: placed.x, y: placed.y });
  }
  const edges: PlacedEdge[] = graph.edges.flatMap((e) => {
    if (!ids.has(e.from) || !ids.has(e.to)) return [];
    const placed = g.edge({ v: e.from, w: e.to, name: String(e.index) }) as { points?: Point[]; x?: number; y?: number };
    const text = edgeText(e.condition);
    return [{ index: e.index, from: e.from, to: e.to, points: placed.points ?? [], ...(text !== undefined && placed.x !== undefined && placed.y !== undefined ? { label: { text, x: placed.x, y: placed.y } } : {}) }];
  });
  const size = g.graph() as { width?: number; height?: number };
  const layout = { nodes, edges, width: size.width ?? NODE_WIDTH, height: size.height ?? NODE_HEIGHT };
  if (cache.size > 32) cache.delete(cache.keys().next().value!);
  cache.set(graph.hash, layout);
  return layout;
}
