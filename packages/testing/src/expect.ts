import type { JsonValue } from '@gantry/engine';
import type { CallRecord } from './calls.js';
import { checkCalls } from './expect-calls.js';
import { duration, show } from './format.js';
import { mismatch } from './match.js';
import type { NodeRecord, RunRecord } from './observe.js';
import { pointer } from './pointers.js';
import type { Expectations, NodeExpectation } from './test-file.js';
import type { NotificationRecord } from './world.js';

/** An expectation that did not hold. */
export interface Failure {
  /** Where the expectation is written in the test file. */
  readonly pointer: string;
  /** One sentence: what was expected, and what happened instead. */
  readonly message: string;
  /** The node whose history explains it, by run path ("" for the tested run) and id. */
  readonly node?: { readonly run: string; readonly id: string };
  /** More lines that explain it (the calls made, the sub-flow runs there were). */
  readonly details?: readonly string[];
}

export interface Observed {
  readonly runs: ReadonlyMap<string, RunRecord>;
  readonly calls: readonly CallRecord[];
  readonly notifications: readonly NotificationRecord[];
}

const got = (expected: unknown, actual: unknown) => `expected ${show(expected)}, got ${show(actual)}`;

/** Checks one expectation block against the run it is about (and its sub-flow runs). */
export function checkExpectations(expect: Expectations, at: string, run: RunRecord, observed: Observed): Failure[] {
  const failures: Failure[] = [];
  const fail = (key: string, message: string, extra: Omit<Failure, 'pointer' | 'message'> = {}) => failures.push({ pointer: `${at}${key}`, message, ...extra });
  const where = run.path === '' ? 'the run' : `sub-flow run ${run.path}`;
  const culprit = culpritOf(run);

  if (expect.status !== undefined && run.status !== expect.status) {
    const error = run.error ? ` (${run.error.code}${run.error.nodeId ? ` at ${run.error.nodeId}` : ''}: ${run.error.message})` : '';
    fail('/status', `${where} ended ${run.status ?? 'never'}${error}, expected ${expect.status}`, culprit);
  }
  if (expect.error !== undefined) {
    const actual = run.error === undefined ? undefined : { code: run.error.code, message: run.error.message, retryable: run.error.retryable, node: run.error.nodeId };
    const found = mismatch(expect.error, actual);
    if (found !== undefined) fail(`/error${pointerOf(found.path)}`, actual === undefined ? `${where} ended ${run.status} with no error, expected one matching ${show(expect.error)}` : `${where}'s error${found.path}: ${got(found.expected, found.actual)}`, culprit);
  }
  if (expect.output !== undefined) {
    const found = mismatch(expect.output, run.output);
    if (found !== undefined) fail(`/output${pointerOf(found.path)}`, `${where}'s output${found.path}: ${got(found.expected, found.actual)}`, culprit);
  }
  const nodeAt = (id: string) => ({ node: { run: run.path, id } });
  for (const [i, id] of (expect.ran ?? []).entries()) {
    const node = run.nodes.get(id);
    if (node?.status !== 'succeeded' && node?.status !== 'failed') fail(pointer('ran', i), `node "${id}" did not run: ${whatBecameOf(node)}`, nodeAt(id));
  }
  for (const [i, id] of (expect.skipped ?? []).entries()) {
    const node = run.nodes.get(id);
    if (node?.status !== 'skipped') fail(pointer('skipped', i), `node "${id}" was not skipped: ${whatBecameOf(node)}`, nodeAt(id));
  }
  for (const [id, expected] of Object.entries(expect.nodes ?? {})) {
    for (const failure of checkNode(id, expected, run.nodes.get(id))) fail(`${pointer('nodes', id)}${failure.key}`, failure.message, nodeAt(id));
  }
  const calls = observed.calls.filter((c) => within(c.run, run.path));
  for (const failure of checkCalls(expect, calls)) fail(failure.key, failure.message, failure.details ? { details: failure.details } : {});
  const notes = observed.notifications.filter((n) => within(n.run, run.path));
  const taken = new Set<number>();
  for (const [i, pattern] of (expect.notifications ?? []).entries()) {
    const index = notes.findIndex((n, j) => !taken.has(j) && mismatch(pattern, n) === undefined);
    if (index >= 0) taken.add(index);
    else fail(pointer('notifications', i), `no notification matches ${show(pattern)}`, { details: notes.length === 0 ? ['no notification was sent'] : notes.map((n, j) => `notification ${j + 1}: ${show(n)}`) });
  }
  if (expect.elapsed_seconds !== undefined && run.finishedAt !== undefined) {
    const elapsed = run.finishedAt - run.startedAt;
    const long = (ms: number) => (ms >= 60_000 ? ` (${duration(ms)})` : '');
    if (elapsed !== expect.elapsed_seconds * 1000) {
      fail('/elapsed_seconds', `${where} took ${elapsed / 1000} s${long(elapsed)} of fake time, expected ${expect.elapsed_seconds} s${long(expect.elapsed_seconds * 1000)}`);
    }
  }
  for (const [path, inner] of Object.entries(expect.subflows ?? {})) {
    const full = run.path === '' ? path : `${run.path}.${path}`;
    const child = [...observed.runs.values()].find((r) => r.path === full);
    const subAt = `${at}${pointer('subflows', path)}`;
    if (child === undefined) {
      const children = [...observed.runs.values()].filter((r) => r.parent?.runId === run.runId).map((r) => (run.path === '' ? r.path : r.path.slice(run.path.length + 1)));
      failures.push({ pointer: subAt, message: `${where} started no sub-flow run "${path}"`, details: [children.length === 0 ? `${where} started no sub-flow run` : `its sub-flow runs: ${children.join(', ')}`] });
      continue;
    }
    failures.push(...checkExpectations(inner, subAt, child, observed));
  }
  return failures;
}

function checkNode(id: string, expected: NodeExpectation, node: NodeRecord | undefined): { key: string; message: string }[] {
  const failures: { key: string; message: string }[] = [];
  const subject = `node "${id}"`;
  if (expected.status !== undefined && node?.status !== expected.status) failures.push({ key: '/status', message: `${subject} ${whatBecameOf(node)}, expected ${expected.status}` });
  if (expected.attempts !== undefined && (node?.attempts ?? 0) !== expected.attempts) {
    failures.push({ key: '/attempts', message: `${subject} made ${node?.attempts ?? 0} attempt${node?.attempts === 1 ? '' : 's'}, expected ${expected.attempts}` });
  }
  if (expected.skip_reason !== undefined && node?.skipReason !== expected.skip_reason) {
    failures.push({ key: '/skip_reason', message: `${subject} ${node?.status === 'skipped' ? `was skipped for ${node.skipReason}` : whatBecameOf(node)}, expected to be skipped for ${expected.skip_reason}` });
  }
  if (expected.labels !== undefined && mismatch(expected.labels, node?.labels ?? []) !== undefined) {
    const selected = node?.status === 'succeeded' ? `selected the labels ${show(node.labels ?? [])}` : `${whatBecameOf(node)}, so it selected no label`;
    failures.push({ key: '/labels', message: `${subject} ${selected}; expected ${show(expected.labels)}` });
  }
  const partial = (key: 'input' | 'output', expectedValue: JsonValue | undefined, actual: unknown) => {
    if (expectedValue === undefined) return;
    const found = mismatch(expectedValue, actual);
    if (found !== undefined) failures.push({ key: `/${key}${pointerOf(found.path)}`, message: `${subject} ${key}${found.path}: ${got(found.expected, found.actual)}` });
  };
  partial('input', expected.input, node?.input);
  partial('output', expected.output as JsonValue | undefined, node?.output);
  if (expected.error !== undefined) {
    const actual = node?.error === undefined ? undefined : { code: node.error.code, message: node.error.message, retryable: node.error.retryable };
    const found = mismatch(expected.error, actual);
    if (found !== undefined) failures.push({ key: `/error${pointerOf(found.path)}`, message: actual === undefined ? `${subject} ${whatBecameOf(node)} with no error, expected one matching ${show(expected.error)}` : `${subject} error${found.path}: ${got(found.expected, found.actual)}` });
  }
  return failures;
}

/** `succeeded`, `was skipped (join: no incoming edge was taken)`, `never started`. */
export function whatBecameOf(node: NodeRecord | undefined): string {
  if (node === undefined || node.status === 'pending') return 'never started';
  if (node.status === 'skipped') return `was skipped (${SKIP_REASONS[node.skipReason ?? ''] ?? node.skipReason})`;
  if (node.status === 'failed') return `failed (${node.error?.code}: ${node.error?.message})`;
  return node.status === 'running' ? 'was still running' : node.status;
}

const SKIP_REASONS: Record<string, string> = {
  join: 'join: its incoming edges were not taken',
  when: 'when: its condition was false',
  aborted: 'aborted: the run stopped first',
};

/** The node that explains how a run ended: the one its error names, else the last that failed. */
function culpritOf(run: RunRecord): Pick<Failure, 'node'> {
  const id = run.error?.nodeId ?? [...run.nodes.values()].filter((n) => n.status === 'failed').at(-1)?.id;
  return id === undefined ? {} : { node: { run: run.path, id } };
}

/** Whether a call or notification of run `path` belongs to the run at `base` or below it. */
function within(path: string, base: string): boolean {
  return base === '' || path === base || path.startsWith(`${base}.`);
}

/** `.checks[1].actual` → `/checks/1/actual`. */
function pointerOf(path: string): string {
  return path.replace(/\[(\d+)\]/g, '.$1').split('.').slice(1).map((s) => pointer(s)).join('');
}
