import { describePointer, showValue } from './describe.js';
import type { Finding } from './diagnostics.js';
import { regexProblem } from './expression-regex.js';
import { isExpression } from './expression-text.js';
import { conditionalForm, isRecord, type FlowView, type ViewNode } from './flow-view.js';
import { isRealDateTime } from './date-time.js';
import { scheduleProblem, type ScheduleData } from './schedule.js';

type Where = { toString(): string };

function lazy(describe: () => string): Where {
  let text: string | undefined;
  return { toString: () => (text ??= describe()) };
}


/** Checks within one node that JSON Schema cannot express: shapes that depend on siblings. */
export function nodeFindings(document: unknown, view: FlowView): Finding[] {
  const findings: Finding[] = [];
  for (const node of view.nodes) {
    const at = `/nodes/${node.index}`;
    // Spelled out only when a finding needs it: valid flows never pay for the words.
    const where = lazy(() => describePointer(document, at));
    envelopeFindings(node, at, where, findings);
    bodyFindings(node.type, node.raw.data, at, where, findings);
    const compensate = node.raw.compensate;
    if (isRecord(compensate) && typeof compensate.type === 'string') {
      const compensation = lazy(() => `${describePointer(document, at)}, its compensation`);
      if (compensate.type === 'webhook' || compensate.type === 'schedule') {
        findings.push({ code: 'BAD_VALUE', pointer: `${at}/compensate/type`, message: `${compensation}: a ${compensate.type} is a trigger and cannot undo anything` });
      }
      bodyFindings(compensate.type, compensate.data, `${at}/compensate`, compensation, findings);
    }
  }
  for (const finding of paramFindings(document)) findings.push(finding);
  return findings;
}

/** The checks of a node body's data, for a node and for a compensation given as a body. */
function bodyFindings(type: string, data: unknown, at: string, where: Where, out: Finding[]): void {
  if (!isRecord(data)) return;
  if (type === 'conditional') conditionalFindings(data, `${at}/data`, where, out);
  if (type === 'wait') waitFindings(data, `${at}/data`, where, out);
  if (type === 'human_approval') approvalFindings(data, `${at}/data`, where, out);
  if (type === 'parallel') parallelFindings(data, `${at}/data`, where, out);
  if (type === 'schedule') {
    const problem = scheduleProblem(data as ScheduleData);
    if (problem !== undefined) out.push({ code: 'BAD_SCHEDULE', pointer: `${at}/data${problem.key === '' ? '' : `/${problem.key}`}`, message: `${where}: ${problem.message}` });
  }
}

/** A parallel node's `results` are keyed by agent: an agent listed twice would hide one of its results. */
function parallelFindings(data: Record<string, unknown>, at: string, where: Where, out: Finding[]): void {
  if (!Array.isArray(data.agents)) return;
  const first = new Map<string, number>();
  data.agents.forEach((call, i) => {
    if (!isRecord(call) || typeof call.agent !== 'string') return;
    const before = first.get(call.agent);
    if (before === undefined) {
      first.set(call.agent, i);
      return;
    }
    out.push({
      code: 'DUPLICATE_AGENT',
      pointer: `${at}/agents/${i}/agent`,
      message: `${where}: agent "${call.agent}" is listed twice (agents ${before} and ${i}); the output's results are keyed by agent, so one result would hide the other: list each agent once, and give a second task of the same agent a node of its own`,
    });
  });
}

function envelopeFindings(node: ViewNode, at: string, where: Where, out: Finding[]): void {
  const { raw } = node;
  if ('for_each' in raw && !Array.isArray(raw.for_each) && !isExpression(raw.for_each)) {
    out.push({
      code: 'BAD_FOR_EACH',
      pointer: `${at}/for_each`,
      message: `${where}: for_each must be an array or an expression {% … %} that gives one, got ${showValue(raw.for_each)}`,
    });
  }
  if ('concurrency' in raw && !('for_each' in raw)) {
    out.push({
      code: 'CONCURRENCY_WITHOUT_FOR_EACH',
      pointer: `${at}/concurrency`,
      message: `${where}: concurrency only applies with for_each, and this node has none`,
    });
  }
  if (typeof raw.when === 'string' && !isExpression(raw.when)) {
    out.push({
      code: 'BAD_VALUE',
      pointer: `${at}/when`,
      message: `${where}: when must be a boolean or an expression {% … %}, got ${showValue(raw.when)}`,
    });
  }
}

function conditionalFindings(data: Record<string, unknown>, at: string, where: Where, out: Finding[]): void {
  const form = conditionalForm(data);
  if (form.kind === 'mixed') {
    out.push({
      code: 'MIXED_CONDITIONS',
      pointer: `${at}/conditions`,
      message: `${where}: conditions mix the gate form (metric, operator, value) and the router form (if, then); use one form per conditional node`,
    });
    return;
  }
  if (form.kind === 'router') {
    for (const key of ['pass_action', 'fail_action']) {
      if (key in data) {
        out.push({ code: 'BAD_VALUE', pointer: `${at}/${key}`, message: `${where}: ${key} belongs to the gate form; a router selects labels instead` });
      }
    }
    return;
  }
  if (form.kind !== 'gate' || !Array.isArray(data.conditions)) return;
  data.conditions.forEach((condition, i) => {
    if (!isRecord(condition)) return;
    const pointer = `${at}/conditions/${i}/value`;
    const { operator, value } = condition;
    if ((operator === 'in' || operator === 'not_in') && !Array.isArray(value) && !isExpression(value)) {
      out.push({ code: 'BAD_VALUE', pointer, message: `${where}: operator "${operator}" needs an array value, got ${showValue(value)}` });
    }
    if (operator === 'matches') {
      if (typeof value !== 'string') {
        out.push({ code: 'BAD_VALUE', pointer, message: `${where}: operator "matches" needs a regular expression string, got ${showValue(value)}` });
      } else if (!isExpression(value)) {
        const problem = regexProblem(value);
        if (problem !== undefined) {
          out.push({ code: 'REGEX_UNSUPPORTED', pointer, message: `${where}: the regular expression /${value}/ ${problem}; regular expressions run on a linear-time engine (RE2 syntax)` });
        }
      }
    }
    if (typeof operator === 'string' && ['>', '>=', '<', '<='].includes(operator) && typeof value !== 'number' && typeof value !== 'string') {
      out.push({ code: 'BAD_VALUE', pointer, message: `${where}: operator "${operator}" compares numbers or strings, got ${showValue(value)}` });
    }
  });
}

function waitFindings(data: Record<string, unknown>, at: string, where: Where, out: Finding[]): void {
  const hasSeconds = 'seconds' in data;
  const hasUntil = 'until' in data;
  if (hasSeconds === hasUntil) {
    out.push({
      code: 'BAD_WAIT',
      pointer: at,
      message: `${where}: a wait needs exactly one of "seconds" and "until", got ${hasSeconds ? 'both' : 'neither'}`,
    });
    return;
  }
  if (hasSeconds) {
    const { seconds } = data;
    const ok = (typeof seconds === 'number' && seconds >= 0 && Number.isFinite(seconds)) || isExpression(seconds);
    if (!ok) {
      out.push({ code: 'BAD_WAIT', pointer: `${at}/seconds`, message: `${where}: seconds must be a number ≥ 0 or an expression {% … %}, got ${showValue(seconds)}` });
    }
    return;
  }
  const { until } = data;
  const ok = isExpression(until) || (typeof until === 'string' && isRealDateTime(until));
  if (!ok) {
    out.push({
      code: 'BAD_WAIT',
      pointer: `${at}/until`,
      message: `${where}: until must be an ISO 8601 date-time with a zone (2026-01-31T09:00:00Z) or an expression {% … %}, got ${showValue(until)}`,
    });
  }
}

function approvalFindings(data: Record<string, unknown>, at: string, where: Where, out: Finding[]): void {
  const { approvers, required } = data;
  if (Array.isArray(approvers) && typeof required === 'number' && required > approvers.length) {
    out.push({
      code: 'BAD_VALUE',
      pointer: `${at}/required`,
      message: `${where}: required is ${required} but only ${approvers.length} approver role${approvers.length === 1 ? ' is' : 's are'} listed`,
    });
  }
}

const PARAM_TYPES: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  object: isRecord,
  array: Array.isArray,
};

function paramFindings(document: unknown): Finding[] {
  const params = isRecord(document) && isRecord(document.params) ? document.params : {};
  const out: Finding[] = [];
  for (const [name, spec] of Object.entries(params)) {
    if (!isRecord(spec) || !('default' in spec) || typeof spec.type !== 'string') continue;
    const pointer = `/params/${name}/default`;
    const fits = Object.hasOwn(PARAM_TYPES, spec.type) ? PARAM_TYPES[spec.type] : undefined;
    if (fits !== undefined && !fits(spec.default)) {
      out.push({ code: 'BAD_VALUE', pointer, message: `param "${name}": the default must be of type ${spec.type}, got ${showValue(spec.default)}` });
    } else if (Array.isArray(spec.enum) && !spec.enum.some((v) => JSON.stringify(v) === JSON.stringify(spec.default))) {
      out.push({ code: 'BAD_VALUE', pointer, message: `param "${name}": the default ${showValue(spec.default)} is not one of its enum values` });
    } else if (typeof spec.default === 'number' && ((typeof spec.minimum === 'number' && spec.default < spec.minimum) || (typeof spec.maximum === 'number' && spec.default > spec.maximum))) {
      out.push({ code: 'BAD_VALUE', pointer, message: `param "${name}": the default ${spec.default} is outside its minimum and maximum` });
    }
  }
  return out;
}
