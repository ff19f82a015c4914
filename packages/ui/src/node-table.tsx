import { useComputed } from '@preact/signals';
import { now } from './clock-signal';
import { clock, duration } from './format';
import { stateDetail, viaChildren } from './graph-view';
import { Icon } from './icons';
import { displayState } from './run-fold';
import type { RunModel, RunTree } from './run-tree';
import { NODE_LOOKS } from './status';
import type { GraphNode } from './wire';

function Row({ tree, model, node, selected, onSelect }: { tree: RunTree; model: RunModel; node: GraphNode; selected: boolean; onSelect: (id: string) => void }) {
  void model.nodeRev(node.id).value;
  const via = useComputed(() => (node.type === 'subflow' || node.type === 'agent' ? viaChildren(tree, model.id, node.id) : undefined));
  const n = model.fold.nodes.get(node.id);
  const state = displayState(n, model.fold.finishedAt !== undefined, via.value);
  const look = NODE_LOOKS[state];
  const t = state === 'running' ? now.value : Date.now();
  const why = model.view.value?.nodes.find((v) => v.id === node.id)?.why;
  return (
    <tr aria-current={selected ? 'true' : undefined} data-row={node.id}>
      <th scope="row">
        <button type="button" class="link" onClick={() => onSelect(node.id)}>
          {node.id}
        </button>
      </th>
      <td>{node.type}</td>
      <td>
        <span class={`status tone-${look.tone}`}>
          <Icon name={look.icon} />
          {look.label}
        </span>{' '}
        <span class="muted">{stateDetail(state, n, node, t)}</span>
      </td>
      <td>{n?.startedAt === undefined ? '–' : clock(n.startedAt)}</td>
      <td>{n?.startedAt === undefined ? '–' : duration((n.finishedAt ?? t) - n.startedAt)}</td>
      <td>{n?.attempt ?? 0}</td>
      <td class="why-cell">{why ?? ''}</td>
    </tr>
  );
}

/** The same nodes as the graph, as a table: for screen readers, and for flows too large to read drawn. */
export function NodeTable({ tree, model, selected, onSelect }: { tree: RunTree; model: RunModel; selected: string | undefined; onSelect: (id: string) => void }) {
  const graph = model.graph.value;
  if (graph === undefined) return <p class="loading">Loading the flow…</p>;
  return (
    <div class="table-wrap">
      <table class="nodes-table">
        <caption>
          The {graph.nodes.length} nodes of {graph.name}, in the flow's order
        </caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Type</th>
            <th scope="col">State</th>
            <th scope="col">Started</th>
            <th scope="col">Took</th>
            <th scope="col">Attempts</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {graph.nodes.map((node) => (
            <Row key={node.id} tree={tree} model={model} node={node} selected={selected === node.id} onSelect={onSelect} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
