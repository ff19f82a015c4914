import { describeCall, type CallRecord } from './calls.js';
import { show } from './format.js';
import { matches } from './match.js';
import { pointer } from './pointers.js';
import type { CallPattern, Expectations } from './test-file.js';

/** Whether a call is the one a pattern names (its objects match partially). */
export function callMatches(p: CallPattern, call: CallRecord): boolean {
  const kind = p.agent !== undefined ? 'agent' : p.connector !== undefined ? 'connector' : 'function';
  if (call.kind !== kind || call.name !== (p.agent ?? p.connector ?? p.function)) return false;
  const operation = p.task ?? p.action;
  if (operation !== undefined && call.operation !== operation) return false;
  const payload = p.inputs ?? p.params ?? p.input;
  if (payload !== undefined && !matches(payload, call.payload)) return false;
  return (p.node === undefined || call.node === p.node) && (p.run === undefined || call.run === p.run);
}

/** `agent deployer/deploy_staging at staging_deployment with inputs {…}`. */
export function describePattern(p: CallPattern): string {
  const name = p.agent ?? p.connector ?? p.function;
  const operation = p.task ?? p.action;
  const what = p.agent !== undefined ? 'agent' : p.connector !== undefined ? 'connector' : 'function';
  const payload = p.inputs ?? p.params ?? p.input;
  const payloadName = p.inputs !== undefined ? 'inputs' : p.params !== undefined ? 'params' : 'input';
  return `${what} ${name}${operation === undefined ? '' : `/${operation}`}${p.node === undefined ? '' : ` at ${p.node}`}${p.run === undefined ? '' : ` in sub-flow run ${p.run === '' ? '(the tested run)' : p.run}`}${payload === undefined ? '' : ` with ${payloadName} ${show(payload)}`}`;
}

function callList(calls: readonly CallRecord[], indexes?: readonly number[]): string[] {
  if (calls.length === 0) return ['no call was made'];
  const list = (indexes ?? calls.map((_, i) => i)).map((i) => `call ${i + 1}: ${describeCall(calls[i]!)}`);
  return indexes === undefined ? ['calls made:', ...list.map((l) => `  ${l}`)] : list;
}

/** The calls, not_called, calls_in_order and no_other_calls expectations. */
export function checkCalls(expect: Expectations, calls: readonly CallRecord[]): { key: string; message: string; details?: string[] }[] {
  const failures: { key: string; message: string; details?: string[] }[] = [];
  const used = new Set<number>();
  let cursor = 0;
  for (const [i, p] of (expect.calls ?? []).entries()) {
    const from = expect.calls_in_order === true ? cursor : 0;
    const index = calls.findIndex((call, j) => j >= from && !used.has(j) && callMatches(p, call));
    if (index >= 0) {
      used.add(index);
      cursor = index + 1;
      continue;
    }
    const earlier = calls.findIndex((call, j) => !used.has(j) && callMatches(p, call));
    const message =
      earlier >= 0
        ? `${describePattern(p)} was called (call ${earlier + 1}), but not after call ${cursor} as the listed order asks`
        : `no call matches ${describePattern(p)}`;
    failures.push({ key: pointer('calls', i), message, details: callList(calls) });
  }
  if (expect.no_other_calls === true) {
    const others = calls.flatMap((_, j) => (used.has(j) ? [] : [j]));
    if (others.length > 0) failures.push({ key: '/no_other_calls', message: `${others.length} call${others.length === 1 ? ' was' : 's were'} made beyond those listed`, details: callList(calls, others) });
  }
  for (const [i, p] of (expect.not_called ?? []).entries()) {
    const index = calls.findIndex((call) => callMatches(p, call));
    if (index >= 0) failures.push({ key: pointer('not_called', i), message: `${describePattern(p)} was called: call ${index + 1}, ${describeCall(calls[index]!, true)}` });
  }
  return failures;
}
