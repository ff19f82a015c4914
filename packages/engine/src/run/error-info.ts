import { ERROR_CODES, GantryError, isGantryError, type ErrorCode } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { ErrorInfo } from './events.js';

/**
 * The journal's form of any thrown value: a code of Gantry's table (ERROR_CODES), the message,
 * whether it is retryable, and plain-data details. A foreign error's own code (Node's `ENOENT`, a
 * library's) is not one of Gantry's: the error takes `fallbackCode`, and its code is kept as
 * `details.code`.
 */
export function toErrorInfo(error: unknown, fallbackCode: ErrorCode = 'INTERNAL'): ErrorInfo {
  if (isGantryError(error)) {
    const details = error.details;
    const wait = retryAfterOf(error);
    return { code: error.code, message: error.message, retryable: error.retryable, ...(wait === undefined ? {} : { retryAfterMs: wait }), ...(details === undefined ? {} : { details }) };
  }
  if (error instanceof Error) {
    const retryable = (error as Error & { retryable?: unknown }).retryable === true;
    const own = (error as Error & { code?: unknown }).code;
    const wait = retryAfterOf(error);
    const asked = wait === undefined ? {} : { retryAfterMs: wait };
    if (typeof own === 'string' && isErrorCode(own)) return { code: own, message: error.message, retryable, ...asked };
    return { code: fallbackCode, message: error.message, retryable, ...asked, ...(own === undefined ? {} : { details: { code: String(own) } }) };
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
export function errorWithDetails(code: ErrorCode, message: string, details: JsonValue, retryable = false): GantryError {
  return new GantryError(code, message, { retryable, details });
}

/** What a failing gate reports: each check that did not hold, with the value it saw. */
export function describeChecks(output: JsonObject | JsonValue[]): string {
  const checks = !Array.isArray(output) && Array.isArray(output.checks) ? output.checks : [];
  const failing = checks.filter((c): c is JsonObject => typeof c === 'object' && c !== null && !Array.isArray(c) && c.passed === false);
  if (failing.length === 0) return 'its conditions did not hold';
  return failing.map((c) => `${String(c.metric)} ${String(c.operator)} ${JSON.stringify(c.expected)} (was ${JSON.stringify(c.actual ?? null)})`).join('; ');
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
