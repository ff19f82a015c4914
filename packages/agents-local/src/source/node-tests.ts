/**
 * Running a repository's tests with Node's own test runner: unit tests with coverage (TAP for the
 * counts, lcov for the lines), and integration tests against a running deployment (BASE_URL).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { TaskOutput } from '@gantry/engine';
import { runTool } from './tools.js';
import { packFailure } from '../runtime/failure.js';

export interface TestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
}

export interface FileCoverage {
  readonly path: string;
  readonly covered: number;
  readonly total: number;
  /** false when no test loaded the file: every line of it counts as uncovered. */
  readonly loaded: boolean;
}

export interface UnitTestRun {
  readonly tests: TestCounts;
  readonly coverage: { readonly percent: number; readonly lines: { readonly covered: number; readonly total: number }; readonly files: FileCoverage[] };
  readonly duration_ms: number;
  readonly reports: string[];
  readonly exit_code: number | null;
}

const CODE = /\.(m?js|cjs)$/;
const TEST_FILE = /\.test\.(m?js|cjs)$/;

/** The unit test files: test/**\/*.test.mjs outside test/integration/. */
export function unitTestFiles(dir: string): string[] {
  return listFiles(dir, 'test').filter((f) => TEST_FILE.test(f) && !f.startsWith('test/integration/'));
}

export async function runUnitTests(dir: string, reportDir: string, signal?: AbortSignal, output?: TaskOutput): Promise<UnitTestRun> {
  const files = unitTestFiles(dir);
  const tap = join(reportDir, 'unit-tests.tap');
  const lcov = join(reportDir, 'coverage.lcov');
  if (files.length === 0) throw packFailure(`${dir} has no unit tests (test/*.test.mjs)`);
  const result = await runTool(
    process.execPath,
    ['--test', '--experimental-test-coverage', '--test-reporter=tap', `--test-reporter-destination=${tap}`, '--test-reporter=lcov', `--test-reporter-destination=${lcov}`, ...files],
    { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, timeoutMs: 300_000, ...(signal ? { signal } : {}), ...(output ? { output } : {}) },
  );
  const tests = tapCounts(existsSync(tap) ? readFileSync(tap, 'utf8') : '');
  const coverage = lineCoverage(dir, existsSync(lcov) ? readFileSync(lcov, 'utf8') : '');
  return { tests, coverage, duration_ms: result.ms, reports: [tap, lcov], exit_code: result.code };
}

export interface IntegrationRun {
  readonly passed: boolean;
  readonly tests: TestCounts;
  readonly base_url: string;
  readonly duration_ms: number;
  readonly failures: string[];
  readonly reason?: string;
}

/** The repository's test/integration/ suite against a running service at `baseUrl`. */
export async function runIntegrationTests(dir: string, baseUrl: string, signal?: AbortSignal, output?: TaskOutput): Promise<IntegrationRun> {
  const files = listFiles(dir, 'test/integration').filter((f) => TEST_FILE.test(f));
  const none = { passed: 0, failed: 0, skipped: 0, total: 0 };
  if (files.length === 0) return { passed: false, tests: none, base_url: baseUrl, duration_ms: 0, failures: [], reason: 'the repository has no integration tests (test/integration/*.test.mjs)' };
  const result = await runTool(process.execPath, ['--test', '--test-reporter=tap', ...files], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BASE_URL: baseUrl },
    timeoutMs: 300_000,
    ...(signal ? { signal } : {}),
    ...(output ? { output } : {}),
  });
  const tests = tapCounts(result.stdout);
  const failures = [...result.stdout.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1]!);
  const passed = result.code === 0 && tests.failed === 0 && tests.passed > 0;
  return { passed, tests, base_url: baseUrl, duration_ms: result.ms, failures, ...(tests.skipped > 0 ? { reason: `${tests.skipped} test(s) skipped` } : {}) };
}

/** The summary counts at the end of a TAP stream from node --test. */
export function tapCounts(tap: string): TestCounts {
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo'), total: count('tests') };
}

/**
 * Line coverage of the repository's own code (tests excluded) from an lcov report. Files that no
 * test loaded are absent from the report; they count with every code line uncovered, so leaving
 * a module untested lowers the figure instead of hiding it.
 */
export function lineCoverage(dir: string, lcov: string): UnitTestRun['coverage'] {
  const measured = new Map<string, { covered: number; total: number }>();
  for (const record of lcov.split('end_of_record')) {
    const file = /^SF:(.*)$/m.exec(record)?.[1];
    if (file === undefined) continue;
    const path = relative(dir, resolve(dir, file)).split('\\').join('/');
    measured.set(path, { covered: Number(/^LH:(\d+)$/m.exec(record)?.[1] ?? 0), total: Number(/^LF:(\d+)$/m.exec(record)?.[1] ?? 0) });
  }
  const files: FileCoverage[] = [];
  for (const path of listFiles(dir, '.').filter((f) => CODE.test(f) && !f.startsWith('test/'))) {
    const m = measured.get(path);
    files.push(m ? { path, ...m, loaded: true } : { path, covered: 0, total: codeLines(readFileSync(join(dir, path), 'utf8')), loaded: false });
  }
  const covered = files.reduce((s, f) => s + f.covered, 0);
  const total = files.reduce((s, f) => s + f.total, 0);
  return { percent: total === 0 ? 0 : Math.round((covered / total) * 10000) / 100, lines: { covered, total }, files };
}

/** Lines that are neither blank nor only a comment. */
function codeLines(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '' && !/^\s*(\/\/|\/\*|\*)/.test(l)).length;
}

function listFiles(dir: string, sub: string): string[] {
  const root = join(dir, sub);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(root);
  return out.sort();
}
