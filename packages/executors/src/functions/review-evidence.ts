/**
 * Finds review scores in the merged output of review agents, for `aggregate_review_results`.
 *
 * A review's input is a merge (DESIGN §3.1): a `parallel` node puts each agent's output at the
 * top level and again under `results.<agent>`; a router conditional puts each called agent's
 * result under its label (`backend_review`, …); an `agent` node's output (the security scan)
 * is merged in at the top level. So scores are read from *reports*:
 *
 * - every object under a top-level key (to three levels down, through arrays too) that holds a
 *   score field is a report named by its path (`results.semgrep-security-analyzer`,
 *   `backend_review`); its children are details and are not searched further;
 * - the top level itself is a report too, except for fields that are copies of a nested
 *   report's (the parallel merge), so that no score is counted twice.
 *
 * In a report, dimension `d` is read from the first of: (test_coverage only: a percentage in
 * `test_coverage`, `coverage`, `coverage_percent`, `test_coverage_percent`, divided by 10),
 * `d_score`, `scores.d`, `d.score`, (security only: a vulnerability list or count, see
 * {@link securityFromVulnerabilities}), and last a bare `score` in a report whose name says what
 * it reviews (see {@link dimensionOfName}). Scores are 0–10, percentages 0–100; numeric strings
 * such as `"8.5"` or `"85%"` are read as numbers; anything else fails rather than being guessed.
 */
import type { JsonObject, JsonValue } from '@gantry/engine';
import { badInput, isObject } from './json-values.js';

/** One score found for one dimension. */
export interface Sample {
  readonly dimension: string;
  /** 0–10. */
  readonly score: number;
  /** Where it was found: a dotted path into the input. */
  readonly path: string;
  /** For test_coverage read from a percentage: the percentage as found. */
  readonly percent?: number;
}

/** Vulnerabilities by severity; those of unknown severity count as medium. */
export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  info: number;
}

/** What the reports hold: every score sample, and the vulnerabilities they list. */
export interface Evidence {
  readonly samples: Sample[];
  readonly vulnerabilities?: SeverityCounts;
}

interface Report {
  readonly name?: string;
  readonly path: string;
  readonly value: JsonObject;
}

const FN = 'aggregate_review_results';
const COVERAGE_FIELDS = ['test_coverage', 'coverage', 'coverage_percent', 'test_coverage_percent'];
const VULNERABILITY_FIELDS = ['vulnerabilities', 'security_vulnerabilities'];
const MAX_DEPTH = 3;

/** Collects every score sample for `dimensions` from a review's merged input. */
export function collectEvidence(input: JsonObject, dimensions: readonly string[]): Evidence {
  const keys = evidenceKeys(dimensions);
  const nested: Report[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (!keys.has(key)) walk(value, key, 1, keys, nested);
  }
  // The parallel merge copies an agent's fields to the top level: those copies are not news.
  const root: JsonObject = {};
  for (const [key, value] of Object.entries(input)) {
    if (!nested.some((r) => r.value[key] !== undefined && deepEqual(r.value[key], value))) root[key] = value;
  }
  const samples: Sample[] = [];
  let vulnerabilities: SeverityCounts | undefined;
  for (const report of [{ path: '', value: root }, ...nested]) {
    for (const dimension of dimensions) {
      const sample = readDimension(report, dimension, dimensions);
      if (sample !== undefined) samples.push(sample);
    }
    for (const field of VULNERABILITY_FIELDS) {
      const value = report.value[field];
      if (value === undefined || value === null) continue;
      const counts = countBySeverity(value, join(report.path, field));
      vulnerabilities = addCounts(vulnerabilities, counts);
      break;
    }
  }
  return vulnerabilities === undefined ? { samples } : { samples, vulnerabilities };
}

function evidenceKeys(dimensions: readonly string[]): Set<string> {
  const keys = new Set(['scores', 'score', ...COVERAGE_FIELDS, ...VULNERABILITY_FIELDS]);
  for (const d of dimensions) keys.add(d).add(`${d}_score`);
  return keys;
}

function walk(value: JsonValue, path: string, depth: number, keys: Set<string>, into: Report[]): void {
  if (depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1, keys, into));
    return;
  }
  if (!isObject(value)) return;
  if (Object.keys(value).some((k) => keys.has(k) && value[k] !== null)) {
    into.push({ name: path, path, value });
    return;
  }
  for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`, depth + 1, keys, into);
}

function readDimension(report: Report, dimension: string, dimensions: readonly string[]): Sample | undefined {
  const { value, path } = report;
  const sample = (score: number, field: string, percent?: number): Sample => ({
    dimension,
    score,
    path: join(path, field),
    ...(percent === undefined ? {} : { percent }),
  });
  if (dimension === 'test_coverage') {
    for (const field of COVERAGE_FIELDS) {
      const percent = readNumber(value[field], join(path, field), 100, 'a percentage from 0 to 100');
      if (percent !== undefined) return sample(percent / 10, field, percent);
    }
  }
  const direct = readScore(value[`${dimension}_score`], join(path, `${dimension}_score`));
  if (direct !== undefined) return sample(direct, `${dimension}_score`);
  const scores = value['scores'];
  if (isObject(scores)) {
    const score = readScore(scores[dimension], join(path, `scores.${dimension}`));
    if (score !== undefined) return sample(score, `scores.${dimension}`);
  }
  const holder = value[dimension];
  if (isObject(holder)) {
    const score = readScore(holder['score'], join(path, `${dimension}.score`));
    if (score !== undefined) return sample(score, `${dimension}.score`);
  }
  if (dimension === 'security') {
    for (const field of VULNERABILITY_FIELDS) {
      const found = value[field];
      if (found === undefined || found === null) continue;
      return sample(securityFromVulnerabilities(countBySeverity(found, join(path, field))), field);
    }
  }
  if (report.name !== undefined && dimensionOfName(report.name, dimensions) === dimension) {
    const score = readScore(value['score'], join(path, 'score'));
    if (score !== undefined) return sample(score, 'score');
  }
  return undefined;
}

/**
 * What a report's bare `score` rates, from its name: the dimension the name contains
 * (`security_review` → security); else `secur|semgrep|trivy|snyk|vuln|sast` → security,
 * `test|qa` → test_coverage, `perf` → performance, `review|results` → code_quality (a code
 * reviewer's score). Any other name: undefined, so a stray `score` (a CVSS score in a finding,
 * say) is never taken for a review's.
 */
export function dimensionOfName(name: string, dimensions: readonly string[] = []): string | undefined {
  const lower = name.toLowerCase();
  const named = [...dimensions].sort((a, b) => b.length - a.length).find((d) => lower.includes(d.toLowerCase()));
  if (named !== undefined) return named;
  if (/secur|semgrep|trivy|snyk|vuln|sast/.test(lower)) return 'security';
  if (/test|qa/.test(lower)) return 'test_coverage';
  if (/perf/.test(lower)) return 'performance';
  if (/review|results/.test(lower)) return 'code_quality';
  return undefined;
}

/**
 * The security score a list of vulnerabilities earns: 10 minus 5 per critical, 2.5 per high,
 * 1 per medium and 0.25 per low (info counts nothing), never below 0. So one critical gives 5,
 * one high 7.5 (both below the shipped gate's 8), two mediums 8, none 10.
 */
export function securityFromVulnerabilities(counts: SeverityCounts): number {
  return Math.max(0, 10 - 5 * counts.critical - 2.5 * counts.high - counts.medium - 0.25 * counts.low);
}

const SEVERITY_WORDS: Record<string, keyof SeverityCounts> = {
  critical: 'critical', crit: 'critical', blocker: 'critical',
  high: 'high', error: 'high', severe: 'high', major: 'high',
  medium: 'medium', moderate: 'medium', med: 'medium', warning: 'medium', warn: 'medium',
  low: 'low', minor: 'low', note: 'low',
  info: 'info', informational: 'info', none: 'info', negligible: 'info',
};

/**
 * Counts vulnerabilities given as a count (`3`: severity unknown, counted as medium), as a list
 * of findings (`severity`, semgrep's `extra.severity`, SARIF's `level`, Trivy's `Severity`), or
 * as counts by severity (`{ "high": 1, "low": 2 }`, with an optional `total`).
 */
export function countBySeverity(value: JsonValue, path: string): SeverityCounts {
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const severityOf = (word: JsonValue | undefined): keyof SeverityCounts =>
    (typeof word === 'string' ? SEVERITY_WORDS[word.trim().toLowerCase()] : undefined) ?? 'medium';
  if (Array.isArray(value)) {
    for (const finding of value) {
      if (!isObject(finding)) counts[severityOf(finding)]++;
      else {
        const extra = finding['extra'];
        counts[severityOf(finding['severity'] ?? (isObject(extra) ? extra['severity'] : undefined) ?? finding['level'] ?? finding['Severity'])]++;
      }
    }
    return counts;
  }
  if (isObject(value)) {
    let known = false;
    let listed = 0;
    for (const [key, raw] of Object.entries(value)) {
      const severity = SEVERITY_WORDS[key.toLowerCase()];
      if (severity === undefined) continue;
      const n = readCount(raw, `${path}.${key}`);
      counts[severity] += n;
      listed += n;
      known = true;
    }
    const total = value['total'] ?? value['count'];
    if (total !== undefined) {
      counts.medium += Math.max(0, readCount(total, `${path}.total`) - listed);
      known = true;
    }
    if (!known) throw badInput(FN, `${path} to hold counts by severity (critical, high, medium, low, info) or a total`, value);
    return counts;
  }
  counts.medium = readCount(value, path);
  return counts;
}

function readCount(value: JsonValue | undefined, path: string): number {
  const n = readNumber(value, path, Number.POSITIVE_INFINITY, 'a count (an integer ≥ 0)');
  if (n === undefined || !Number.isInteger(n)) throw badInput(FN, `${path} to be a count (an integer ≥ 0)`, value);
  return n;
}

function readScore(value: JsonValue | undefined, path: string): number | undefined {
  return readNumber(value, path, 10, 'a score from 0 to 10');
}

/** A number in [0, max], from a number or a numeric string (`"8.5"`, `"85%"`); null is absent. */
function readNumber(value: JsonValue | undefined, path: string, max: number, expected: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*%?\s*$/.test(value)) n = Number.parseFloat(value);
  if (n === undefined || !Number.isFinite(n) || n < 0 || n > max) throw badInput(FN, `${path} to be ${expected}`, value);
  return n;
}

function addCounts(a: SeverityCounts | undefined, b: SeverityCounts): SeverityCounts {
  if (a === undefined) return { ...b };
  return { critical: a.critical + b.critical, high: a.high + b.high, medium: a.medium + b.medium, low: a.low + b.low, info: a.info + b.info };
}

function join(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as JsonObject)[k] as JsonValue, (b as JsonObject)[k] as JsonValue));
}
