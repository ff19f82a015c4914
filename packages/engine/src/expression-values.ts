/*
 * JSONata 2.2's semantics of values, for compiled expressions (expression-compiled.ts): its
 * sequences, its field lookup, its truthiness ($boolean), its equality, its `$string` and its
 * numbers. Each function follows JSONata's own (jsonata.js: fn.lookup, fn.boolean, fn.string,
 * utils.isNumeric, utils.isDeepEqual) step for step, quirks included, because a compiled
 * expression must give exactly what JSONata gives; the differential property test
 * (test/expressions-compiled.prop.test.ts) holds them to it.
 */

/** A failure JSONata reports with this code (T2001, D1001, …): the evaluation stops there. */
export class ExpressionFailure {
  constructor(readonly code: string) {}
}

/**
 * A JSONata sequence: the array a path makes (never a value of the data, which is JSON). Its
 * length 0 reads as nothing and 1 as its item wherever an evaluation step ends.
 */
export type Sequence = unknown[] & { sequence: true };

/** A new, empty sequence. */
export function sequence(): Sequence {
  const made = [] as unknown as Sequence;
  made.sequence = true;
  return made;
}

/** Whether a value is a sequence (an array of the data never is). */
export function isSequence(value: unknown): value is Sequence {
  return Array.isArray(value) && (value as { sequence?: unknown }).sequence === true;
}

/** What an evaluation step gives when it gave a sequence: nothing for none, the item for one. */
export function unwrap(value: unknown): unknown {
  if (!isSequence(value)) return value;
  return value.length === 0 ? undefined : value.length === 1 ? value[0] : value;
}

/** JSONata's test for a function; an object of the data that says it is one passes it too. */
export function isFunctionLike(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { _jsonata_function?: unknown; _jsonata_lambda?: unknown };
  return v._jsonata_function === true || v._jsonata_lambda === true;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** The field `key` of a value (fn.lookup): over an array, the sequence of its items' fields, arrays among them flattened. */
export function lookup(input: unknown, key: string): unknown {
  if (Array.isArray(input)) {
    const result = sequence();
    for (let i = 0; i < input.length; i++) {
      const found = lookup(input[i], key);
      if (found === undefined) continue;
      if (Array.isArray(found)) for (let j = 0; j < found.length; j++) result.push(found[j]);
      else result.push(found);
    }
    return result;
  }
  if (typeof input === 'object' && input !== null && hasOwn.call(input, key) && !isFunctionLike(input)) return (input as Record<string, unknown>)[key];
  return undefined;
}

/** utils.isNumeric: a number that is not NaN; an infinite one is an error (D1001). */
export function isNumeric(value: unknown): value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (!Number.isFinite(value)) throw new ExpressionFailure('D1001');
  return true;
}

/** fn.boolean, the truth of a value: undefined stays undefined. */
export function booleanOf(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 1) return booleanOf(value[0]) === true;
    // Every item is looked at (an infinite number among them is an error), as JSONata's filter does.
    let any = false;
    for (let i = 0; i < value.length; i++) if (booleanOf(value[i])) any = true;
    return any;
  }
  if (typeof value === 'string') return value.length > 0;
  if (isNumeric(value)) return value !== 0;
  if (typeof value === 'object' && value !== null && !isFunctionLike(value)) return Object.keys(value).length > 0;
  return value === true;
}

/** The truth `and`, `or` and conditions use: nothing is false. */
export function truthOf(value: unknown): boolean {
  return booleanOf(value) === true;
}

/**
 * utils.isDeepEqual. A sequence and an object of the data are never equal: a JSONata sequence
 * has its own `push` (a function), which no value of the data has.
 */
export function deepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs !== 'object' || typeof rhs !== 'object' || lhs === null || rhs === null) return false;
  const lArray = Array.isArray(lhs);
  const rArray = Array.isArray(rhs);
  if (lArray && rArray) {
    if (lhs.length !== rhs.length) return false;
    for (let i = 0; i < lhs.length; i++) if (!deepEqual(lhs[i], rhs[i])) return false;
    return true;
  }
  if ((lArray && isSequence(lhs)) || (rArray && isSequence(rhs))) return false;
  // Both objects, or an array of the data and an object: own names, `length` and indexes included.
  const lKeys = Object.getOwnPropertyNames(lhs).sort();
  const rKeys = Object.getOwnPropertyNames(rhs).sort();
  if (lKeys.length !== rKeys.length) return false;
  for (let i = 0; i < lKeys.length; i++) if (lKeys[i] !== rKeys[i]) return false;
  for (const key of lKeys) if (!deepEqual((lhs as Record<string, unknown>)[key], (rhs as Record<string, unknown>)[key])) return false;
  return true;
}

/** fn.string's JSON: numbers to 15 significant digits, functions as empty strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value !== undefined && value !== null && isNumeric(value)) return !Number.isInteger(value) ? Number(value.toPrecision(15)) : value;
  return value && isFunctionLike(value) ? '' : value;
}

/** fn.string of a value that is not undefined: what `&` joins. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isFunctionLike(value)) return '';
  if (typeof value === 'number' && !Number.isFinite(value)) throw new ExpressionFailure('D3001');
  return JSON.stringify(value, jsonReplacer) as string;
}
