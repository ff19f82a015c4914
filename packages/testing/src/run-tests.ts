import { relative, resolve } from 'node:path';
import { isGantryError, type FinalRunStatus } from '@gantry/engine';
import type { CallRecord } from './calls.js';
import { drive } from './drive.js';
import { checkExpectations, type Failure } from './expect.js';
import { nodeHistory } from './history.js';
import { loadTestFile, type LoadedTestFile, type TestDiagnostic } from './load.js';
import type { RunRecord } from './observe.js';
import { dotted, pointer } from './pointers.js';
import type { TestCase } from './test-file.js';
import { buildWorld, type NotificationRecord } from './world.js';

export interface RunTestsOptions {
  /** Paths are taken from here, and shown relative to it. @default process.cwd() */
  readonly cwd?: string;
  /** Real milliseconds a run may go with nothing happening before it is declared stuck. @default 20000 */
  readonly stallMs?: number;
}

/** A failed expectation as reported: placed in the test file, with the history that explains it. */
export interface ReportedFailure extends Failure {
  /** `expect.nodes.quality_gate.status`, or `test` for what is not one expectation (an unscripted call). */
  readonly expectation: string;
  readonly line: number;
  readonly column: number;
  /** The node's history (see {@link Failure.node}), as report lines. */
  readonly history?: readonly string[];
}

export interface TestResult {
  readonly name: string;
  readonly status: 'passed' | 'failed';
  readonly failures: readonly ReportedFailure[];
  /** How the tested run ended, and how long it took on the fake clock. */
  readonly run: { readonly status: FinalRunStatus | undefined; readonly fakeMs: number | undefined };
  readonly calls: readonly CallRecord[];
  readonly notifications: readonly NotificationRecord[];
  /** Real time. */
  readonly durationMs: number;
}

export interface FileResult {
  /** The file, relative to the working folder. */
  readonly path: string;
  /** The flow's name, when it loaded. */
  readonly flow: string | undefined;
  readonly status: 'passed' | 'failed' | 'invalid';
  readonly diagnostics: readonly TestDiagnostic[];
  readonly tests: readonly TestResult[];
  readonly durationMs: number;
}

export interface TestReport {
  readonly files: readonly FileResult[];
  readonly passed: number;
  readonly failed: number;
  /** Files that did not validate (none of their tests ran). */
  readonly invalid: number;
  readonly durationMs: number;
}

/** Runs the tests of every file, one after the other. */
export async function runTestFiles(paths: readonly string[], options: RunTestsOptions = {}): Promise<TestReport> {
  const started = Date.now();
  const files: FileResult[] = [];
  for (const path of paths) files.push(await runTestFile(path, options));
  const tests = files.flatMap((f) => f.tests);
  return {
    files,
    passed: tests.filter((t) => t.status === 'passed').length,
    failed: tests.filter((t) => t.status === 'failed').length,
    invalid: files.filter((f) => f.status === 'invalid').length,
    durationMs: Date.now() - started,
  };
}

/** Loads one test file and, when it is valid, runs each of its tests. */
export async function runTestFile(path: string, options: RunTestsOptions = {}): Promise<FileResult> {
  const started = Date.now();
  const cwd = options.cwd ?? process.cwd();
  const display = (file: string) => relative(cwd, file) || file;
  const shown = display(resolve(cwd, path));
  const loaded = await loadTestFile(path, cwd);
  if (!loaded.ok) return { path: shown, flow: loaded.reach?.top.name, status: 'invalid', diagnostics: loaded.diagnostics, tests: [], durationMs: Date.now() - started };
  const tests: TestResult[] = [];
  for (const [index, test] of loaded.file!.tests.entries()) tests.push(await runTestCase(loaded, test, index, display, options));
  return {
    path: shown,
    flow: loaded.reach!.top.name,
    status: tests.every((t) => t.status === 'passed') ? 'passed' : 'failed',
    diagnostics: loaded.diagnostics,
    tests,
    durationMs: Date.now() - started,
  };
}

async function runTestCase(loaded: LoadedTestFile, test: TestCase, index: number, display: (file: string) => string, options: RunTestsOptions): Promise<TestResult> {
  const started = Date.now();
  const file = loaded.file!;
  const at = pointer('tests', index);
  const world = await buildWorld(loaded, test, display);
  const failures: Failure[] = [];
  let top: RunRecord | undefined;
  try {
    const run = await world.engine.start(loaded.reach!.top, {
      params: { ...file.params, ...test.params },
      ...((test.trigger ?? file.trigger) === undefined ? {} : { trigger: test.trigger ?? file.trigger! }),
      ...((test.initiator ?? file.initiator) === undefined ? {} : { initiator: test.initiator ?? file.initiator! }),
    });
    const outcome = await drive(run, world.clock, world.observer, options.stallMs === undefined ? {} : { stallMs: options.stallMs });
    top = world.observer.top;
    for (const problem of world.problems) failures.push({ pointer: at, message: problem.message, ...(problem.node ? { node: { run: problem.run, id: problem.node } } : {}) });
    if ('stuck' in outcome) failures.push({ pointer: at, message: outcome.stuck });
    // An unscripted call cancels the run: what it would have done next is unknown, so its expectations are not checked.
    else if (!world.problems.some((p) => p.kind === 'unscripted')) {
      failures.push(...checkExpectations(test.expect, `${at}/expect`, top!, { runs: world.observer.runs, calls: world.calls, notifications: world.notifications }));
    }
  } catch (error) {
    if (!isGantryError(error)) throw error;
    failures.push({ pointer: at, message: `the run could not start: ${error.message}` });
  }
  const origin = top?.startedAt ?? world.clock.now();
  const reported = failures.map((failure): ReportedFailure => {
    const segments = failure.pointer.split('/').slice(3);
    const history = failure.node === undefined ? undefined : historyOf(failure.node, world.observer.runs, world.calls, origin);
    return { ...failure, expectation: segments.length === 0 ? 'test' : dotted(segments), ...loaded.locate(failure.pointer), ...(history ? { history } : {}) };
  });
  return {
    name: test.name,
    status: reported.length === 0 ? 'passed' : 'failed',
    failures: reported,
    run: { status: top?.status, fakeMs: top?.finishedAt === undefined ? undefined : top.finishedAt - top.startedAt },
    calls: world.calls,
    notifications: world.notifications,
    durationMs: Date.now() - started,
  };
}

function historyOf(node: { run: string; id: string }, runs: ReadonlyMap<string, RunRecord>, calls: readonly CallRecord[], origin: number): string[] {
  const run = [...runs.values()].find((r) => r.path === node.run);
  const record = run?.nodes.get(node.id);
  if (record === undefined) return ['(nothing: the node never started)'];
  return nodeHistory(record, calls.filter((c) => c.run === node.run && c.node === node.id), origin);
}
