/** Where a value departs from what was expected of it. */
export interface Mismatch {
  /** `.checks[1].actual`: the path below the value compared, "" for the value itself. */
  readonly path: string;
  readonly expected: unknown;
  /** undefined when the key is absent. */
  readonly actual: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A partial match: an object matches when each key expected matches (others are ignored), an
 * array when it has as many elements and each matches, anything else when it is equal. Returns
 * the first place it does not, or undefined.
 */
export function mismatch(expected: unknown, actual: unknown, path = ''): Mismatch | undefined {
  if (isObject(expected)) {
    if (!isObject(actual)) return { path, expected, actual };
    for (const [key, value] of Object.entries(expected)) {
      const found = mismatch(value, Object.hasOwn(actual, key) ? actual[key] : undefined, `${path}.${key}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return { path, expected, actual };
    for (let i = 0; i < expected.length; i++) {
      const found = mismatch(expected[i], actual[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return Object.is(expected, actual) || (expected === 0 && actual === 0) ? undefined : { path, expected, actual };
}

export function matches(expected: unknown, actual: unknown): boolean {
  return mismatch(expected, actual) === undefined;
}
