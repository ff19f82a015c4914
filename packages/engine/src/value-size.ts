/*
 * The size of a JSON value as Gantry stores it (serialised JSON, in characters), measured
 * without serialising it: the walk stops as soon as the size passes the limit it is given, so a
 * huge value costs no more to refuse than a value at the limit costs to accept. The same walk
 * tells how deep it nests, for what enters a run (value-limits.ts).
 */

/**
 * What a walk measured in full of an array or object: its size, and how deep it nests (1 for
 * one without arrays or objects inside; -1 when the walk did not track depth). Values are not
 * changed once made.
 */
interface Measured {
  readonly size: number;
  readonly height: number;
}

const measured = new WeakMap<object, Measured>();

/** What `measureValue` answers for a value that nests deeper than it was allowed to. */
export const TOO_DEEP = -1;

/** Marks, on a walk's stack, the end of an array's or object's members: the walk climbs a level. */
const LEAVE: unique symbol = Symbol('leave');

/**
 * About the length of `JSON.stringify(value)` (string escapes aside), or some number above
 * `limit` as soon as it is known to be larger. Shared parts count each time they appear, as
 * they would in the text.
 */
export function valueSize(value: unknown, limit: number): number {
  return measureValue(value, limit, Infinity);
}

/**
 * `valueSize`, and in the same walk how deep the value nests arrays and objects: TOO_DEEP as
 * soon as it is known to nest deeper than `maxDepth`, whatever its size. The walk stops at
 * whichever limit it meets first and keeps its own stack: a deeply nested value (or a cycle,
 * which only a program's own objects can have) cannot overflow it.
 */
export function measureValue(value: unknown, limit: number, maxDepth: number): number {
  if (typeof value !== 'object' || value === null) return scalarSize(value);
  const known = measured.get(value);
  // valueSize's walks (every expression's result) skip the depth's bookkeeping.
  const track = maxDepth !== Infinity;
  if (known !== undefined && (known.height >= 0 || !track)) return known.height > maxDepth ? TOO_DEEP : known.size;
  let total = 0;
  // The depth of the array or object whose members are being walked, and the deepest so far.
  let depth = 0;
  let height = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null) {
      if (item === LEAVE) {
        depth--;
        continue;
      }
      total += scalarSize(item) + 1;
    } else {
      const inner = measured.get(item);
      if (inner !== undefined && (inner.height >= 0 || !track)) {
        total += inner.size + 1;
        if (depth + inner.height > maxDepth) return TOO_DEEP;
        if (depth + inner.height > height) height = depth + inner.height;
      } else {
        if (track) {
          if (++depth > maxDepth) return TOO_DEEP;
          if (depth > height) height = depth;
          stack.push(LEAVE);
        }
        // Its brackets and the separator after it.
        total += 3;
        if (Array.isArray(item)) {
          for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
        } else {
          for (const key in item) {
            total += key.length + 3;
            stack.push((item as Record<string, unknown>)[key]);
          }
        }
      }
    }
    if (total > limit) return total;
  }
  // The value itself was counted with a separator it does not have.
  total -= 1;
  // Only a large value is worth remembering (a small one costs less to measure again than an entry of a WeakMap).
  if (total > 4096) measured.set(value, { size: total, height: track ? height : -1 });
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
