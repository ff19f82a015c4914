import jsonata from 'jsonata';
import type { CompiledFlow } from '../compile.js';
import { GantryError } from '../errors.js';
import { EXPRESSION_LIMITS, expressionBody, isExpressionText } from '../expression-text.js';
import type { JsonObject, JsonValue } from '../flow-types.js';

/** The names an expression can read besides `$` (DESIGN §2.3). */
export interface Bindings {
  readonly trigger: JsonValue;
  readonly params: JsonObject;
  readonly nodes: Readonly<Record<string, JsonValue>>;
  readonly run: { readonly id: string; readonly flow: string; readonly started_at: string };
  readonly item?: JsonValue;
  readonly index?: number;
}

const LIMIT_CODES = new Set(['D1011', 'D1012', 'D2015']);
const adHoc = new Map<string, jsonata.Expression>();

function parsedExpression(flow: CompiledFlow, text: string): jsonata.Expression {
  const known = flow.expression(text);
  if (known !== undefined) return known;
  // An expression built at run time (an agent's reply, a sub-flow's param): parse once per text.
  let parsed = adHoc.get(text);
  if (parsed === undefined) {
    try {
      parsed = jsonata(expressionBody(text), EXPRESSION_LIMITS);
    } catch (error) {
      throw new GantryError('EXPRESSION_FAILED', `the expression ${text} does not parse: ${(error as Error).message}`, { cause: error });
    }
    if (adHoc.size > 1_000) adHoc.clear();
    adHoc.set(text, parsed);
  }
  return parsed;
}

/** Evaluates one `{% … %}` string; a non-JSON result (undefined, a function) becomes null. */
export async function evaluateExpression(flow: CompiledFlow, text: string, input: JsonValue, bindings: Bindings): Promise<JsonValue> {
  const expression = parsedExpression(flow, text);
  let result: unknown;
  try {
    result = await expression.evaluate(input, bindings as unknown as Record<string, unknown>);
  } catch (error) {
    const e = error as { code?: string; message?: string; value?: unknown; position?: number };
    if (e.code !== undefined && LIMIT_CODES.has(e.code)) {
      const what =
        e.code === 'D1011'
          ? `nested deeper than ${EXPRESSION_LIMITS.stack} calls`
          : e.code === 'D1012'
            ? `ran longer than ${EXPRESSION_LIMITS.timeout} ms`
            : `built a sequence longer than ${EXPRESSION_LIMITS.sequence} items`;
      throw new GantryError('EXPRESSION_LIMIT', `the expression ${shorten(text)} ${what}`, { cause: error });
    }
    const at = typeof e.position === 'number' ? ` (at character ${e.position})` : '';
    throw new GantryError('EXPRESSION_FAILED', `the expression ${shorten(text)} failed: ${e.message ?? String(error)}${at}`, { cause: error });
  }
  return toJson(result);
}

/** JSONata returns sequences and undefined; the run history keeps plain JSON. */
function toJson(value: unknown): JsonValue {
  if (value === undefined || typeof value === 'function') return null;
  if (typeof value !== 'object' || value === null) return value as JsonValue;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…%}` : text;
}

/** Whether a value holds a `{% … %}` string anywhere (so that resolving it is not a no-op). */
export function holdsExpression(value: unknown): boolean {
  if (typeof value === 'string') return isExpressionText(value);
  if (Array.isArray(value)) return value.some(holdsExpression);
  if (typeof value === 'object' && value !== null) return Object.entries(value).some(([key, item]) => !key.startsWith('x-') && holdsExpression(item));
  return false;
}

/** Replaces every `{% … %}` in a value by its result (undefined becomes null). */
export async function resolveValue(flow: CompiledFlow, value: JsonValue, input: JsonValue, bindings: Bindings): Promise<JsonValue> {
  if (typeof value === 'string') return isExpressionText(value) ? evaluateExpression(flow, value, input, bindings) : value;
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (const item of value) out.push(await resolveValue(flow, item, input, bindings));
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    const out: JsonObject = {};
    // x- keys are annotations: carried as written, never evaluated.
    for (const [key, item] of Object.entries(value)) out[key] = key.startsWith('x-') ? item : await resolveValue(flow, item, input, bindings);
    return out;
  }
  return value;
}
