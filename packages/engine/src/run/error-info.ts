import { GantryError, isGantryError } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { ErrorInfo } from './events.js';

/** The journal's form of any thrown value: code, message, retryable, and plain-data details. */
export function toErrorInfo(error: unknown, fallbackCode = 'INTERNAL'): ErrorInfo {
  if (isGantryError(error)) {
    const details = (error as GantryError & { details?: JsonValue }).details;
    const wait = retryAfterOf(error);
    return { code: error.code, message: error.message, retryable: error.retryable, ...(wait === undefined ? {} : { retryAfterMs: wait }), ...(details === undefined ? {} : { details }) };
  }
  if (error instanceof Error) {
    const retryable = (error as Error & { retryable?: unknown }).retryable === true;
    const code = typeof (error as Error & { code?: unknown }).code === 'string' ? String((error as Error & { code: string }).code) : fallbackCode;
    const wait = retryAfterOf(error);
    return { code, message: error.message, retryable, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
  return { code: fallbackCode, message: String(error), retryable: false };
}

/**
 * The wait a retryable failure asks for before the next attempt, in whole ms: a finite number ≥ 0
 * on the error (an agent's own error may say anything), else undefined.
 */
function retryAfterOf(error: Error & { retryable?: unknown; retryAfterMs?: unknown }): number | undefined {
  const wait = error.retryAfterMs;
  return error.retryable === true && typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 ? Math.ceil(wait) : undefined;
}

/** A GantryError carrying plain-data details for the journal (a gate's checks, a child run). */
export function errorWithDetails(code: ConstructorParameters<typeof GantryError>[0], message: string, details: JsonValue, retryable = false): GantryError {
  return Object.assign(new GantryError(code, message, { retryable }), { details });
}

/** What a failing gate reports: each check that did not hold, with the value it saw. */
export function describeChecks(output: JsonObject | JsonValue[]): string {
  const checks = !Array.isArray(output) && Array.isArray(output.checks) ? output.checks : [];
  const failing = checks.filter((c): c is JsonObject => typeof c === 'object' && c !== null && !Array.isArray(c) && c.passed === false);
  if (failing.length === 0) return 'its conditions did not hold';
  return failing.map((c) => `${String(c.metric)} ${String(c.operator)} ${JSON.stringify(c.expected)} (was ${JSON.stringify(c.actual ?? null)})`).join('; ');
}
