/**
 * `aggregate_review_results`: one weighted score out of the review agents' reports, for the
 * design document's `quality_gate` (`overall_score`, `security_score`, `test_coverage`).
 *
 * - Each dimension's score (0–10) is found by {@link collectEvidence}. Several reports on one
 *   dimension combine by their mean, except security, which takes the lowest: a vulnerability
 *   one reviewer found is not offset by another reviewer's clean report.
 * - `overall_score` is the weighted mean of the dimensions that have data, weights
 *   renormalised over them. A dimension with no data is listed in `missing` and never given
 *   a score; when no weighted dimension has data, `overall_score` is null and a gate on it fails.
 * - Weights are relative (they need not sum to 1), must be numbers ≥ 0 with at least one > 0,
 *   and may name any dimension: `accessibility` is read from `accessibility_score`, ….
 */
import type { FlowFunction, JsonObject, JsonValue } from '@gantry/engine';
import { badInput, isObject } from './json-values.js';
import { collectEvidence } from './review-evidence.js';
import type { Sample, SeverityCounts } from './review-evidence.js';

/** The design document's weights, used when a node gives no `weight_factors`. */
export const DEFAULT_WEIGHT_FACTORS: Readonly<Record<string, number>> = Object.freeze({
  security: 0.4,
  code_quality: 0.3,
  test_coverage: 0.2,
  performance: 0.1,
});

/** Dimensions always reported (gates read them by name), weighted or not. */
const STANDARD_DIMENSIONS = ['security', 'code_quality', 'test_coverage', 'performance'] as const;
const FN = 'aggregate_review_results';

/**
 * Scores the review agents' merged output; `params.weight_factors` weighs the dimensions
 * (default {@link DEFAULT_WEIGHT_FACTORS}).
 *
 * Output: `overall_score` (0–10, 2 decimals, or null), `security_score`, `code_quality_score`,
 * `performance_score` (0–10 or null), `test_coverage` (the percentage as found, or null),
 * `dimensions` (`name → { score, weight, weight_used, source, samples }`), `missing`,
 * `weights_used`, `renormalised`, `note` (when something is missing), `vulnerabilities`
 * (counts by severity and total, or null) and `security_vulnerabilities` (the total, or null).
 * @throws GantryError `FUNCTION_FAILED` (not retryable) for invalid weights, and for a score,
 *   percentage or count that is not a number in range; the message gives its path.
 */
export const aggregateReviewResults: FlowFunction = (input, params) => {
  const weights = readWeights(params['weight_factors']);
  const dimensions = [...new Set([...Object.keys(weights), ...STANDARD_DIMENSIONS])];
  const evidence = collectEvidence(input, dimensions);

  const combined = new Map<string, { score: number; samples: Sample[] }>();
  for (const dimension of dimensions) {
    const samples = evidence.samples.filter((s) => s.dimension === dimension);
    if (samples.length === 0) continue;
    const scores = samples.map((s) => s.score);
    const score = dimension === 'security' ? Math.min(...scores) : mean(scores);
    combined.set(dimension, { score, samples });
  }

  const weighted = Object.entries(weights).filter(([, w]) => w > 0);
  const missing = weighted.filter(([d]) => !combined.has(d)).map(([d]) => d);
  const present = weighted.filter(([d]) => combined.has(d));
  const presentWeight = present.reduce((sum, [, w]) => sum + w, 0);
  const weightsUsed: JsonObject = {};
  let overall: number | null = null;
  if (presentWeight > 0) {
    overall = 0;
    for (const [d, w] of present) {
      weightsUsed[d] = round(w / presentWeight, 4);
      overall += (combined.get(d)?.score ?? 0) * (w / presentWeight);
    }
  }

  const dimensionsOut: JsonObject = {};
  for (const d of dimensions) {
    const found = combined.get(d);
    const weight = weights[d] ?? 0;
    dimensionsOut[d] = {
      score: found === undefined ? null : round(found.score),
      weight,
      weight_used: typeof weightsUsed[d] === 'number' ? weightsUsed[d] : 0,
      source: found === undefined ? null : describeSources(d, found.samples),
      samples: (found?.samples ?? []).map((s) => ({ path: s.path, score: round(s.score) })),
    };
  }
  const percents = (combined.get('test_coverage')?.samples ?? []).flatMap((s) => (s.percent === undefined ? [] : [s.percent]));
  const scoreOf = (d: string): number | null => {
    const found = combined.get(d);
    return found === undefined ? null : round(found.score);
  };

  return {
    overall_score: overall === null ? null : round(overall),
    security_score: scoreOf('security'),
    code_quality_score: scoreOf('code_quality'),
    // The gate compares coverage as a percentage (>= 80): report it as found, never from a score.
    test_coverage: percents.length === 0 ? null : round(mean(percents)),
    performance_score: scoreOf('performance'),
    dimensions: dimensionsOut,
    missing,
    weights_used: weightsUsed,
    renormalised: missing.length > 0,
    ...noteFor(missing, present.map(([d]) => d)),
    vulnerabilities: evidence.vulnerabilities === undefined ? null : countsOut(evidence.vulnerabilities),
    security_vulnerabilities: evidence.vulnerabilities === undefined ? null : total(evidence.vulnerabilities),
  };
};

/** Validates `weight_factors` once: an object of numbers ≥ 0, at least one of them > 0. */
function readWeights(value: JsonValue | undefined): Record<string, number> {
  if (value === undefined || value === null) return { ...DEFAULT_WEIGHT_FACTORS };
  if (!isObject(value)) throw badInput(FN, '`weight_factors` to be an object of dimension → weight', value);
  const weights: Record<string, number> = {};
  for (const [name, weight] of Object.entries(value)) {
    if (name.trim() === '') throw badInput(FN, 'every `weight_factors` key to be a dimension name', name);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw badInput(FN, `\`weight_factors.${name}\` to be a number ≥ 0`, weight);
    }
    weights[name] = weight;
  }
  if (!Object.values(weights).some((w) => w > 0)) {
    throw badInput(FN, '`weight_factors` to give at least one dimension a weight > 0', value);
  }
  return weights;
}

function noteFor(missing: string[], present: string[]): JsonObject {
  if (missing.length === 0) return {};
  const note =
    present.length === 0
      ? `No data for ${missing.join(', ')}: no overall score.`
      : `No data for ${missing.join(', ')}: weights renormalised over ${present.join(', ')}.`;
  return { note };
}

function describeSources(dimension: string, samples: Sample[]): string {
  const paths = samples.map((s) => s.path).join(', ');
  if (samples.length === 1) return paths;
  return `${dimension === 'security' ? 'lowest' : 'mean'} of ${paths}`;
}

function countsOut(counts: SeverityCounts): JsonObject {
  return { ...counts, total: total(counts) };
}

function total(counts: SeverityCounts): number {
  return counts.critical + counts.high + counts.medium + counts.low + counts.info;
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Rounds to `digits` decimals (halves up); monotone, so a rounded mean stays within its rounded bounds. */
function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
