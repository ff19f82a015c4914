/** Small helpers the built-in functions share for reading untrusted JSON input. */
import { GantryError } from '@gantry/engine';
import type { JsonObject, JsonValue } from '@gantry/engine';

/** A JSON object (not null, not an array). */
export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A short description of a value for an error message: `"abc" (string)`, `42 (number)`,
 * `an array of 3`, `an object with keys a, b`. Long strings are cut so a message stays one line.
 */
export function describeValue(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    return `an object with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
  }
  const text = JSON.stringify(value);
  return `${text.length > 60 ? `${text.slice(0, 57)}…` : text} (${typeof value})`;
}

/**
 * The error a function throws for bad input: not retryable, since the same input fails the
 * same way; the message says what was expected and what was found (STYLE §7).
 */
export function badInput(fn: string, expected: string, found: JsonValue | undefined): GantryError {
  return new GantryError('FUNCTION_FAILED', `${fn}: expected ${expected}, got ${describeValue(found)}`, { retryable: false });
}
