import type { Style } from '../style.js';
import { formatValue, isPlainObject, oneLine } from './values.js';

/** One condition of a gate as its output lists it (DESIGN §2.2: every check with expected and actual). */
export interface Check {
  readonly metric: string;
  readonly operator: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly passed: boolean;
}

/**
 * A gate's readings in a node's output or a failed gate's details: its `checks`, or those of a
 * `checks` object one or two levels down (a flow's `output` mapping may wrap the gate's output, as
 * traffic-step.json's `{ percentage, metrics, checks }` does).
 */
export function readChecks(value: unknown, depth = 0): readonly Check[] | undefined {
  if (!isPlainObject(value) || depth > 2) return undefined;
  const checks = value.checks;
  if (Array.isArray(checks) && checks.length > 0 && checks.every(isCheck)) return checks;
  return readChecks(checks, depth + 1);
}

/** `error_rate_percent 0 <= 1, p95_latency_ms 875 <= 500 ✗`: each reading against its limit. */
export function formatChecks(checks: readonly Check[], s: Style): string {
  return checks.map((c) => `${oneLine(c.metric)} ${formatValue(c.actual ?? null, 24)} ${oneLine(c.operator)} ${formatValue(c.expected ?? null, 24)}${c.passed ? '' : ` ${s.red('✗')}`}`).join(', ');
}

function isCheck(value: unknown): value is Check {
  return isPlainObject(value) && typeof value.metric === 'string' && typeof value.operator === 'string' && typeof value.passed === 'boolean';
}
