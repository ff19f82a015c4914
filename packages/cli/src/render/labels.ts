import type { CompiledEdge, CompiledFlow, CompiledNode } from '@gantry/engine';

/** What an edge's label says: its branch label, a shortened expression, or nothing. */
export function edgeLabel(edge: CompiledEdge, max = 40): string | undefined {
  switch (edge.condition.kind) {
    case 'always':
      return undefined;
    case 'label':
      return edge.condition.label;
    case 'expression': {
      const text = edge.condition.text.replace(/\s+/g, ' ');
      return text.length > max ? `${text.slice(0, max - 1)}…` : text;
    }
  }
}

/** The line under a node's id: its type, plus what it calls where that helps a reader. */
export function nodeDetail(node: CompiledNode): string {
  const data = node.definition.data as Record<string, unknown>;
  const parts: string[] = [node.type];
  if (node.type === 'agent' && typeof data.agent === 'string') parts.push(`${data.agent}: ${String(data.task)}`);
  if (node.type === 'function' && typeof data.function === 'string') parts.push(data.function);
  if (node.type === 'external_api') parts.push(`${String(data.service)}.${String(data.action)}`);
  if (node.type === 'subflow') parts.push(String(data.flow));
  if (node.definition.for_each !== undefined) parts.push('for each');
  return parts.join(' · ');
}

export function handledStages(flow: CompiledFlow): Map<string, string> {
  const stages = new Map<string, string>();
  for (const handler of flow.definition.error_handlers ?? []) stages.set(handler.stage, handler.action ?? 'fail');
  return stages;
}
