import { useComputed, useSignal } from '@preact/signals';
import { useEffect, useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import { now } from './clock-signal';
import { clock, duration } from './format';
import { Icon } from './icons';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH, type Layout, type PlacedEdge } from './layout';
import { displayState, type DisplayState, type NodeFold } from './run-fold';
import type { RunModel, RunTree } from './run-tree';
import { NODE_LOOKS } from './status';
import type { GraphNode } from './wire';

/**
 * The flow drawn as its run goes: every node of the definition (those not reached yet too), with
 * its state in colour, icon, words and outline; the edges taken drawn solid, those not taken
 * dashed and faint. Zoom, fit and pan by buttons, keys (+ − 0 and arrows), ctrl+wheel and drag.
 */

/** What a node's sub-flow run imposes on it while it runs: waiting for a person or a timer. */
export function viaChildren(tree: RunTree, runId: string, nodeId: string): 'waiting-approval' | 'waiting-timer' | undefined {
  let via: 'waiting-approval' | 'waiting-timer' | undefined;
  for (const child of tree.childrenOf(runId, nodeId)) {
    const f = child.fold;
    if (f.status !== 'waiting' && f.status !== 'running') continue;
    const deeper = [...f.nodes.keys()].map((id) => viaChildren(tree, f.runId, id));
    if ([...f.nodes.values()].some((n) => n.waitKind === 'approval' && n.status === 'waiting') || deeper.includes('waiting-approval')) return 'waiting-approval';
    if (f.status === 'waiting' || deeper.includes('waiting-timer')) via = 'waiting-timer';
  }
  return via;
}

/** The second line of a node: what its state means now. */
export function stateDetail(state: DisplayState, n: NodeFold | undefined, node: GraphNode, t: number): string {
  const of = node.max_attempts > 1 ? ` of ${node.max_attempts}` : '';
  switch (state) {
    case 'running': {
      const items = n?.items;
      const done = items ? [...items.values()].filter((i) => i.status === 'succeeded').length : 0;
      const elapsed = n?.attempts.at(-1)?.startedAt;
      return `${items ? `${done} done, ` : ''}${elapsed === undefined ? '' : duration(t - elapsed)}${n && n.attempt > 1 ? ` · attempt ${n.attempt}${of}` : ''}`;
    }
    case 'retrying':
      return `attempt ${(n?.attempt ?? 0) + 1}${of}${n?.retryAt ? ` at ${clock(n.retryAt)}` : ''}`;
    case 'waiting-approval':
    case 'waiting-timer':
      return n?.waitUntil ? `until ${clock(n.waitUntil)}` : 'in its sub-flow';
    case 'succeeded':
    case 'compensated':
      return n?.startedAt !== undefined && n.finishedAt !== undefined ? duration(n.finishedAt - n.startedAt) : '';
    case 'failed':
      return n?.error?.code ?? '';
    case 'skipped':
      return n?.skipReason === 'aborted' ? 'run stopped first' : n?.skipReason === 'when' ? 'condition false' : 'edge not taken';
    default:
      return '';
  }
}

const short = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function NodeBox({
  tree,
  model,
  node,
  x,
  y,
  selected,
  onSelect,
  onFocus,
  ended,
}: {
  tree: RunTree;
  model: RunModel;
  node: GraphNode;
  x: number;
  y: number;
  selected: boolean;
  onSelect: (id: string) => void;
  onFocus: (id: string) => void;
  ended: boolean;
}) {
  void model.nodeRev(node.id).value;
  const via = useComputed(() => (node.type === 'subflow' || node.type === 'agent' ? viaChildren(tree, model.id, node.id) : undefined));
  const n = model.fold.nodes.get(node.id);
  const state = displayState(n, ended, via.value);
  const look = NODE_LOOKS[state];
  // Only a running node reads the ticking clock, so only it draws again each second.
  const detail = stateDetail(state, n, node, state === 'running' ? now.value : 0);
  const label = `${node.id}, ${node.type}, ${look.label}${detail ? `, ${detail}` : ''}`;
  const left = x - NODE_WIDTH / 2;
  const top = y - NODE_HEIGHT / 2;
  return (
    <g
      class={`node tone-${look.tone} state-${state}${selected ? ' selected' : ''}`}
      transform={`translate(${left} ${top})`}
      role="button"
      tabindex={0}
      aria-label={label}
      aria-pressed={selected ? 'true' : 'false'}
      data-node={node.id}
      data-state={state}
      onClick={() => onSelect(node.id)}
      onFocus={() => onFocus(node.id)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onSelect(node.id);
        }
      }}
    >
      <title>{node.id}</title>
      <rect class="box" width={NODE_WIDTH} height={NODE_HEIGHT} rx="8" />
      <g transform="translate(10 11)" class="node-icon">
        <Icon name={look.icon} size={18} />
      </g>
      <text class="node-id" x="36" y="24">
        {short(node.id, 21)}
      </text>
      <text class="node-state" x="36" y="43">
        {short(`${look.label}${detail ? ` · ${detail}` : ''}`, 28)}
      </text>
    </g>
  );
}

function edgePath(points: PlacedEdge['points']): string {
  if (points.length === 0) return '';
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
}

function Edge({ model, edge, uid }: { model: RunModel; edge: PlacedEdge; uid: string }) {
  void model.nodeRev(edge.from).value;
  const source = model.fold.nodes.get(edge.from)?.status;
  const kind = model.fold.takenEdges.has(edge.index) ? 'taken' : source === 'succeeded' || source === 'failed' || source === 'skipped' ? 'not-taken' : 'open';
  return (
    <g class={`edge edge-${kind}`} data-edge={edge.index} data-taken={kind}>
      <path d={edgePath(edge.points)} marker-end={`url(#${uid}-${kind})`} />
      {edge.label ? (
        <text x={edge.label.x} y={edge.label.y + 4} text-anchor="middle" class="edge-label">
          {edge.label.text}
        </text>
      ) : null}
    </g>
  );
}

interface View {
  readonly k: number;
  readonly x: number;
  readonly y: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
let uids = 0;

export function GraphView({ tree, model, selected, onSelect }: { tree: RunTree; model: RunModel; selected: string | undefined; onSelect: (id: string) => void }) {
  const graph = model.graph.value;
  const box = useRef<HTMLDivElement>(null);
  const size = useSignal({ w: 0, h: 0 });
  const view = useSignal<View | undefined>(undefined);
  const uid = useMemo(() => `g${++uids}`, []);
  const layout: Layout | undefined = useMemo(() => (graph === undefined ? undefined : layoutGraph(graph)), [graph]);
  // Read through computeds: the graph draws again when the run ends, not at every event; a pan
  // or a zoom changes one attribute, not the nodes.
  const ended = useComputed(() => {
    void model.rev.value;
    return model.fold.finishedAt !== undefined;
  });
  const transform = useComputed(() => {
    const v = view.value ?? { k: 1, x: 0, y: 0 };
    return `translate(${v.x} ${v.y}) scale(${v.k})`;
  });
  const percent = useComputed(() => `${Math.round((view.value?.k ?? 1) * 100)} %`);
  const drag = useRef<{ x: number; y: number; id: number } | undefined>(undefined);

  useLayoutEffect(() => {
    const el = box.current;
    if (el === null) return;
    const measure = () => {
      const before = size.peek();
      size.value = { w: el.clientWidth, h: el.clientHeight };
      // A panel opening beside the graph keeps what was in the middle in the middle.
      const v = view.peek();
      if (v !== undefined && before.w > 0) view.value = { ...v, x: v.x + (el.clientWidth - before.w) / 2 };
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [layout === undefined]);

  const fit = () => {
    if (layout === undefined || size.value.w === 0) return;
    const k = clamp(Math.min((size.value.w - 16) / layout.width, (size.value.h - 16) / layout.height), 0.05, 1.25);
    view.value = { k, x: (size.value.w - layout.width * k) / 2, y: Math.max(8, (size.value.h - layout.height * k) / 2) };
  };
  /**
   * The first view: the whole flow when it fits readably; else readable (85 %), around the node
   * the run is at (running or waiting, else failed), or from the top.
   */
  const firstView = () => {
    if (layout === undefined || size.value.w === 0) return;
    const { w, h } = size.value;
    if (Math.min((w - 16) / layout.width, (h - 16) / layout.height) >= 0.8) return fit();
    const k = 0.85;
    const nodes = [...model.fold.nodes.values()];
    const at = nodes.find((n) => n.status === 'running' || n.status === 'waiting') ?? nodes.find((n) => n.status === 'failed');
    const p = at === undefined ? undefined : layout.nodes.get(at.id);
    const [lw, lh] = [layout.width * k, layout.height * k];
    // Narrower than the box: centred; else around the node, kept within the drawing.
    const x = lw <= w ? (w - lw) / 2 : Math.min(8, Math.max(p === undefined ? (w - lw) / 2 : w / 2 - p.x * k, w - lw - 8));
    const y = Math.min(8, Math.max(p === undefined ? 8 : h / 2 - p.y * k, h - lh - 8));
    view.value = { k, x, y };
  };
  const zoom = (factor: number, cx = size.value.w / 2, cy = size.value.h / 2) => {
    const v = view.value;
    if (v === undefined) return;
    const k = clamp(v.k * factor, 0.05, 3);
    view.value = { k, x: cx - ((cx - v.x) * k) / v.k, y: cy - ((cy - v.y) * k) / v.k };
  };
  /** Brings a node into view when the keyboard reaches it outside the box. */
  const reveal = (id: string) => {
    const v = view.value;
    const p = layout?.nodes.get(id);
    if (v === undefined || p === undefined) return;
    const { w, h } = size.value;
    const [sx, sy] = [v.x + p.x * v.k, v.y + p.y * v.k];
    const [mx, my] = [(NODE_WIDTH / 2) * v.k + 8, (NODE_HEIGHT / 2) * v.k + 8];
    if (sx >= mx && sx <= w - mx && sy >= my && sy <= h - my) return;
    view.value = { ...v, x: w / 2 - p.x * v.k, y: h / 2 - p.y * v.k };
  };
  const pan = (dx: number, dy: number) => {
    const v = view.value;
    if (v !== undefined) view.value = { ...v, x: v.x + dx, y: v.y + dy };
  };

  useEffect(() => {
    // Fitted once the box has a size; a resize later keeps the user's zoom.
    return size.subscribe(() => {
      if (view.peek() === undefined) firstView();
    });
  }, [layout]);

  useEffect(() => {
    // The first drawing of the graph, for whoever measures how long a page takes to show it.
    if (layout !== undefined && !performance.getEntriesByName('gantry:graph-drawn').length) {
      requestAnimationFrame(() => performance.mark('gantry:graph-drawn'));
    }
  }, [layout]);

  if (graph === undefined || layout === undefined) return <p class="loading">Loading the flow…</p>;

  return (
    <div class="graph">
      <div class="graph-tools" role="toolbar" aria-label="Zoom">
        <button type="button" onClick={() => zoom(1.25)} aria-label="Zoom in">
          <Icon name="zoomIn" />
        </button>
        <button type="button" onClick={() => zoom(0.8)} aria-label="Zoom out">
          <Icon name="zoomOut" />
        </button>
        <button type="button" onClick={fit} aria-label="Fit the flow to the view">
          <Icon name="fit" /> Fit
        </button>
        <span class="muted">{percent}</span>
        <span class="hint muted">Drag to pan · ctrl+wheel or + − to zoom · 0 fits</span>
      </div>
      <div
        class="graph-box"
        ref={box}
        style={{ height: `${Math.max(340, Math.round(layout.height * 0.85 + 40))}px` }}
        tabIndex={0}
        aria-label={`The flow ${graph.name}, ${graph.nodes.length} nodes: Tab moves between them, Enter shows one. Plus and minus zoom, 0 fits, arrows pan.`}
        onKeyDown={(e) => {
          const step = 60;
          const keys: Record<string, () => void> = {
            '+': () => zoom(1.25),
            '=': () => zoom(1.25),
            '-': () => zoom(0.8),
            '0': fit,
            ArrowLeft: () => pan(step, 0),
            ArrowRight: () => pan(-step, 0),
            ArrowUp: () => pan(0, step),
            ArrowDown: () => pan(0, -step),
          };
          const act = keys[e.key];
          if (act && !e.altKey && !e.metaKey && !e.ctrlKey) {
            e.preventDefault();
            act();
          }
        }}
      >
        <svg
          class="graph-svg"
          width="100%"
          height="100%"
          role="group"
          aria-label={`${graph.name}: its nodes`}
          onWheel={(e) => {
            if (!e.ctrlKey && !e.metaKey) return;
            e.preventDefault();
            const rect = (e.currentTarget as SVGSVGElement).getBoundingClientRect();
            zoom(e.deltaY < 0 ? 1.1 : 0.9, e.clientX - rect.left, e.clientY - rect.top);
          }}
          onPointerDown={(e) => {
            if ((e.target as Element).closest('.node')) return;
            drag.current = { x: e.clientX, y: e.clientY, id: e.pointerId };
            (e.currentTarget as SVGSVGElement).setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            const d = drag.current;
            if (d === undefined || d.id !== e.pointerId) return;
            pan(e.clientX - d.x, e.clientY - d.y);
            drag.current = { ...d, x: e.clientX, y: e.clientY };
          }}
          onPointerUp={() => (drag.current = undefined)}
          onPointerCancel={() => (drag.current = undefined)}
        >
          <defs>
            {(['taken', 'not-taken', 'open'] as const).map((kind) => (
              <marker key={kind} id={`${uid}-${kind}`} class={`arrow arrow-${kind}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0 0L10 5L0 10z" />
              </marker>
            ))}
          </defs>
          <g transform={transform}>
            <g class="edges">
              {layout.edges.map((e) => (
                <Edge key={e.index} model={model} edge={e} uid={uid} />
              ))}
            </g>
            <g class="nodes">
              {graph.nodes.map((node) => {
                const p = layout.nodes.get(node.id)!;
                return <NodeBox key={node.id} tree={tree} model={model} node={node} x={p.x} y={p.y} selected={selected === node.id} onSelect={onSelect} onFocus={reveal} ended={ended.value} />;
              })}
            </g>
          </g>
        </svg>
      </div>
    </div>
  );
}
