import { describe, expect, it } from 'vitest';
import { duration, jsonText, list, relative } from './format';

describe('format', () => {
  it('writes durations short at every scale', () => {
    expect([0, 950, 1234, 12_400, 65_000, 3_725_000, 90_000_000, 200 * 3_600_000].map(duration)).toEqual([
      '0 ms',
      '950 ms',
      '1.2 s',
      '12 s',
      '1 min 05 s',
      '1 h 02 min',
      '25 h 00 min',
      '8 d 8 h',
    ]);
    expect(duration(-1)).toBe('–');
  });

  it('writes relative times and lists', () => {
    expect(relative(1000, 3000)).toBe('just now');
    expect(relative(0, 180_000)).toBe('3 min ago');
    expect(relative(3_900_000, 0)).toBe('in 1 h');
    expect(list(['a', 'b', 'c'])).toBe('a, b and c');
  });

  it('cuts long JSON and says by how much', () => {
    expect(jsonText({ a: 'x'.repeat(50) }, 20)).toEqual({ text: '{\n  "a": "xxxxxxxxxx', cut: 43 });
  });
});
