import { GantryError } from '@gantry/engine';
import type { FunctionContext, JsonObject } from '@gantry/engine';
import { describe, expect, it } from 'vitest';
import { aggregateReviewResults } from './aggregate-review-results.js';
import { countBySeverity, dimensionOfName, securityFromVulnerabilities } from './review-evidence.js';

const ctx = { runId: 'run-1', nodeId: 'result_aggregator', signal: new AbortController().signal, log: {} } as unknown as FunctionContext;
const DESIGN_WEIGHTS: JsonObject = { security: 0.4, code_quality: 0.3, test_coverage: 0.2, performance: 0.1 };
const aggregate = async (input: JsonObject, params: JsonObject = { weight_factors: DESIGN_WEIGHTS }): Promise<JsonObject> =>
  aggregateReviewResults(input, params, ctx);

/**
 * The shipped code-quality flow's aggregator input: the router's output (each called agent's
 * result under its label) merged with the security_scan agent's output (result + metrics).
 */
const CODE_QUALITY_INPUT: JsonObject = {
  labels: ['backend_review', 'test_review'],
  backend_review: {
    summary: 'Rate limiting is sound; one N+1 query in list_orders.',
    code_quality_score: 7.8,
    performance_score: 6.5,
    issues: [{ file: 'api/orders.py', line: 12, severity: 'minor', message: 'N+1 query', score: 2 }],
    duration_seconds: 41.2,
  },
  test_review: { test_coverage: 84.5, tests_added: 3, score: 8, duration_seconds: 17.9 },
  security_score: 9.1,
  vulnerabilities: [
    { check_id: 'python.flask.security.audit.debug-enabled', path: 'api/app.py', extra: { severity: 'WARNING', message: 'debug=True' } },
  ],
  scanned_files: 6,
  duration_seconds: 12.4,
};

/**
 * The complete pipeline's `validation_orchestrator` (a parallel node): every agent's output
 * merged at the top level, and again under `results.<agent>`.
 */
const PARALLEL_INPUT: JsonObject = {
  code_quality_score: 8.2,
  review_comments: ['Prefer dependency injection for the limiter'],
  security_vulnerabilities: 0,
  findings: [],
  test_coverage: 86,
  tests_passed: 412,
  tests_failed: 0,
  results: {
    'senior-backend-developer': { code_quality_score: 8.2, review_comments: ['Prefer dependency injection for the limiter'] },
    'semgrep-security-analyzer': { security_vulnerabilities: 0, findings: [] },
    'testing-qa-validator': { test_coverage: 86, tests_passed: 412, tests_failed: 0 },
  },
};

describe('aggregate_review_results', () => {
  it('scores the shipped code-quality flow’s merged review output', async () => {
    const out = await aggregate(CODE_QUALITY_INPUT);
    // 0.4 × 9.1 + 0.3 × 7.8 + 0.2 × 8.45 + 0.1 × 6.5 = 8.32
    expect(out).toMatchObject({
      overall_score: 8.32,
      security_score: 9.1,
      code_quality_score: 7.8,
      test_coverage: 84.5,
      performance_score: 6.5,
      missing: [],
      renormalised: false,
      weights_used: { security: 0.4, code_quality: 0.3, test_coverage: 0.2, performance: 0.1 },
      vulnerabilities: { critical: 0, high: 0, medium: 1, low: 0, info: 0, total: 1 },
      security_vulnerabilities: 1,
    });
    expect(out['dimensions']).toMatchObject({
      security: { score: 9.1, weight: 0.4, source: 'security_score' },
      code_quality: { score: 7.8, weight: 0.3, source: 'backend_review.code_quality_score' },
      test_coverage: { score: 8.45, weight: 0.2, source: 'test_review.test_coverage' },
      performance: { score: 6.5, weight: 0.1, source: 'backend_review.performance_score' },
    });
    expect(out['note']).toBeUndefined();
  });

  it('counts a parallel node’s scores once, though they appear twice, and renormalises over what is there', async () => {
    const out = await aggregate(PARALLEL_INPUT);
    // performance is missing: (0.4 × 10 + 0.3 × 8.2 + 0.2 × 8.6) / 0.9 = 9.09
    expect(out).toMatchObject({
      overall_score: 9.09,
      security_score: 10,
      code_quality_score: 8.2,
      test_coverage: 86,
      performance_score: null,
      missing: ['performance'],
      renormalised: true,
      weights_used: { security: 0.4444, code_quality: 0.3333, test_coverage: 0.2222 },
      security_vulnerabilities: 0,
    });
    expect(out['note']).toBe('No data for performance: weights renormalised over security, code_quality, test_coverage.');
    const dimensions = out['dimensions'] as Record<string, JsonObject>;
    expect(dimensions['code_quality']?.['samples']).toEqual([{ path: 'results.senior-backend-developer.code_quality_score', score: 8.2 }]);
    expect(dimensions['security']?.['source']).toBe('results.semgrep-security-analyzer.security_vulnerabilities');
    expect(dimensions['performance']).toMatchObject({ score: null, weight: 0.1, weight_used: 0, source: null, samples: [] });
  });

  it('uses the design document’s weights when the node gives none', async () => {
    const withDefaults = await aggregate(CODE_QUALITY_INPUT, {});
    expect(withDefaults['overall_score']).toBe(8.32);
    expect(withDefaults['weights_used']).toEqual(DESIGN_WEIGHTS);
  });

  it('takes the mean of several reviewers, but the lowest security score', async () => {
    const out = await aggregate({
      backend_review: { code_quality_score: 7, security_score: 9 },
      frontend_review: { code_quality_score: 8, security_score: 6 },
      security_score: 9.5,
    });
    expect(out).toMatchObject({ code_quality_score: 7.5, security_score: 6 });
    const dimensions = out['dimensions'] as Record<string, JsonObject>;
    expect(dimensions['security']?.['source']).toBe('lowest of security_score, backend_review.security_score, frontend_review.security_score');
    expect(dimensions['code_quality']?.['source']).toBe('mean of backend_review.code_quality_score, frontend_review.code_quality_score');
  });

  const shapes: Array<[string, JsonObject, Record<string, number | null>]> = [
    ['scores objects', { review: { scores: { security: 8, code_quality: 6, performance: 9 } } }, { security_score: 8, code_quality_score: 6, performance_score: 9 }],
    ['dimension objects with a score', { security: { score: 7.25, tool: 'semgrep' }, code_quality: { score: 6 } }, { security_score: 7.25, code_quality_score: 6 }],
    ['numeric strings', { backend_review: { code_quality_score: '8.5', test_coverage: '91%' } }, { code_quality_score: 8.5, test_coverage: 91 }],
    ['nulls as no score', { backend_review: { code_quality_score: null, security_score: 8 } }, { code_quality_score: null, security_score: 8 }],
    ['a reviewer’s bare score, by its label', { backend_review: { score: 7 }, security_review: { score: 8 }, perf_review: { score: 5 } }, { code_quality_score: 7, security_score: 8, performance_score: 5 }],
    ['a bare score under results.<agent>', { results: { 'senior-frontend-developer': { score: 6 }, 'semgrep-security-analyzer': { score: 9 } } }, { code_quality_score: 6, security_score: 9 }],
    ['several agents under one router label', { backend_review: [{ code_quality_score: 6 }, { code_quality_score: 9 }] }, { code_quality_score: 7.5 }],
    ['agents keyed by name under one label', { backend_review: { 'senior-backend-developer': { code_quality_score: 8 }, 'api-reviewer': { code_quality_score: 7 } } }, { code_quality_score: 7.5 }],
    ['coverage under its other names', { test_review: { coverage_percent: 72.5 } }, { test_coverage: 72.5 }],
    ['a test reviewer’s score is not a coverage percentage', { test_review: { score: 9 } }, { test_coverage: null }],
    ['a top-level bare score is nobody’s', { score: 3 }, { code_quality_score: null, security_score: null }],
    ['a CVSS score in a finding list is not a review', { findings: [{ id: 'CVE-2024-1', score: 9.8 }] }, { code_quality_score: null }],
  ];
  it.each(shapes)('reads %s', async (_name, input, expected) => {
    expect(await aggregate(input)).toMatchObject(expected);
  });

  const vulnerabilities: Array<[string, JsonObject, number, number]> = [
    ['none found', { vulnerabilities: [] }, 10, 0],
    ['a count of unknown severity (as medium)', { security_vulnerabilities: 3 }, 7, 3],
    ['semgrep findings', { vulnerabilities: [{ extra: { severity: 'ERROR' } }, { extra: { severity: 'INFO' } }] }, 7.5, 2],
    ['Trivy findings', { vulnerabilities: [{ VulnerabilityID: 'CVE-2024-3094', Severity: 'CRITICAL' }, { Severity: 'LOW' }] }, 4.75, 2],
    ['counts by severity', { vulnerabilities: { critical: 0, high: 1, medium: 2, low: 4 } }, 4.5, 7],
    ['counts with a total', { vulnerabilities: { high: 1, total: 3 } }, 5.5, 3],
    ['so many it bottoms out', { vulnerabilities: { critical: 4 } }, 0, 4],
  ];
  it.each(vulnerabilities)('derives security from %s', async (_name, input, score, total) => {
    const out = await aggregate(input);
    expect(out['security_score']).toBe(score);
    expect(out['security_vulnerabilities']).toBe(total);
  });

  it('prefers an explicit security score to one derived from the same report’s vulnerabilities', async () => {
    const out = await aggregate({ security_scan: { security_score: 8.5, vulnerabilities: { high: 3 } } });
    expect(out['security_score']).toBe(8.5);
    expect(out['security_vulnerabilities']).toBe(3);
  });

  it('reads any dimension the weights name from <name>_score', async () => {
    const out = await aggregate(
      { frontend_review: { code_quality_score: 8, accessibility_score: 5 } },
      { weight_factors: { code_quality: 3, accessibility: 1, security: 0 } },
    );
    // Relative weights: (3 × 8 + 1 × 5) / 4
    expect(out).toMatchObject({ overall_score: 7.25, missing: [], weights_used: { code_quality: 0.75, accessibility: 0.25 } });
    expect(out['dimensions']).toMatchObject({ accessibility: { score: 5, weight: 1 }, security: { score: null, weight: 0 } });
  });

  it('gives no overall score, rather than an invented one, when nothing weighted has data', async () => {
    const out = await aggregate({});
    expect(out).toMatchObject({
      overall_score: null,
      security_score: null,
      code_quality_score: null,
      test_coverage: null,
      performance_score: null,
      missing: ['security', 'code_quality', 'test_coverage', 'performance'],
      weights_used: {},
      renormalised: true,
      vulnerabilities: null,
      security_vulnerabilities: null,
    });
    expect(out['note']).toBe('No data for security, code_quality, test_coverage, performance: no overall score.');
    const onlyUnweighted = await aggregate({ performance_score: 9 }, { weight_factors: { security: 1, performance: 0 } });
    expect(onlyUnweighted).toMatchObject({ overall_score: null, performance_score: 9, missing: ['security'] });
  });

  const bad: Array<[string, JsonObject, JsonObject, RegExp]> = [
    ['a negative weight', {}, { weight_factors: { security: -0.4, code_quality: 1 } }, /expected `weight_factors\.security` to be a number ≥ 0, got -0\.4 \(number\)/],
    ['a weight that is a string', {}, { weight_factors: { security: 'high' } }, /expected `weight_factors\.security` to be a number ≥ 0, got "high" \(string\)/],
    ['weights that are all zero', {}, { weight_factors: { security: 0 } }, /at least one dimension a weight > 0/],
    ['no weights at all', {}, { weight_factors: {} }, /at least one dimension a weight > 0, got an empty object/],
    ['weights as a list', {}, { weight_factors: [0.4, 0.6] }, /expected `weight_factors` to be an object .*got an array of 2/],
    ['a score on a 0–100 scale', { backend_review: { code_quality_score: 85 } }, {}, /expected backend_review\.code_quality_score to be a score from 0 to 10, got 85 \(number\)/],
    ['a coverage over 100', { test_coverage: 120 }, {}, /expected test_coverage to be a percentage from 0 to 100, got 120/],
    ['a score that is a word', { security_score: 'excellent' }, {}, /expected security_score to be a score from 0 to 10, got "excellent" \(string\)/],
    ['a negative vulnerability count', { security_vulnerabilities: -1 }, {}, /expected security_vulnerabilities to be a count/],
    ['vulnerabilities with no counts', { vulnerabilities: { scanner: 'trivy' } }, {}, /expected vulnerabilities to hold counts by severity .*got an object with keys scanner/],
  ];
  it.each(bad)('refuses %s with FUNCTION_FAILED, not retryable', async (_name, input, params, message) => {
    const error = await aggregate(input, params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GantryError);
    expect(error).toMatchObject({ code: 'FUNCTION_FAILED', retryable: false });
    expect((error as Error).message).toMatch(message);
  });
});

describe('review evidence rules', () => {
  it.each([
    ['backend_review', 'code_quality'],
    ['frontend_review', 'code_quality'],
    ['results.senior-backend-developer', 'code_quality'],
    ['test_review', 'test_coverage'],
    ['results.testing-qa-validator', 'test_coverage'],
    ['results.semgrep-security-analyzer', 'security'],
    ['container-vulnerability-scanner-trivy', 'security'],
    ['perf_review', 'performance'],
    ['findings', undefined],
  ])('a bare score in %s rates %s', (name, dimension) => {
    expect(dimensionOfName(name, ['security', 'code_quality', 'test_coverage', 'performance'])).toBe(dimension);
  });

  it('weighs severities 5 / 2.5 / 1 / 0.25 / 0 off a 10', () => {
    expect(securityFromVulnerabilities({ critical: 1, high: 1, medium: 1, low: 1, info: 9 })).toBe(1.25);
    expect(countBySeverity(['HIGH', 'moderate', 'note', 'whatever'], 'v')).toEqual({ critical: 0, high: 1, medium: 2, low: 1, info: 0 });
  });
});
