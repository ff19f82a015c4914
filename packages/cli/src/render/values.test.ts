import { describe, expect, it } from 'vitest';
import { byteSize, formatValue } from './values.js';

describe('formatValue', () => {
  it('shows a value that fits in full, as JavaScript writes it', () => {
    expect(formatValue({ service_name: 'sample', bake_seconds: 2, steps: [10, 25], 'odd-key': null })).toBe('{ service_name: "sample", bake_seconds: 2, steps: [10, 25], "odd-key": null }');
    expect(formatValue([])).toBe('[]');
    expect(formatValue({})).toBe('{}');
    expect(formatValue('short')).toBe('"short"');
  });

  it('cuts a long value, nested parts first, and says its size', () => {
    const answer = { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'abc' }, body: { items: Array.from({ length: 50 }, (_, i) => ({ id: i })) } };
    const text = formatValue(answer, 60);
    expect(text).toMatch(/^\{ status: 200, headers: \{…2 keys\}, body: \{…1 key\} \} \(\d+ B\)$/);
    expect(text.length).toBeLessThanOrEqual(60);
    expect(formatValue('x'.repeat(3000), 30)).toMatch(/^"x+…" \(2\.9 KB\)$/);
    expect(formatValue(Array.from({ length: 100 }, (_, i) => i), 40)).toMatch(/^\[0, 1, 2, .*, … \d\d more\] \(\d+ B\)$/);
  });

  it('keeps room for what was left off, and never leaves a string unclosed', () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`key_${i}`, i]));
    expect(formatValue(many, 60)).toBe('{ key_0: 0, key_1: 1, key_2: 2, … 27 more } (341 B)');
    const blue = { deployment_id: 'blue-sample-service-v1-d47b3d', version: '1.0.0', requests: 100, p95_latency_ms: 4.75, errors: 0, restarted: false };
    expect(formatValue(blue, 70)).toBe('{ deployment_id: "blue-sample-service-v1-d47b3d", … 5 more } (133 B)');
    expect(formatValue(blue, 60)).toBe('{ deployment_id: "blue-sample-s…", … 5 more } (133 B)');
    expect(formatValue(blue, 30)).toBe('{…6 keys} (133 B)');
  });

  it('bounds its work on a huge value: only the part shown is walked, and its size', () => {
    const huge = Array.from({ length: 200_000 }, (_, i) => ({ i, name: `item-${i}` }));
    const started = performance.now();
    expect(formatValue(huge, 80)).toMatch(/, … 19999\d more\] \(\d+\.\d MB\)$/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('byteSize', () => {
  it('is the size of the value as JSON', () => {
    expect(byteSize({ a: 1 })).toBe('7 B');
    expect(byteSize('é'.repeat(1024))).toBe('2.0 KB');
  });
});
