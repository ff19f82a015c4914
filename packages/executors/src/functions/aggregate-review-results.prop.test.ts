import type { FunctionContext, JsonObject } from '@gantry/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateReviewResults } from './aggregate-review-results.js';

const ctx = { runId: 'run-1', nodeId: 'result_aggregator', signal: new AbortController().signal, log: {} } as unknown as FunctionContext;
const DIMENSIONS = ['security', 'code_quality', 'test_coverage', 'performance', 'accessibility'] as const;

const score = fc.double({ min: 0, max: 10, noNaN: true });
const weights = fc
  .dictionary(fc.constantFrom(...DIMENSIONS), fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 5, noNaN: true })), { minKeys: 1 })
  .filter((w) => Object.values(w).some((v) => v > 0));
// Each sample is one agent's report, under results.<agent> (a parallel node) or a router label.
const samples = fc.array(fc.record({ dimension: fc.constantFrom(...DIMENSIONS), score, label: fc.boolean() }), { maxLength: 8 });

function reviewInput(list: Array<{ dimension: string; score: number; label: boolean }>, mergeCopies: boolean): JsonObject {
  const input: JsonObject = {};
  const results: JsonObject = {};
  list.forEach((s, i) => {
    const report: JsonObject = s.dimension === 'test_coverage' ? { test_coverage: s.score * 10 } : { [`${s.dimension}_score`]: s.score };
    if (s.label) input[`review_${i}`] = report;
    else {
      results[`agent-${i}`] = report;
      // The parallel merge: each agent's fields again at the top level, the last one winning.
      if (mergeCopies) Object.assign(input, report);
    }
  });
  if (Object.keys(results).length > 0) input['results'] = results;
  return input;
}

const run = async (input: JsonObject, weightFactors: Record<string, number>): Promise<JsonObject> =>
  aggregateReviewResults(input, { weight_factors: weightFactors }, ctx);

describe('aggregate_review_results properties', () => {
  it('keeps overall_score within the present weighted dimensions’ scores, and never invents one', async () => {
    await fc.assert(
      fc.asyncProperty(weights, samples, async (w, list) => {
        const out = await run(reviewInput(list, true), w);
        const dimensions = out['dimensions'] as Record<string, { score: number | null }>;
        const withData = new Set<string>(list.map((s) => s.dimension));
        for (const d of Object.keys(w)) expect(dimensions[d]?.score === null).toBe(!withData.has(d));
        const weighted = Object.entries(w).filter(([, v]) => v > 0).map(([d]) => d);
        expect(out['missing']).toEqual(weighted.filter((d) => !withData.has(d)));

        const present = weighted.flatMap((d) => (dimensions[d]?.score == null ? [] : [dimensions[d].score]));
        if (present.length === 0) {
          expect(out['overall_score']).toBeNull();
          return;
        }
        const overall = out['overall_score'] as number;
        expect(overall).toBeGreaterThanOrEqual(Math.min(...present));
        expect(overall).toBeLessThanOrEqual(Math.max(...present));
        const used = Object.values(out['weights_used'] as Record<string, number>);
        expect(used.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      }),
    );
  });

  it('depends on the weights’ ratios only', async () => {
    await fc.assert(
      fc.asyncProperty(weights, samples, fc.double({ min: 0.01, max: 100, noNaN: true }), async (w, list, k) => {
        const input = reviewInput(list, false);
        const scaled = Object.fromEntries(Object.entries(w).map(([d, v]) => [d, v * k]));
        const a = (await run(input, w))['overall_score'];
        const b = (await run(input, scaled))['overall_score'];
        if (a === null) expect(b).toBeNull();
        else expect(Math.abs((a as number) - (b as number))).toBeLessThanOrEqual(0.0100001);
      }),
    );
  });

  it('gives the same result whether or not a parallel node copied the agents’ fields to the top level', async () => {
    await fc.assert(
      fc.asyncProperty(weights, samples, async (w, list) => {
        const plain = await run(reviewInput(list, false), w);
        const merged = await run(reviewInput(list, true), w);
        expect(merged['overall_score']).toEqual(plain['overall_score']);
        expect(merged['missing']).toEqual(plain['missing']);
      }),
    );
  });
});
