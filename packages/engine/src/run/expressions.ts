import type jsonata from 'jsonata';
import type { CompiledFlow } from '../compile.js';
import { GantryError, isGantryError } from '../errors.js';
import { BAIL, compiledForm } from '../expression-compiled.js';
import { Evaluation, ExpressionLimitError, loadBuiltins, parseGuarded } from '../expression-guard.js';
import type { ExpressionLimits } from '../expression-limits.js';
import { RegexTooCostly, RegexUnsupported } from '../expression-regex.js';
import { expressionBody, isExpressionText } from '../expression-text.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import { DEFAULT_LIMITS, type EngineLimits } from '../value-limits.js';
import { valueSize } from '../value-size.js';

/** The names an expression can read besides `$` (DESIGN §2.3), and the caps of its evaluation. */
export interface Bindings {
  readonly trigger: JsonValue;
  readonly params: JsonObject;
  readonly nodes: Readonly<Record<string, JsonValue>>;
  readonly run: { readonly id: string; readonly flow: string; readonly started_at: string };
  readonly item?: JsonValue;
  readonly index?: number;
  /** The engine's limits, an evaluation's among them (not a name expressions can read). @default DEFAULT_LIMITS */
  readonly limits?: EngineLimits;
}

const adHoc = new Map<string, jsonata.Expression>();

function parsedExpression(flow: CompiledFlow, text: string): jsonata.Expression {
  const known = flow.expression(text);
  if (known !== undefined) return known;
  // An expression built at run time (an agent's reply, a sub-flow's param): parse once per text.
  let parsed = adHoc.get(text);
  if (parsed === undefined) {
    try {
      parsed = parseGuarded(expressionBody(text));
    } catch (error) {
      throw new GantryError('EXPRESSION_FAILED', `the expression ${shorten(text)} does not parse: ${shortMessage(error)}`, { cause: error });
    }
    if (adHoc.size > 1_000) adHoc.clear();
    adHoc.set(text, parsed);
  }
  return parsed;
}

/** JSONata's own limit codes: its sequence cap (set per evaluation to the array cap), its range cap. */
const JSONATA_LIMITS = new Set(['D2014', 'D2015']);

/** {@link evaluateNow}'s answer when the expression needs JSONata's evaluation: {@link evaluateExpression} then. */
export const LATER: unique symbol = Symbol('evaluate later');

/**
 * Evaluates one `{% … %}` string at once when it compiles (expression-compiled.ts) and its
 * compiled evaluation answers; otherwise, and whenever it would fail, LATER: JSONata's
 * evaluation (evaluateExpression) gives the value or the error, with its message. Throws the
 * EXPRESSION_LIMIT of a compiled value larger than maxValue: JSONata would give that same value
 * (the differential property test holds them to it) and end the same way, after the work again.
 */
export function evaluateNow(flow: CompiledFlow, text: string, input: JsonValue, bindings: Bindings): JsonValue | typeof LATER {
  const limits = (bindings.limits ?? DEFAULT_LIMITS).expression;
  let value: unknown;
  try {
    const compiled = compiledForm(parsedExpression(flow, text));
    if (compiled === undefined) return LATER;
    value = compiled.evaluate(input, bindings, limits);
  } catch {
    // A failure (JSONata's code only) or a text that does not parse: JSONata's evaluation reports it, with its message.
    return LATER;
  }
  if (value === BAIL) return LATER;
  try {
    return toJson(text, limits, value);
  } catch (error) {
    if (isGantryError(error, 'EXPRESSION_LIMIT')) throw error;
    return LATER;
  }
}

/**
 * The bindings as JSONata is given them, made once for each Bindings (a run's, or a for_each
 * item's): the names without the limits. Each evaluation sets its guard's entry in it just before
 * JSONata copies the names into its frame, which it does before its first await.
 */
const jsonataBindings = new WeakMap<Bindings, Record<string, unknown>>();

function jsonataBindingsOf(bindings: Bindings, evaluation: Evaluation): Record<string, unknown> {
  let names = jsonataBindings.get(bindings);
  if (names === undefined) {
    const { limits: _limits, ...rest } = bindings;
    names = rest;
    jsonataBindings.set(bindings, names);
  }
  evaluation.bindInto(names);
  return names;
}

/** Evaluates one `{% … %}` string; a non-JSON result (undefined, a function) becomes null. */
export async function evaluateExpression(flow: CompiledFlow, text: string, input: JsonValue, bindings: Bindings): Promise<JsonValue> {
  const now = evaluateNow(flow, text, input, bindings);
  if (now !== LATER) return now;
  const expression = parsedExpression(flow, text);
  const limits = (bindings.limits ?? DEFAULT_LIMITS).expression;
  const evaluation = new Evaluation(limits);
  await loadBuiltins();
  let result: unknown;
  try {
    result = await expression.evaluate(input, jsonataBindingsOf(bindings, evaluation));
  } catch (error) {
    throw evaluationError(text, limits, error);
  } finally {
    evaluation.end();
  }
  return toJson(text, limits, result);
}

function evaluationError(text: string, limits: ExpressionLimits, error: unknown): GantryError {
  const limit = limitOf(error, limits);
  if (limit !== undefined) return new GantryError('EXPRESSION_LIMIT', `the expression ${shorten(text)} ${limit}`, { cause: error });
  const e = error as { position?: number };
  const at = typeof e.position === 'number' ? ` (at character ${e.position})` : '';
  return new GantryError('EXPRESSION_FAILED', `the expression ${shorten(text)} failed: ${shortMessage(error)}${at}`, { cause: error });
}

/** Which cap an error says was passed, in words; undefined for any other failure. */
function limitOf(error: unknown, limits: ExpressionLimits): string | undefined {
  // $eval wraps the errors of what it evaluates.
  const e = (error as { code?: string; error?: unknown }).code === 'D3121' ? (error as { error: unknown }).error : error;
  if (e instanceof ExpressionLimitError) return e.cap;
  if (e instanceof RegexTooCostly) return `took more than ${limits.maxSteps} steps (${e.message})`;
  const code = (e as { code?: string }).code;
  if (code !== undefined && JSONATA_LIMITS.has(code)) return `built an array of more than ${limits.maxArray} items`;
  // V8's own cap on a string, reached inside one built-in before the step could be checked.
  if (e instanceof RangeError && /Invalid string length/.test(e.message)) return `built a string of more than ${limits.maxString} characters`;
  if (e instanceof RangeError && /call stack/.test(e.message)) return `nested deeper than the process's stack allows`;
  return undefined;
}

/** The error's message, cut short: JSONata quotes values, and a value may be a megabyte. */
function shortMessage(error: unknown): string {
  const message = (error instanceof RegexUnsupported ? error.message : (error as Error).message) ?? String(error);
  return message.length > 300 ? `${message.slice(0, 297)}…` : message;
}

/** JSONata returns sequences and undefined; the run history keeps plain JSON. */
function toJson(text: string, limits: ExpressionLimits, value: unknown): JsonValue {
  if (value === undefined || typeof value === 'function') return null;
  if (typeof value !== 'object' || value === null) return value as JsonValue;
  if (valueSize(value, limits.maxValue) > limits.maxValue) {
    throw new GantryError('EXPRESSION_LIMIT', `the expression ${shorten(text)} built a value larger than ${limits.maxValue} characters as JSON`);
  }
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
