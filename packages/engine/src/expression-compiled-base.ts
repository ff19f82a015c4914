/*
 * What the compiled expressions share (expression-compiled.ts, expression-compiled-paths.ts): the
 * shapes of syntax-tree nodes the subset accepts, one evaluation's counts, and the checks of the
 * guard's exit hook (expression-evaluation.ts) mirrored on them. A check that would fail gives
 * up (throws GIVE_UP): the caller then evaluates with JSONata, which fails as it always did.
 */
import type { ExpressionLimits } from './expression-limits.js';
import { valueSize } from './value-size.js';

/** What a compiled expression reads besides `$` (run/expressions.ts's Bindings is one). */
export interface CompiledScope {
  readonly trigger?: unknown;
  readonly params?: unknown;
  readonly nodes?: unknown;
  readonly run?: unknown;
  readonly item?: unknown;
  readonly index?: unknown;
}

/** One evaluation's counts, as the guard keeps them (expression-evaluation.ts). */
export class Counts {
  steps = 0;
  built = 0;
  constructor(
    readonly input: unknown,
    readonly scope: CompiledScope,
    readonly limits: ExpressionLimits,
  ) {}
}

/** A compiled node: its value (sequences unwrapped as JSONata's evaluate does at each step's end). */
export type Code = (c: Counts) => unknown;

/** What compiling a node gives: its code and its depth of evaluation (a leaf is 1, as JSONata counts). */
export interface Compiled {
  readonly code: Code;
  readonly depth: number;
}

/** Thrown inside the closures when a cap would be passed: caught by evaluate. */
export const GIVE_UP = Object.freeze({ bail: true });

/** Gives up this evaluation to JSONata. */
export function bail(): never {
  throw GIVE_UP;
}

/** The keys each kind of node may have: a key the subset does not know (a filter, a group, …) leaves the node to JSONata. */
const KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  string: new Set(['type', 'value', 'position']),
  number: new Set(['type', 'value', 'position']),
  value: new Set(['type', 'value', 'position']),
  variable: new Set(['type', 'value', 'position']),
  name: new Set(['type', 'value', 'position']),
  path: new Set(['type', 'steps', 'position']),
  binary: new Set(['type', 'value', 'position', 'lhs', 'rhs']),
  unary: new Set(['type', 'value', 'position', 'expression', 'expressions']),
  condition: new Set(['type', 'position', 'condition', 'then', 'else']),
  block: new Set(['type', 'position', 'expressions']),
  function: new Set(['type', 'value', 'position', 'arguments', 'procedure', 'name']),
};

/** A node of JSONata's syntax tree (expression.ast()). */
export type Node = Record<string, unknown> & { type: string };

/** Whether a value is a node of a kind the subset knows, with no key the subset does not know. */
export function isNode(value: unknown): value is Node {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const allowed = KEYS[(value as { type?: unknown }).type as string];
  if (allowed === undefined) return false;
  for (const key of Object.keys(value)) if (!allowed.has(key)) return false;
  return true;
}

/** The guard's check of a value any step gives: a string within maxString, an array within maxArray. */
export function passing(c: Counts, value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.length > c.limits.maxString) bail();
  } else if (Array.isArray(value) && value.length > c.limits.maxArray) bail();
  return value;
}

/** The guard's check of an array a path or a constructor built: its items, its size as JSON, and all that was built. */
export function builtArray(c: Counts, value: unknown[]): void {
  const limits = c.limits;
  if (value.length > limits.maxArray) bail();
  c.built += value.length;
  if (valueSize(value, limits.maxValue) > limits.maxValue || c.built > limits.maxBuilt) bail();
}

/** {@link builtArray} of the one-item sequence `[value]`, without making it (the sizes allow for the brackets). */
export function builtSingle(c: Counts, value: unknown): void {
  const limits = c.limits;
  c.built += 1;
  if (c.built > limits.maxBuilt) bail();
  if (typeof value === 'string') {
    if (value.length + 8 > limits.maxValue) bail();
  } else if (typeof value === 'object' && value !== null && valueSize(value, limits.maxValue) + 8 > limits.maxValue) bail();
}

/** The guard's check of a string a step built (`&`). */
export function builtString(c: Counts, value: string): string {
  if (value.length > c.limits.maxString) bail();
  c.built += value.length;
  if (c.built > c.limits.maxBuilt) bail();
  return value;
}

