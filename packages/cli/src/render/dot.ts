import type { CompiledFlow, NodeType } from '@gantry/engine';
import { edgeLabel, handledStages, nodeDetail } from './labels.js';

const SHAPES: Record<NodeType, string> = {
  webhook: 'shape=house, style=filled, fillcolor="#e1f5fe"',
  schedule: 'shape=house, style=filled, fillcolor="#ede7f6"',
  function: 'shape=box, style=filled, fillcolor="#f5f5f5"',
  conditional: 'shape=diamond, style=filled, fillcolor="#fff3e0"',
  parallel: 'shape=box3d, style=filled, fillcolor="#ede7f6"',
  agent: 'shape=box, style="rounded,filled", fillcolor="#e8f5e9"',
  human_approval: 'shape=hexagon, style=filled, fillcolor="#fff8e1"',
  external_api: 'shape=cylinder, style=filled, fillcolor="#e0f2f1"',
  wait: 'shape=circle, style=filled, fillcolor="#fce4ec"',
  subflow: 'shape=component, style=filled, fillcolor="#e8eaf6"',
};

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A Graphviz digraph; node types are shapes and colours, error edges are dashed and red. */
export function toDot(flow: CompiledFlow): string {
  const lines = [
    `digraph ${quote(flow.name)} {`,
    `  label=${quote(flow.name)};`,
    '  labelloc=t;',
    '  rankdir=TB;',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  const handlers = handledStages(flow);
  for (const node of flow.nodes.values()) {
    const handler = handlers.get(node.id);
    const label = `${node.id}\n${nodeDetail(node)}${handler ? `\non error: ${handler}` : ''}`;
    lines.push(`  ${quote(node.id)} [label=${quote(label)}, ${SHAPES[node.type]}];`);
  }
  for (const edge of flow.edges) {
    const label = edgeLabel(edge);
    const attributes: string[] = [];
    if (label !== undefined) attributes.push(`label=${quote(label)}`);
    if (edge.condition.kind === 'label' && edge.condition.label === 'error') attributes.push('style=dashed', 'color=red');
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)}${attributes.length ? ` [${attributes.join(', ')}]` : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
