import { NODE_TYPES } from '@gantry/engine';
import { isPlainObject } from './values.js';

/*
 * A stored run's flow as the CLI reads it without the engine that ran it: that engine may have
 * had node types of its own (a program embedding it), which this process cannot know.
 */

/** The nodes of a stored flow's text (objects only); none when it does not parse. */
export function storedNodes(flowText: string): Record<string, unknown>[] {
  let flow: unknown;
  try {
    flow = JSON.parse(flowText);
  } catch {
    return [];
  }
  const nodes = isPlainObject(flow) ? flow.nodes : undefined;
  return Array.isArray(nodes) ? nodes.filter(isPlainObject) : [];
}

/** Its node types that are not built in, as compile options take them: accepted as they are (their data's schema is that program's). */
export function customTypesOf(flowText: string): ReadonlyMap<string, undefined> {
  const types = new Map<string, undefined>();
  for (const node of storedNodes(flowText)) {
    for (const type of [node.type, isPlainObject(node.compensate) ? node.compensate.type : undefined]) {
      if (typeof type === 'string' && !(NODE_TYPES as readonly string[]).includes(type)) types.set(type, undefined);
    }
  }
  return types;
}
