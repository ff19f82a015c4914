import { describe, expect, it } from 'vitest';
import { GantryError } from '../errors.js';
import { compileFlow } from '../load.js';
import type { Bindings } from './expressions.js';
import { edgeExpressions, edgeExpressionsNow, evaluateForEach, mapItemOutput, mapNodeOutput } from './node-expressions.js';

const flow = compileFlow({
  name: 'exprs',
  nodes: [
    { id: 'a', type: 'function', data: { function: 'f' } },
    { id: 'hi', type: 'function', data: { function: 'f' } },
    { id: 'lo', type: 'function', data: { function: 'f' } },
    { id: 'any', type: 'function', data: { function: 'f' } },
    { id: 'b', type: 'function', data: { function: 'f' } },
    { id: 'other', type: 'function', data: { function: 'f' } },
  ],
  edges: [
    { from: 'a', to: 'hi', condition: '{% score >= $params.bar %}' },
    { from: 'a', to: 'lo', condition: '{% score < $params.bar %}' },
    { from: 'a', to: 'any' },
    { from: 'b', to: 'other', condition: '{% items > 1 %}' },
    { from: 'b', to: 'lo', condition: '{% $count(items) > 1 %}' },
  ],
});
const node = (id: string) => flow.nodes.get(id)!;
const bindings: Bindings = { trigger: null, params: { bar: 5 }, nodes: {}, run: { id: 'r1', flow: 'exprs', started_at: '2026-11-27T00:00:00.000Z' } };

async function failure(promise: Promise<unknown>): Promise<GantryError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GantryError);
  return error as GantryError;
}

describe("a node's expressions", () => {
  it('for_each: an expression must give an array, and the error names the node and what it gave', async () => {
    expect(await evaluateForEach(flow, node('a'), '{% [1, $params.bar] %}', {}, bindings)).toEqual([1, 5]);
    const error = await failure(evaluateForEach(flow, node('a'), '{% $params %}', {}, bindings));
    expect(error.code).toBe('EXPRESSION_FAILED');
    expect(error.message).toBe('node "a": for_each must give an array, got object');
  });

  it("output: a node's mapping must give an object; an item's may give any JSON value", async () => {
    expect(await mapNodeOutput(flow, node('a'), '{% { "total": x + 1 } %}', { x: 1 }, bindings)).toEqual({ total: 2 });
    for (const [mapping, described] of [
      ['{% [x] %}', 'an array'],
      ['{% x %}', '1'],
    ] as const) {
      const error = await failure(mapNodeOutput(flow, node('a'), mapping, { x: 1 }, bindings));
      expect(error.code).toBe('OUTPUT_INVALID');
      expect(error.message).toBe(`node "a": its output mapping gave ${described}, but a node's output is an object`);
    }
    expect(await mapItemOutput(flow, '{% [x, $item] %}', { x: 1 }, { ...bindings, item: 'i', index: 0 })).toEqual([1, 'i']);
  });

  it("edges: each expression condition's truth by edge index, JSONata's truth; none when the node has none", async () => {
    const results = await edgeExpressions(flow, node('a'), { score: 7 }, bindings);
    expect([...results!]).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(await edgeExpressions(flow, node('hi'), {}, bindings)).toBeUndefined();
  });

  it('edges decided now: the same truths when every condition compiles; none (later, by JSONata) when one does not compile or fails', async () => {
    for (const score of [7, 2]) {
      const now = edgeExpressionsNow(flow, node('a'), { score }, bindings);
      expect(now).toBeDefined();
      expect([...now!]).toEqual([...(await edgeExpressions(flow, node('a'), { score }, bindings))!]);
    }
    // $count is not compiled: the edges wait for JSONata.
    expect(edgeExpressionsNow(flow, node('b'), { items: 5 }, bindings)).toBeUndefined();
    expect(await edgeExpressions(flow, node('b'), { items: 5 }, bindings)).toBeDefined();
    expect(edgeExpressionsNow(flow, node('b'), { items: [1, 2] }, bindings)).toBeUndefined();
    // A failing compiled condition (an array compared with a number) is left to JSONata, which reports it.
    const error = await failure(edgeExpressions(flow, node('b'), { items: [1, 2] }, bindings));
    expect(error.code).toBe('EXPRESSION_FAILED');
    expect(error.message).toMatch(/\{% items > 1 %\} failed: .*must evaluate to numeric or string values/);
  });
});
