/*
 * The size of a JSON value as Gantry stores it (serialised JSON, in characters), measured
 * without serialising it: the walk stops as soon as the size passes the limit it is given, so a
 * huge value costs no more to refuse than a value at the limit costs to accept.
 */

/** Sizes of arrays and objects already measured in full: values are not changed once made. */
const measured = new WeakMap<object, number>();

/**
 * About the length of `JSON.stringify(value)` (string escapes aside), or some number above
 * `limit` as soon as it is known to be larger. Shared parts count each time they appear, as
 * they would in the text. The walk keeps its own stack: a deeply nested value cannot overflow it.
 */
export function valueSize(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return scalarSize(value);
  const known = measured.get(value);
  if (known !== undefined) return known;
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null) {
      total += scalarSize(item) + 1;
    } else {
      const size = measured.get(item);
      if (size !== undefined) {
        total += size + 1;
      } else if (Array.isArray(item)) {
        // Its brackets and the separator after it.
        total += 3;
        for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
      } else {
        total += 3;
        for (const key in item) {
          total += key.length + 3;
          stack.push((item as Record<string, unknown>)[key]);
        }
      }
    }
    if (total > limit) return total;
  }
  // The value itself was counted with a separator it does not have.
  total -= 1;
  // Only a large value is worth remembering (a small one costs less to measure again than an entry of a WeakMap).
  if (total > 4096) measured.set(value, total);
  return total;
}

function scalarSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return numberSize(value);
    case 'boolean':
      return value ? 4 : 5;
    default:
      // null, and what JSON leaves out or writes as null (undefined, functions).
      return 4;
  }
}

/** The length of a number as JSON, without making the string for the usual integers. */
function numberSize(value: number): number {
  if (!Number.isFinite(value)) return 4;
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return (value < 0 ? 1 : 0) + (value === 0 ? 1 : Math.floor(Math.log10(Math.abs(value))) + 1);
  return String(value).length;
}

/**
 * The deepest a value entering a run may nest (arrays and objects): the journal writes it with
 * JSON.stringify, which recurses and would overflow the stack on a value thousands of levels deep
 * (a hostile agent's reply), leaving the run unrecordable. The server refuses deeper payloads too.
 */
export const MAX_VALUE_DEPTH = 100;

/** Whether `value` nests arrays and objects deeper than `maxDepth`; the walk stops as soon as it does. */
export function nestsDeeper(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const item = stack.pop() as object;
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    const children = Array.isArray(item) ? item : Object.values(item);
    for (let i = 0; i < children.length; i++) {
      const child: unknown = children[i];
      if (typeof child === 'object' && child !== null) {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
