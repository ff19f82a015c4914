import type { CompiledFlow, NodeType } from '@gantry/engine';
import { edgeLabel, handledStages, nodeDetail } from './labels.js';

/** Mermaid shapes, so that node types are visible at a glance. */
const SHAPES: Record<NodeType, [string, string]> = {
  webhook: ['([', '])'],
  schedule: ['([', '])'],
  function: ['[', ']'],
  conditional: ['{', '}'],
  parallel: ['[[', ']]'],
  agent: ['(', ')'],
  human_approval: ['[/', '/]'],
  external_api: ['[(', ')]'],
  wait: ['((', '))'],
  subflow: ['[[', ']]'],
};

const CLASSES: Record<NodeType, string> = {
  webhook: 'fill:#e1f5fe,stroke:#0277bd',
  schedule: 'fill:#ede7f6,stroke:#4527a0',
  function: 'fill:#f5f5f5,stroke:#616161',
  conditional: 'fill:#fff3e0,stroke:#ef6c00',
  parallel: 'fill:#ede7f6,stroke:#5e35b1',
  agent: 'fill:#e8f5e9,stroke:#2e7d32',
  human_approval: 'fill:#fff8e1,stroke:#f9a825',
  external_api: 'fill:#e0f2f1,stroke:#00695c',
  wait: 'fill:#fce4ec,stroke:#ad1457',
  subflow: 'fill:#e8eaf6,stroke:#283593',
};

/** Mermaid's entity codes: quotes and angle brackets would end or break a label. */
function escape(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/\|/g, '#124;');
}

/**
 * A Mermaid flowchart. Node ids become n0, n1… (a flow id such as `end` is a Mermaid keyword);
 * labels carry the real id and type. Error edges are dotted.
 */
export function toMermaid(flow: CompiledFlow): string {
  const lines = [`---`, `title: ${escape(flow.name)}`, `---`, 'flowchart TD'];
  const key = new Map<string, string>();
  const handlers = handledStages(flow);
  for (const node of flow.nodes.values()) {
    const id = `n${node.index}`;
    key.set(node.id, id);
    const [open, close] = SHAPES[node.type];
    const handler = handlers.get(node.id);
    const extra = handler ? `<br/>on error: ${handler}` : '';
    lines.push(`  ${id}${open}"<b>${escape(node.id)}</b><br/>${escape(nodeDetail(node))}${extra}"${close}`);
  }
  for (const edge of flow.edges) {
    const label = edgeLabel(edge);
    const arrow = edge.condition.kind === 'label' && edge.condition.label === 'error' ? '-.->' : '-->';
    lines.push(`  ${key.get(edge.from)} ${arrow}${label === undefined ? '' : `|"${escape(label)}"|`} ${key.get(edge.to)}`);
  }
  const used = new Set([...flow.nodes.values()].map((n) => n.type));
  for (const type of used) lines.push(`  classDef ${type} ${CLASSES[type]}`);
  for (const type of used) {
    const ids = [...flow.nodes.values()].filter((n) => n.type === type).map((n) => key.get(n.id));
    lines.push(`  class ${ids.join(',')} ${type}`);
  }
  return `${lines.join('\n')}\n`;
}
