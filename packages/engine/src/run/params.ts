import { GantryError } from '../errors.js';
import type { CompiledFlow } from '../compile.js';
import type { JsonObject, JsonValue, ParamSpec } from '../flow-types.js';
import { didYouMean } from '../suggest.js';

const TYPE_CHECKS: Record<ParamSpec['type'], (v: JsonValue) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: (v) => Array.isArray(v),
};

/**
 * A run's params: the given values over the declared defaults, each checked against its
 * declaration. Every problem is reported at once, naming the param.
 */
export function resolveParams(flow: CompiledFlow, given: JsonObject = {}): JsonObject {
  const declared = flow.params;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new GantryError('PARAM_INVALID', `${flow.name}: expected params to be an object of name → value, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}`);
  }
  // Most runs of most flows: nothing declared, nothing given.
  if (isEmpty(declared) && isEmpty(given)) return {};
  const problems: string[] = [];
  const params: JsonObject = {};
  for (const name of Object.keys(given)) {
    if (!(name in declared)) {
      const known = Object.keys(declared);
      problems.push(`unknown param "${name}"${didYouMean(name, known)} (the flow declares ${known.length ? known.join(', ') : 'none'})`);
    }
  }
  for (const [name, spec] of Object.entries(declared)) {
    const value = name in given ? given[name]! : spec.default;
    if (value === undefined) {
      if (spec.required) problems.push(`param "${name}" is required (${spec.type}${spec.description ? `: ${spec.description}` : ''})`);
      continue;
    }
    if (!TYPE_CHECKS[spec.type](value)) problems.push(`param "${name}" must be ${spec.type === 'integer' ? 'an' : 'a'} ${spec.type}, got ${JSON.stringify(value)}`);
    else if (spec.enum && !spec.enum.some((v) => JSON.stringify(v) === JSON.stringify(value))) problems.push(`param "${name}" must be one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`);
    else if (typeof value === 'number' && spec.minimum !== undefined && value < spec.minimum) problems.push(`param "${name}" must be ≥ ${spec.minimum}, got ${value}`);
    else if (typeof value === 'number' && spec.maximum !== undefined && value > spec.maximum) problems.push(`param "${name}" must be ≤ ${spec.maximum}, got ${value}`);
    params[name] = value;
  }
  if (problems.length > 0) throw new GantryError('PARAM_INVALID', `${flow.name}: ${problems.join('; ')}`);
  return params;
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/** The values of `given` that the flow declares as params (an agent task's inputs passed to its flow). */
export function declaredParams(flow: CompiledFlow, given: JsonObject): JsonObject {
  const params: JsonObject = {};
  for (const name of Object.keys(flow.params)) if (given[name] !== undefined) params[name] = given[name]!;
  return params;
}

/**
 * Turns a command-line value into the declared type: `--param bake_seconds=5` is the number 5,
 * `--param steps=[10,100]` an array. Undeclared names are left as given, for resolveParams to name.
 */
export function coerceParam(flow: CompiledFlow, name: string, raw: string): JsonValue {
  const spec = flow.params[name];
  if (spec?.type === 'string') return raw;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    return raw;
  }
}
