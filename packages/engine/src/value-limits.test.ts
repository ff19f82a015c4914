/**
 * What enters a run is measured in one walk for its size and its depth (value-size.ts): the
 * answers of that walk checked against plain recursive counts on generated values, and through
 * the cache of measured values, which must not hide a depth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oversize } from './value-limits.js';
import { MAX_VALUE_DEPTH, valueSize } from './value-size.js';

/**
 * The size valueSize counts, recursively: JSON's length but for a separator after each member
 * (it is about the length, and never less).
 */
function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value).length;
  if (Array.isArray(value)) return 2 + value.reduce((sum: number, item) => sum + sizeOf(item) + 1, 0);
  return 2 + Object.entries(value).reduce((sum, [key, item]) => sum + key.length + 3 + sizeOf(item) + 1, 0);
}

/** How deep `value` nests arrays and objects (0 for a scalar), as nestsDeeper counted it. */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

function nest(levels: number, inner: unknown): unknown {
  let value = inner;
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? { d: value } : [value];
  return value;
}

/** More than 4096 characters as JSON, so that a walk remembers it. */
const bulk = (): unknown => ({ text: 'x'.repeat(5000) });

describe('oversize: size and depth in one walk', () => {
  it('agrees with JSON.stringify and the depth of generated values, at every limit', () => {
    // Strings without characters JSON escapes: the walk counts a string's characters as they are.
    const plain = fc.string({ unit: fc.constantFrom('a', 'b', 'é', ' ', '1') });
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small', maxDepth: 6 }, fc.constantFrom(null, true, false, 0, -3, 1.5, 1e21, 123), plain, fc.array(tie('node')), fc.dictionary(plain, tie('node'))),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), fc.nat({ max: 300 }), (v, extra, limit) => {
        const wrapped = nest(extra, v);
        const size = sizeOf(wrapped);
        expect(size).toBeGreaterThanOrEqual(JSON.stringify(wrapped).length);
        expect(valueSize(wrapped, 1e9)).toBe(size);
        // Within the depth limit, only the size decides; the walk names where it stopped.
        const error = oversize(wrapped, limit, 'it', 'n');
        if (size <= limit) expect(error).toBeUndefined();
        else {
          const named = Number(/^it is at least (\d+) bytes as JSON, more than its limit of (\d+)$/.exec(error?.message ?? '')?.[1]);
          expect(named).toBeGreaterThan(limit);
          expect(named).toBeLessThanOrEqual(size + 1);
          expect(error?.nodeId).toBe('n');
        }
        expect(oversize(wrapped, 1e9, 'it')).toBeUndefined();
        const depth = depthOf(wrapped);
        const tight = oversize(nest(MAX_VALUE_DEPTH - depth + 1, wrapped), 1e9, 'it', 'n');
        expect(tight?.message).toBe(`it nests arrays and objects deeper than ${MAX_VALUE_DEPTH} levels, which a journal cannot keep`);
        expect(tight?.nodeId).toBe('n');
        expect(oversize(nest(MAX_VALUE_DEPTH - depth, wrapped), 1e9, 'it')).toBeUndefined();
      }),
      { numRuns: 300, seed: 4242 },
    );
  });

  it('names the size a walk stopped at, as before', () => {
    const value = { a: 'x'.repeat(100), b: [1, 2, 3] };
    // 1 + the key a (4) + the string (102 and its separator): as the walk counted before it tracked depth.
    expect(oversize(value, 50, 'the output of node "n"', 'n')?.message).toBe('the output of node "n" is at least 123 bytes as JSON, more than its limit of 50');
  });

  it('refuses a value 100,000 levels deep without overflowing the stack, and a cycle', () => {
    expect(oversize(nest(100_000, 1), 1_048_576, 'it')?.message).toMatch(/deeper than 100 levels/);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(oversize(cycle, 1_048_576, 'it')?.message).toMatch(/deeper than 100 levels/);
    expect(valueSize(cycle, 1000)).toBeGreaterThan(1000);
  });

  it('finds a depth past the limit in a value valueSize measured and remembered first', () => {
    const deep = nest(MAX_VALUE_DEPTH, bulk());
    expect(valueSize(deep, 1e9)).toBe(sizeOf(deep));
    expect(oversize(deep, 1e9, 'it')?.message).toMatch(/deeper than 100 levels/);
    // And again, from what the walk remembered.
    expect(oversize(deep, 1e9, 'it')?.message).toMatch(/deeper than 100 levels/);
  });

  it('counts the depth of a remembered part where it sits in a larger value', () => {
    const part = nest(MAX_VALUE_DEPTH - 3, bulk());
    expect(oversize(part, 1e9, 'it')).toBeUndefined();
    expect(oversize({ a: [part] }, 1e9, 'it')).toBeUndefined();
    expect(oversize({ a: [{ b: part }] }, 1e9, 'it')?.message).toMatch(/deeper than 100 levels/);
    expect(valueSize({ a: [{ b: part }] }, 1e9)).toBe(sizeOf({ a: [{ b: part }] }));
  });
});
