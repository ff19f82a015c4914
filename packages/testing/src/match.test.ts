import { describe, expect, it } from 'vitest';
import { mismatch } from './match.js';

describe('mismatch (a partial match)', () => {
  it('ignores keys the expectation leaves out, at every depth', () => {
    expect(mismatch({ a: { b: 1 } }, { a: { b: 1, c: 2 }, d: 3 })).toBeUndefined();
  });

  it('names the first place that differs, with what was expected and found', () => {
    expect(mismatch({ checks: [{ passed: true }, { actual: 7.5 }] }, { checks: [{ passed: true }, { actual: 6 }] })).toEqual({ path: '.checks[1].actual', expected: 7.5, actual: 6 });
  });

  it('takes an absent key as absent, not as null', () => {
    expect(mismatch({ a: null }, {})).toEqual({ path: '.a', expected: null, actual: undefined });
    expect(mismatch({ a: null }, { a: null })).toBeUndefined();
  });

  it('compares arrays element by element, and their lengths', () => {
    expect(mismatch([1, 2], [1, 2, 3])).toEqual({ path: '', expected: [1, 2], actual: [1, 2, 3] });
    expect(mismatch([{ id: 1 }], [{ id: 1, extra: true }])).toBeUndefined();
  });

  it('does not take an array for an object, nor a string for a number', () => {
    expect(mismatch({}, [])).toEqual({ path: '', expected: {}, actual: [] });
    expect(mismatch({ n: 1 }, { n: '1' })).toEqual({ path: '.n', expected: 1, actual: '1' });
  });

  it('finds no inherited key on the actual value', () => {
    expect(mismatch({ toString: 'x' }, {})).toEqual({ path: '.toString', expected: 'x', actual: undefined });
  });
});
