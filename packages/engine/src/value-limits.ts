/*
 * The size limits of what enters a run from outside the flow (DESIGN §11): a node's output, an
 * agent's reply, a connector's answer and the run's trigger are each measured once, as the
 * serialised JSON Gantry keeps, and refused with VALUE_TOO_LARGE past their limit.
 */
import { GantryError } from './errors.js';
import { resolveExpressionLimits, type ExpressionLimits } from './expression-limits.js';
import { MAX_VALUE_DEPTH, measureValue, TOO_DEEP } from './value-size.js';

/** The engine's limits (engine option `limits`); every field has a default. */
export interface EngineLimits {
  /** Largest output of one node attempt, or of its output mapping (one item's for for_each). @default 1048576 (1 MiB) */
  readonly nodeOutputBytes: number;
  /** Largest agent reply. @default 1048576 (1 MiB) */
  readonly agentReplyBytes: number;
  /** Largest connector answer. @default 1048576 (1 MiB) */
  readonly connectorAnswerBytes: number;
  /** Largest trigger a run starts with (`gantry serve` sets it to its body limit). @default 1048576 (1 MiB) */
  readonly triggerBytes: number;
  /** What one evaluation of an expression may do. */
  readonly expression: ExpressionLimits;
}

export type EngineLimitsOptions = Partial<Omit<EngineLimits, 'expression'>> & { readonly expression?: Partial<ExpressionLimits> };

const MIB = 1_048_576;
const SIZES = ['nodeOutputBytes', 'agentReplyBytes', 'connectorAnswerBytes', 'triggerBytes'] as const;

export const DEFAULT_LIMITS: EngineLimits = Object.freeze({
  nodeOutputBytes: MIB,
  agentReplyBytes: MIB,
  connectorAnswerBytes: MIB,
  triggerBytes: MIB,
  expression: resolveExpressionLimits(undefined, 'limits.expression'),
});

/** Validates the `limits` option over the defaults, once, frozen. */
export function resolveLimits(given: EngineLimitsOptions | undefined): EngineLimits {
  if (given === undefined) return DEFAULT_LIMITS;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new GantryError('CONFIG_INVALID', `createEngine: expected limits to be an object, got ${JSON.stringify(given)}`);
  for (const key of Object.keys(given)) {
    if (key !== 'expression' && !(SIZES as readonly string[]).includes(key)) {
      throw new GantryError('CONFIG_INVALID', `createEngine: unknown limit "limits.${key}" (expected one of ${[...SIZES, 'expression'].join(', ')})`);
    }
  }
  const limits = { ...DEFAULT_LIMITS, ...given, expression: resolveExpressionLimits(given.expression, 'limits.expression') };
  for (const key of SIZES) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new GantryError('CONFIG_INVALID', `createEngine: expected limits.${key} to be an integer ≥ 1, got ${JSON.stringify(value)}`);
  }
  return Object.freeze(limits);
}

/**
 * VALUE_TOO_LARGE when `value` is larger than `limit` as JSON or nests deeper than
 * MAX_VALUE_DEPTH, else undefined. `what` names it ("the output of node deploy"); one walk
 * measures both and stops at whichever limit it meets first (so a value past both is named for
 * that one), so a huge or deep value costs no more.
 */
export function oversize(value: unknown, limit: number, what: string, nodeId?: string): GantryError | undefined {
  const size = measureValue(value, limit, MAX_VALUE_DEPTH);
  if (size === TOO_DEEP) {
    return new GantryError('VALUE_TOO_LARGE', `${what} nests arrays and objects deeper than ${MAX_VALUE_DEPTH} levels, which a journal cannot keep`, nodeId === undefined ? {} : { nodeId });
  }
  if (size > limit) return new GantryError('VALUE_TOO_LARGE', `${what} is at least ${size} bytes as JSON, more than its limit of ${limit}`, nodeId === undefined ? {} : { nodeId });
  return undefined;
}

/**
 * A node's output past `limits.nodeOutputBytes`, as the error that fails its attempt; without a
 * node id, a for_each item's output after the output mapping.
 */
export function oversizeOutput(limits: EngineLimits, nodeId: string | undefined, output: unknown): GantryError | undefined {
  return oversize(output, limits.nodeOutputBytes, nodeId === undefined ? "a for_each item's mapped output" : `the output of node "${nodeId}"`, nodeId);
}
