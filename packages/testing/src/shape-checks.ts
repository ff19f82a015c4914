import { didYouMean, ERROR_CODES, type DocumentFinding } from '@gantry/engine';
import type { TestDiagnosticCode } from './codes.js';
import { pointer } from './pointers.js';
import type { CallPattern, CallReplyScript, Expectations, RunSetup, TestCase, TestFile } from './test-file.js';

export type TestFinding = DocumentFinding<TestDiagnosticCode>;

/** A place scripts and approvals are given: the file itself, then each test. */
export interface Scope extends RunSetup {
  readonly at: string;
}

export function scopes(file: TestFile): Scope[] {
  return [{ at: '', ...file }, ...file.tests.map((test, i): Scope => ({ ...test, at: pointer('tests', i) }))];
}

/** Every script reply of a scope with its pointer and whether it is a connector's or function's (which may carry a code). */
export function* replies(scope: Scope): Generator<{ at: string; reply: CallReplyScript; coded: boolean }> {
  const listed = function* (at: string, script: unknown, coded: boolean) {
    if (typeof script !== 'object' || script === null) return;
    if (Array.isArray(script)) for (const [i, reply] of script.entries()) yield { at: `${at}/${i}`, reply: reply as CallReplyScript, coded };
    else yield { at, reply: script as CallReplyScript, coded };
  };
  for (const [agent, tasks] of Object.entries(scope.agents ?? {})) {
    for (const [task, script] of Object.entries(tasks)) yield* listed(scope.at + pointer('agents', agent, task), script, false);
  }
  for (const [service, actions] of Object.entries(scope.connectors ?? {})) {
    for (const [action, script] of Object.entries(actions)) yield* listed(scope.at + pointer('connectors', service, action), script, true);
  }
  for (const [name, script] of Object.entries(scope.functions ?? {})) yield* listed(scope.at + pointer('functions', name), script, true);
}

/** Every expectation block of a test (its own, then its sub-flows', depth first) with its pointer. */
export function* expectationBlocks(test: TestCase, index: number): Generator<{ at: string; expect: Expectations; top: boolean }> {
  const walk = function* (at: string, expect: Expectations, top: boolean): Generator<{ at: string; expect: Expectations; top: boolean }> {
    yield { at, expect, top };
    for (const [path, inner] of Object.entries(expect.subflows ?? {})) yield* walk(`${at}${pointer('subflows', path)}`, inner, false);
  };
  yield* walk(pointer('tests', index, 'expect'), test.expect, true);
}

/** Every call pattern of an expectation block, with its pointer. */
export function* callPatterns(at: string, expect: Expectations): Generator<{ at: string; pattern: CallPattern }> {
  for (const key of ['calls', 'not_called'] as const) {
    for (const [i, pattern] of (expect[key] ?? []).entries()) yield { at: `${at}${pointer(key, i)}`, pattern };
  }
}

/** What the schema cannot say: one of result and error, known error codes, well-formed call patterns, distinct names. */
export function shapeFindings(document: unknown): TestFinding[] {
  const file = document as TestFile;
  const findings: TestFinding[] = [];
  const error = (code: TestDiagnosticCode, at: string, message: string): void => void findings.push({ code, severity: 'error', pointer: at, message });
  for (const scope of scopes(file)) {
    for (const { at, reply, coded } of replies(scope)) {
      if ((reply.result === undefined) === (reply.error === undefined)) {
        error('BAD_REPLY', at, `${reply.result === undefined ? 'a reply needs' : 'a reply has both'} "result" (the call succeeds) ${reply.result === undefined ? 'or' : 'and'} "error" (it fails)${reply.result === undefined ? '' : ': keep one'}`);
      }
      const code = coded ? reply.error?.code : undefined;
      if (code !== undefined && !(code in ERROR_CODES)) {
        error('UNKNOWN_ERROR_CODE', `${at}/error/code`, `unknown error code "${code}"${didYouMean(code, Object.keys(ERROR_CODES))} (the codes are those of packages/engine/src/errors.ts)`);
      }
    }
  }
  const names = new Map<string, number>();
  file.tests.forEach((test, i) => {
    const first = names.get(test.name);
    if (first !== undefined) error('DUPLICATE_TEST_NAME', pointer('tests', i, 'name'), `test #${i} has the name of test #${first}, "${test.name}": names tell tests apart in reports`);
    else names.set(test.name, i);
    for (const block of expectationBlocks(test, i)) {
      for (const { at, pattern } of callPatterns(block.at, block.expect)) {
        const problem = patternProblem(pattern);
        if (problem !== undefined) error('BAD_CALL_PATTERN', at, problem);
      }
    }
  });
  return findings;
}

function patternProblem(p: CallPattern): string | undefined {
  const kinds = (['agent', 'connector', 'function'] as const).filter((k) => p[k] !== undefined);
  if (kinds.length !== 1) return `a call names exactly one of "agent", "connector" and "function", got ${kinds.length === 0 ? 'none' : kinds.map((k) => `"${k}"`).join(' and ')}`;
  const stray = (
    {
      agent: ['action', 'params', 'input'],
      connector: ['task', 'inputs', 'input'],
      function: ['task', 'inputs', 'action', 'params'],
    } as const
  )[kinds[0]!].filter((k) => p[k] !== undefined);
  if (stray.length > 0) return `a call of ${kinds[0] === 'agent' ? 'an agent' : `a ${kinds[0]}`} has no ${stray.map((k) => `"${k}"`).join(' or ')} (an agent has task and inputs, a connector action and params, a function input)`;
  return undefined;
}
