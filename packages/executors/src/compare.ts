import { DEFAULT_EXPRESSION_LIMITS, matchesPattern, type JsonValue } from '@gantry/engine';

/** Reads `a.b.0.c` from a value; undefined when any step is missing. */
export function readPath(value: JsonValue | undefined, path: string): JsonValue | undefined {
  return readSteps(value, path.split('.'));
}

/** Reads a path split once into its steps (a gate reads the same path on every run). */
export function readSteps(value: JsonValue | undefined, steps: readonly string[]): JsonValue | undefined {
  let at: JsonValue | undefined = value;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (typeof at !== 'object' || at === null) return undefined;
    at = Array.isArray(at) ? (/^\d+$/.test(step) ? at[Number(step)] : undefined) : at[step];
  }
  return at;
}

function equal(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A metric as a number where it is one: 80 and "80" compare alike, "80%" does not. */
function numeric(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function ordered(actual: JsonValue | undefined, expected: JsonValue, test: (c: number) => boolean): boolean {
  const a = numeric(actual);
  const e = numeric(expected);
  if (a !== undefined && e !== undefined) return test(a - e);
  if (typeof actual === 'string' && typeof expected === 'string') return test(actual < expected ? -1 : actual > expected ? 1 : 0);
  return false;
}

/**
 * The gate operators of DESIGN §3.3. A missing metric fails its check. Only `matches` throws: a
 * pattern the linear-time engine (RE2) cannot run, or a match that would cost more steps than an
 * expression may take, fails the gate's node with the pattern named.
 */
export function compare(actual: JsonValue | undefined, operator: string, expected: JsonValue): boolean {
  // null is how a report says "no value" (an aggregate with no data): missing, so the check fails.
  if (actual === undefined || actual === null) return false;
  switch (operator) {
    case '=':
    case '==':
      return equal(actual, expected) || (numeric(actual) !== undefined && numeric(actual) === numeric(expected));
    case '!=':
      return !(equal(actual, expected) || (numeric(actual) !== undefined && numeric(actual) === numeric(expected)));
    case '>':
      return ordered(actual, expected, (c) => c > 0);
    case '>=':
      return ordered(actual, expected, (c) => c >= 0);
    case '<':
      return ordered(actual, expected, (c) => c < 0);
    case '<=':
      return ordered(actual, expected, (c) => c <= 0);
    case 'in':
      return Array.isArray(expected) && expected.some((e) => equal(actual, e));
    case 'not_in':
      return Array.isArray(expected) && !expected.some((e) => equal(actual, e));
    case 'contains':
      if (typeof actual === 'string') return typeof expected === 'string' && actual.includes(expected);
      return Array.isArray(actual) && actual.some((a) => equal(a, expected));
    case 'matches':
      return typeof actual === 'string' && typeof expected === 'string' && matchesPattern(expected, actual, DEFAULT_EXPRESSION_LIMITS.maxSteps);
    default:
      return false;
  }
}
