/**
 * A file with tens of thousands of problems is validated in linear time and bounded memory
 * (issue 15 item 9: 40,000 bad nodes took 11.5 s, 400,000 did not finish in two minutes).
 */
import { describe, expect, it } from 'vitest';
import { checkFlowSchema, flowSchemaValidator } from './schemas.js';
import { validateFlowText } from './validate.js';

/** `n` nodes, each with an unknown key, every other one of an unknown type, an edge to no node and a reference to none. */
function badFlow(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const nodes = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    // One expression text for all: parsing 40,000 distinct expressions is another (linear) cost.
    nodes.push({ id: `n${i}`, type: i % 2 ? 'wiat' : 'wait', data: { seconds: '{% $nodes.ghost.seconds %}' }, timout: 1 });
    edges.push({ from: `n${i}`, to: `x${i}`, conditon: 'pass' });
  }
  return { name: 'bad', nodes, edges, ...extra };
}

const key = (e: { instancePath: string; keyword: string; message?: string }) => `${e.instancePath} ${e.keyword} ${e.message}`;

describe('validation at scale', () => {
  it('validates 40,000 bad nodes in seconds, listing the first 1000 problems and counting them all', () => {
    const text = JSON.stringify(badFlow(40_000), null, 1);
    const started = performance.now();
    const result = validateFlowText(text);
    const ms = performance.now() - started;
    // Before: many minutes (quadratic in the problems). After: seconds, on a loaded machine too.
    expect(ms).toBeLessThan(60_000);
    expect(result.ok).toBe(false);
    // Per node: the unknown key, the unknown type (every other one), the edge's unknown key and
    // its unknown target; the unknown $nodes reference is a warning.
    expect(result.counts).toEqual({ errors: 40_000 + 20_000 + 40_000 + 40_000, warnings: 40_000 });
    expect(result.diagnostics).toHaveLength(1000);
    expect(result.diagnostics.every((d) => d.severity === 'error')).toBe(true);
    expect(result.diagnostics[0]).toMatchObject({ code: 'UNKNOWN_KEY', pointer: '/nodes/0/timout' });
  }, 120_000);

  it('lists as many problems as asked', () => {
    const text = JSON.stringify(badFlow(300));
    expect(validateFlowText(text, { maxDiagnostics: Infinity }).diagnostics).toHaveLength(300 * 5 - 150);
    const few = validateFlowText(text, { maxDiagnostics: 3 });
    expect(few.diagnostics).toHaveLength(3);
    expect(few.counts).toEqual({ errors: 300 * 4 - 150, warnings: 300 });
  });

  it('checks long lists item by item with the same errors as the whole document', () => {
    const params = Object.fromEntries(Array.from({ length: 450 }, (_, i) => [i % 3 ? `p${i}` : `${i}-bad name`, i % 2 ? { type: 'string' } : { type: 'strnig' }]));
    const document = badFlow(500, { params, error_handlers: Array.from({ length: 250 }, (_, i) => ({ stage: `n${i}`, acton: 'fail' })) });
    const whole = flowSchemaValidator();
    expect(whole(document)).toBe(false);
    const expected = whole.errors!.map(key).sort();
    expect(expected.length).toBeGreaterThan(2000);
    expect(checkFlowSchema(document).map(key).sort()).toEqual(expected);
  });
});
