/*
 * What one evaluation of an expression may do (DESIGN §11): every cap counts what the expression
 * does (its steps, what it builds), never how busy the machine is, so the same expression on the
 * same data passes or fails alike on a quiet machine and a loaded one. The time limit is the last
 * resort behind them: seconds, and counting only this evaluation's own work.
 */
import { GantryError } from './errors.js';

/** Caps on one evaluation of an expression; every field has a default. */
export interface ExpressionLimits {
  /** Characters of one string an expression builds. @default 1048576 (1 MiB) */
  readonly maxString: number;
  /** Items of one array an expression builds. @default 100000 */
  readonly maxArray: number;
  /** Nesting depth of evaluation (function calls, recursion). @default 500 */
  readonly maxDepth: number;
  /**
   * Evaluation steps (each node of the expression evaluated once counts one; a regex match
   * counts by the input it scans and the pattern's size). @default 1000000 (about a second)
   */
  readonly maxSteps: number;
  /**
   * Characters of strings plus items of arrays and objects built in one evaluation, all told:
   * what bounds the memory an expression can hold. @default 8388608 (8 Mi)
   */
  readonly maxBuilt: number;
  /**
   * Largest JSON size (characters) of an array or object an expression builds, counting what it
   * shares (a thousand references to one string count a thousand times): anything an evaluation
   * turns into text stays within it. @default 16777216 (16 MiB)
   */
  readonly maxValue: number;
  /**
   * Milliseconds of the evaluation's own work: the last resort, never reached by an expression
   * within the other caps. Time spent in other work while the evaluation awaits does not count.
   * @default 10000
   */
  readonly timeoutMs: number;
}

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = Object.freeze({
  maxString: 1_048_576,
  maxArray: 100_000,
  maxDepth: 500,
  maxSteps: 1_000_000,
  maxBuilt: 8_388_608,
  maxValue: 16_777_216,
  timeoutMs: 10_000,
});

const KEYS = Object.keys(DEFAULT_EXPRESSION_LIMITS) as (keyof ExpressionLimits)[];

/**
 * Validates partial limits (engine options, where `name` says which) over the defaults, frozen.
 * Messages read "expected limits.expression.maxSteps to be an integer ≥ 1, got 0 (number)".
 */
export function resolveExpressionLimits(given: Partial<ExpressionLimits> | undefined, name: string): ExpressionLimits {
  if (given === undefined) return DEFAULT_EXPRESSION_LIMITS;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw invalid(name, 'an object', given);
  for (const key of Object.keys(given)) {
    if (!KEYS.includes(key as keyof ExpressionLimits)) throw new GantryError('CONFIG_INVALID', `unknown limit "${name}.${key}" (expected one of ${KEYS.join(', ')})`);
  }
  const limits = { ...DEFAULT_EXPRESSION_LIMITS, ...given };
  for (const key of KEYS) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < 1) throw invalid(`${name}.${key}`, 'an integer ≥ 1', value);
  }
  return Object.freeze(limits);
}

function invalid(field: string, expected: string, got: unknown): GantryError {
  const shown = got === null ? 'null' : Array.isArray(got) ? 'an array' : `${typeof got === 'object' ? 'an object' : JSON.stringify(got)} (${typeof got})`;
  return new GantryError('CONFIG_INVALID', `expected ${field} to be ${expected}, got ${shown}`);
}
