/*
 * The expressions a node's definition holds, evaluated for one run: its for_each items, its
 * output mapping and the conditions of its outgoing edges. Pure but for the expressions
 * themselves: the run gives the bindings, the scheduler decides what follows.
 */
import type { CompiledFlow, CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import { isRecord } from '../flow-view.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import { evaluateExpression, evaluateNow, LATER, resolveValue, type Bindings } from './expressions.js';
import { truthy } from './rules.js';
import { DEFAULT_LIMITS, oversizeOutput } from '../value-limits.js';

/** The items of a for_each given as an expression: what it gives, which must be an array. */
export async function evaluateForEach(flow: CompiledFlow, node: CompiledNode, expression: string, input: JsonObject, bindings: Bindings): Promise<JsonValue[]> {
  const items = await evaluateExpression(flow, expression, input, bindings);
  if (!Array.isArray(items)) throw new GantryError('EXPRESSION_FAILED', `node "${node.id}": for_each must give an array, got ${items === null ? 'null' : typeof items}`);
  return items;
}

/** A node's output through its `output` mapping, which must give an object. */
export async function mapNodeOutput(flow: CompiledFlow, node: CompiledNode, mapping: JsonValue, output: JsonObject | JsonValue[], bindings: Bindings): Promise<JsonObject> {
  const mapped = await resolveValue(flow, mapping, output as JsonValue, bindings);
  const oversize = oversizeOutput(bindings.limits ?? DEFAULT_LIMITS, node.id, mapped);
  if (oversize !== undefined) throw oversize;
  if (!isRecord(mapped)) {
    throw new GantryError('OUTPUT_INVALID', `node "${node.id}": its output mapping gave ${Array.isArray(mapped) ? 'an array' : JSON.stringify(mapped)}, but a node's output is an object`);
  }
  return mapped as JsonObject;
}

/** A for_each item's output through the node's `output` mapping: any JSON value (the node's output is the array of them). */
export async function mapItemOutput(flow: CompiledFlow, mapping: JsonValue, output: JsonObject | JsonValue[], bindings: Bindings): Promise<JsonValue> {
  const mapped = await resolveValue(flow, mapping, output as JsonValue, bindings);
  const oversize = oversizeOutput(bindings.limits ?? DEFAULT_LIMITS, undefined, mapped);
  if (oversize !== undefined) throw oversize;
  return mapped;
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

/**
 * {@link edgeExpressions} decided at once, in the node's own turn, when every expression
 * condition compiles and answers (expression-compiled.ts); undefined when one needs JSONata, or
 * would fail: edgeExpressions then evaluates them all and reports the failure. Throws, as
 * edgeExpressions would, the EXPRESSION_LIMIT of a condition whose value is too large.
 */
export function edgeExpressionsNow(flow: CompiledFlow, node: CompiledNode, output: JsonObject | JsonValue[], bindings: Bindings): Map<number, boolean> | undefined {
  let results: Map<number, boolean> | undefined;
  const outgoing = node.outgoing;
  for (let i = 0; i < outgoing.length; i++) {
    const edge = outgoing[i]!;
    if (edge.condition.kind !== 'expression') continue;
    const value = evaluateNow(flow, edge.condition.text, output as JsonValue, bindings);
    if (value === LATER) return undefined;
    (results ??= new Map()).set(edge.index, truthy(value));
  }
  return results;
}
