import type { CompiledFlow, CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import { evaluateExpression, resolveValue, type Bindings } from './expressions.js';
import { truthy } from './rules.js';

/**
 * The expressions a node's definition holds, evaluated for one run: its for_each items, its
 * output mapping and the conditions of its outgoing edges. Pure but for the expressions
 * themselves: the run gives the bindings, the scheduler decides what follows.
 */

/** The items a for_each node iterates over: its literal array, or what its expression gives, which must be an array. */
export async function forEachItems(flow: CompiledFlow, node: CompiledNode, input: JsonObject, bindings: Bindings): Promise<JsonValue[]> {
  const forEach = node.definition.for_each!;
  const items = Array.isArray(forEach) ? forEach : await evaluateExpression(flow, forEach, input, bindings);
  if (!Array.isArray(items)) throw new GantryError('EXPRESSION_FAILED', `node "${node.id}": for_each must give an array, got ${items === null ? 'null' : typeof items}`);
  return items;
}

/** Applies the node's `output` mapping; a node's output (not an item's) must be an object. */
export async function mapOutput(flow: CompiledFlow, node: CompiledNode, output: JsonObject | JsonValue[], bindings: Bindings, item: boolean): Promise<JsonObject | JsonValue[]> {
  const mapping = node.definition.output;
  if (mapping === undefined) return output;
  const mapped = await resolveValue(flow, mapping, output as JsonValue, bindings);
  if (!item && (typeof mapped !== 'object' || mapped === null || Array.isArray(mapped))) {
    throw new GantryError('OUTPUT_INVALID', `node "${node.id}": its output mapping gave ${Array.isArray(mapped) ? 'an array' : JSON.stringify(mapped)}, but a node's output is an object`);
  }
  return mapped as JsonObject;
}

/** The truth of each expression condition on the node's outgoing edges, by edge index (undefined when it has none). */
export async function edgeExpressions(flow: CompiledFlow, node: CompiledNode, output: JsonObject | JsonValue[], bindings: Bindings): Promise<Map<number, boolean> | undefined> {
  let results: Map<number, boolean> | undefined;
  const outgoing = node.outgoing;
  for (let i = 0; i < outgoing.length; i++) {
    const edge = outgoing[i]!;
    if (edge.condition.kind !== 'expression') continue;
    const value = await evaluateExpression(flow, edge.condition.text, output as JsonValue, bindings);
    (results ??= new Map()).set(edge.index, truthy(value));
  }
  return results;
}
