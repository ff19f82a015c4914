/*
 * The common subset of JSONata compiled to closures over its syntax tree: literals, `$` and the
 * bindings ($trigger, $params, $nodes, $run, $item, $index, $$), paths of field names, the
 * comparisons, `and`, `or`, `in`, arithmetic, `&`, `? :`, blocks, array constructors, and
 * $not, $exists and $boolean of one argument. Anything else (filters, wildcards, functions of
 * one's own, other built-ins, bindings with :=) keeps JSONata.
 *
 * A compiled expression gives exactly what the guarded JSONata evaluation gives (run/expressions.ts),
 * and is evaluated synchronously, with no await. It never builds source text: flow files are
 * untrusted, and a closure cannot be made to run anything but the subset.
 *
 * The guard's caps hold by mirroring them, not by trusting the compiled code to be cheap: each
 * closure counts the steps JSONata would count (a node evaluated is one, a path step one per
 * item it is evaluated on; at most maxSteps, or the expression's own size times what its paths
 * go through), checks every value it makes as the guard's exit hook does (strings at most
 * maxString, arrays maxArray, built values maxValue and, all told, maxBuilt), and checks the
 * length of what `&` would make before making it. Where a cap would be passed, or a value is
 * one JSONata treats specially, the closure gives up (BAIL) and the caller evaluates with
 * JSONata, which then fails or answers as it always did: the fallback is never wrong, only slower.
 * Nesting depth is static (the tree's), compared with maxDepth before evaluating.
 */
import type jsonata from 'jsonata';
import type { ExpressionLimits } from './expression-limits.js';
import { booleanOf, deepEqual, ExpressionFailure, isFunctionLike, isNumeric, isSequence, lookup, sequence, textOf, truthOf, unwrap } from './expression-values.js';
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

/** The compiled evaluation gave up: evaluate the expression with JSONata. */
export const BAIL: unique symbol = Symbol('jsonata evaluates');

export interface CompiledExpression {
  /**
   * The value, as JSONata's evaluation gives it (sequences included), or {@link BAIL}. Throws
   * {@link ExpressionFailure} with JSONata's code where JSONata's evaluation fails. `counts`,
   * when given, receives the steps and the built size the guard would have counted.
   */
  evaluate(input: unknown, scope: CompiledScope, limits: ExpressionLimits, counts?: { steps: number; built: number }): unknown;
}

/** One evaluation's counts, as the guard keeps them (expression-evaluation.ts). */
class Counts {
  steps = 0;
  built = 0;
  constructor(
    readonly input: unknown,
    readonly scope: CompiledScope,
    readonly limits: ExpressionLimits,
  ) {}
}

type Code = (c: Counts) => unknown;

/** What compiling a node gives: its code and its depth of evaluation (a leaf is 1, as JSONata counts). */
interface Compiled {
  readonly code: Code;
  readonly depth: number;
}

/** Thrown inside the closures when a cap would be passed: caught by evaluate. */
const GIVE_UP = Object.freeze({ bail: true });

function bail(): never {
  throw GIVE_UP;
}

/**
 * The longest literal string: JSONata checks every step's string against maxString, literals
 * included. With tiny caps nothing is compiled worth the checks: below these, JSONata evaluates.
 */
const SMALLEST_VALUE_CAP = 64;

/** The expression compiled, or undefined when it is outside the subset. */
export function compileExpression(ast: unknown): CompiledExpression | undefined {
  const literals = { longest: 0 };
  let compiled: Compiled | undefined;
  try {
    compiled = compileNode(ast, literals);
  } catch (error) {
    // A tree too deep for this process's stack is left to JSONata (whose depth cap refuses it).
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  if (compiled === undefined) return undefined;
  const { code, depth } = compiled;
  const longest = literals.longest;
  return {
    evaluate(input: unknown, scope: CompiledScope, limits: ExpressionLimits, counted?: { steps: number; built: number }): unknown {
      if (depth > limits.maxDepth || longest > limits.maxString || limits.maxValue < SMALLEST_VALUE_CAP) return BAIL;
      const counts = new Counts(input, scope, limits);
      let value: unknown;
      try {
        value = code(counts);
      } catch (error) {
        if (error === GIVE_UP) return BAIL;
        throw error;
      } finally {
        if (counted !== undefined) {
          counted.steps = counts.steps;
          counted.built = counts.built;
        }
      }
      return counts.steps > limits.maxSteps ? BAIL : value;
    },
  };
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

type Node = Record<string, unknown> & { type: string };

function isNode(value: unknown): value is Node {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const allowed = KEYS[(value as { type?: unknown }).type as string];
  if (allowed === undefined) return false;
  for (const key of Object.keys(value)) if (!allowed.has(key)) return false;
  return true;
}

/** The variables the subset reads: `$` and `$$` are the input. */
const SCOPE_NAMES = new Set(['trigger', 'params', 'nodes', 'run', 'item', 'index']);

function compileNode(node: unknown, literals: { longest: number }): Compiled | undefined {
  if (!isNode(node)) return undefined;
  switch (node.type) {
    case 'string': {
      const value = node.value;
      if (typeof value !== 'string') return undefined;
      literals.longest = Math.max(literals.longest, value.length);
      return leaf(value);
    }
    case 'number':
      return typeof node.value === 'number' ? leaf(node.value) : undefined;
    case 'value':
      return node.value === true || node.value === false || node.value === null ? leaf(node.value) : undefined;
    case 'variable': {
      const read = variableReader(node);
      if (read === undefined) return undefined;
      return {
        depth: 1,
        code: (c) => {
          c.steps++;
          return passing(c, read(c));
        },
      };
    }
    case 'path':
      return compilePath(node);
    case 'binary':
      return compileBinary(node, literals);
    case 'unary':
      return compileUnary(node, literals);
    case 'condition':
      return compileCondition(node, literals);
    case 'block': {
      const parts = compileAll(node.expressions, literals);
      if (parts === undefined) return undefined;
      const codes = parts.map((p) => p.code);
      return {
        depth: 1 + Math.max(0, ...parts.map((p) => p.depth)),
        code: (c) => {
          c.steps++;
          let value: unknown;
          for (let i = 0; i < codes.length; i++) value = codes[i]!(c);
          return passing(c, value);
        },
      };
    }
    case 'function':
      return compileFunction(node, literals);
    default:
      return undefined;
  }
}

function leaf(value: unknown): Compiled {
  return {
    depth: 1,
    code: (c) => {
      c.steps++;
      return value;
    },
  };
}

function compileAll(nodes: unknown, literals: { longest: number }): Compiled[] | undefined {
  if (!Array.isArray(nodes)) return undefined;
  const compiled: Compiled[] = [];
  for (const node of nodes) {
    const one = compileNode(node, literals);
    if (one === undefined) return undefined;
    compiled.push(one);
  }
  return compiled;
}

/** The value a variable node reads, or undefined when the subset does not know the variable. */
function variableReader(node: Node): ((c: Counts) => unknown) | undefined {
  const name = node.value;
  if (name === '') return (c) => contextOf(c.input);
  if (name === '$') return (c) => c.input;
  if (typeof name !== 'string' || !SCOPE_NAMES.has(name)) return undefined;
  const key = name as keyof CompiledScope;
  return (c) => c.scope[key];
}

/**
 * `$`, the context: JSONata wraps an array input in a sequence marked `outerWrapper` and reads
 * `$` as its item; it reads any other input that has a truthy `outerWrapper` the same way.
 */
function contextOf(input: unknown): unknown {
  if (Array.isArray(input)) return input;
  return input && (input as { outerWrapper?: unknown }).outerWrapper ? (input as Record<number, unknown>)[0] : input;
}

/** The guard's check of a value any step gives: a string within maxString, an array within maxArray. */
function passing(c: Counts, value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.length > c.limits.maxString) bail();
  } else if (Array.isArray(value) && value.length > c.limits.maxArray) bail();
  return value;
}

/** The guard's check of an array a path or a constructor built: its items, its size as JSON, and all that was built. */
function builtArray(c: Counts, value: unknown[]): void {
  const limits = c.limits;
  if (value.length > limits.maxArray) bail();
  c.built += value.length;
  if (valueSize(value, limits.maxValue) > limits.maxValue || c.built > limits.maxBuilt) bail();
}

/** {@link builtArray} of the one-item sequence `[value]`, without making it (the sizes allow for the brackets). */
function builtSingle(c: Counts, value: unknown): void {
  const limits = c.limits;
  c.built += 1;
  if (c.built > limits.maxBuilt) bail();
  if (typeof value === 'string') {
    if (value.length + 8 > limits.maxValue) bail();
  } else if (typeof value === 'object' && value !== null && valueSize(value, limits.maxValue) + 8 > limits.maxValue) bail();
}

/** The guard's check of a string a step built (`&`). */
function builtString(c: Counts, value: string): string {
  if (value.length > c.limits.maxString) bail();
  c.built += value.length;
  if (c.built > c.limits.maxBuilt) bail();
  return value;
}

// Paths ------------------------------------------------------------------------------------------

/**
 * A path of field names, its first step a name or a variable: JSONata's evaluatePath and
 * evaluateStep. One item at a time while the steps give single values (the usual case: no
 * array is made), a sequence from the first array on.
 */
function compilePath(node: Node): Compiled | undefined {
  const steps = node.steps;
  if (!Array.isArray(steps) || steps.length === 0) return undefined;
  const keys: string[] = [];
  let first: ((c: Counts) => unknown) | undefined;
  for (let i = 0; i < steps.length; i++) {
    const step: unknown = steps[i];
    if (!isNode(step)) return undefined;
    if (step.type === 'name' && typeof step.value === 'string') keys.push(step.value);
    else if (i === 0 && step.type === 'variable') {
      first = variableReader(step);
      if (first === undefined) return undefined;
      keys.push('');
    } else return undefined;
  }
  const read = first;
  const count = keys.length;
  return { depth: 2, code: (c) => evaluatePath(c, read, keys, count) };
}

/** One step on one item: its value as the step's evaluation gives it (checked, then unwrapped). */
function stepOn(c: Counts, read: ((c: Counts) => unknown) | undefined, key: string, item: unknown): unknown {
  c.steps++;
  return unwrap(passing(c, read === undefined ? lookup(item, key) : read(c)));
}

function evaluatePath(c: Counts, first: ((c: Counts) => unknown) | undefined, keys: readonly string[], count: number): unknown {
  c.steps++;
  let item = c.input;
  for (let i = 0; i < count; i++) {
    const value = stepOn(c, i === 0 ? first : undefined, keys[i]!, item);
    const last = i === count - 1;
    if (value === undefined) {
      // An empty sequence: nothing.
      return undefined;
    }
    if (!Array.isArray(value)) {
      if (!last) {
        item = value;
        continue;
      }
      builtSingle(c, value);
      return value;
    }
    // The last step's one array of the data is the path's value as it is; any other is flattened.
    if (last && !isSequence(value)) {
      builtArray(c, value);
      return value;
    }
    const items = sequence();
    for (let j = 0; j < value.length; j++) items.push(value[j]);
    if (items.length === 0 || last) {
      builtArray(c, items);
      return unwrap(items);
    }
    return evaluateSequence(c, keys, i + 1, items);
  }
  return undefined;
}

/** The path's steps from `from` on, over a sequence of items. */
function evaluateSequence(c: Counts, keys: readonly string[], from: number, start: unknown[]): unknown {
  const limits = c.limits;
  let items = start;
  for (let i = from; i < keys.length; i++) {
    const key = keys[i]!;
    const last = i === keys.length - 1;
    const results: unknown[] = [];
    for (let j = 0; j < items.length; j++) {
      const value = stepOn(c, undefined, key, items[j]);
      if (value !== undefined) results.push(value);
    }
    if (c.steps > limits.maxSteps) bail();
    const only = results[0];
    if (last && results.length === 1 && Array.isArray(only) && !isSequence(only)) {
      builtArray(c, only);
      return only;
    }
    const next = sequence();
    for (let j = 0; j < results.length; j++) {
      const value = results[j];
      if (!Array.isArray(value)) next.push(value);
      else for (let k = 0; k < value.length; k++) next.push(value[k]);
      if (next.length > limits.maxArray) bail();
    }
    if (next.length === 0 || last) {
      builtArray(c, next);
      return unwrap(next);
    }
    items = next;
  }
  return undefined;
}

// Operators --------------------------------------------------------------------------------------

function compileBinary(node: Node, literals: { longest: number }): Compiled | undefined {
  const lhs = compileNode(node.lhs, literals);
  const rhs = compileNode(node.rhs, literals);
  if (lhs === undefined || rhs === undefined) return undefined;
  const l = lhs.code;
  const r = rhs.code;
  const depth = 1 + Math.max(lhs.depth, rhs.depth);
  const op = node.value;
  let code: Code;
  switch (op) {
    case 'and':
      code = (c) => {
        c.steps++;
        return truthOf(l(c)) && truthOf(r(c));
      };
      break;
    case 'or':
      code = (c) => {
        c.steps++;
        return truthOf(l(c)) || truthOf(r(c));
      };
      break;
    case '=':
    case '!=': {
      const equal = op === '=';
      code = (c) => {
        c.steps++;
        const a = l(c);
        const b = r(c);
        if (a === undefined || b === undefined) return false;
        return deepEqual(a, b) === equal;
      };
      break;
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      code = (c) => {
        c.steps++;
        return compare(l(c), r(c), op);
      };
      break;
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      code = (c) => {
        c.steps++;
        return arithmetic(l(c), r(c), op);
      };
      break;
    case '&':
      code = (c) => {
        c.steps++;
        const a = l(c);
        const b = r(c);
        return builtString(c, concatenate(c, a, b));
      };
      break;
    case 'in':
      code = (c) => {
        c.steps++;
        const a = l(c);
        const b = r(c);
        if (a === undefined || b === undefined) return false;
        if (!Array.isArray(b)) return b === a;
        for (let i = 0; i < b.length; i++) if (b[i] === a) return true;
        return false;
      };
      break;
    default:
      return undefined;
  }
  return { code, depth };
}

/** evaluateComparisonExpression: strings with strings, numbers with numbers; nothing when a side is missing. */
function compare(a: unknown, b: unknown, op: '<' | '<=' | '>' | '>='): boolean | undefined {
  const aType = typeof a;
  const bType = typeof b;
  const aComparable = aType === 'undefined' || aType === 'string' || aType === 'number';
  const bComparable = bType === 'undefined' || bType === 'string' || bType === 'number';
  if (!aComparable || !bComparable) throw new ExpressionFailure('T2010');
  if (a === undefined || b === undefined) return undefined;
  if (aType !== bType) throw new ExpressionFailure('T2009');
  const x = a as string | number;
  const y = b as string | number;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

/** evaluateNumericExpression: numbers only; nothing when a side is missing. */
function arithmetic(a: unknown, b: unknown, op: '+' | '-' | '*' | '/' | '%'): number | undefined {
  if (a !== undefined && !isNumeric(a)) throw new ExpressionFailure('T2001');
  if (b !== undefined && !isNumeric(b)) throw new ExpressionFailure('T2002');
  if (a === undefined || b === undefined) return undefined;
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    default:
      return a % b;
  }
}

/**
 * `&`: both sides as $string makes them, nothing as ''. Neither side is turned into text when it
 * would pass the string cap (a value's size as JSON bounds its text but for escapes), and the
 * two are not joined when their lengths together pass it: JSONata then evaluates, and fails.
 */
function concatenate(c: Counts, a: unknown, b: unknown): string {
  const left = a === undefined ? '' : boundedText(c, a);
  const right = b === undefined ? '' : boundedText(c, b);
  if (left.length + right.length > c.limits.maxString) bail();
  return left + right;
}

function boundedText(c: Counts, value: unknown): string {
  const cap = c.limits.maxString;
  if (typeof value === 'object' && value !== null && valueSize(value, cap) > cap) bail();
  const text = textOf(value);
  if (text.length > cap) bail();
  return text;
}

function compileUnary(node: Node, literals: { longest: number }): Compiled | undefined {
  if (node.value === '-') {
    const operand = compileNode(node.expression, literals);
    if (operand === undefined || node.expressions !== undefined) return undefined;
    const e = operand.code;
    return {
      depth: 1 + operand.depth,
      code: (c) => {
        c.steps++;
        const value = e(c);
        if (value === undefined) return undefined;
        if (isNumeric(value)) return -value;
        throw new ExpressionFailure('D1002');
      },
    };
  }
  if (node.value === '[' && node.expression === undefined) return compileArray(node, literals);
  return undefined;
}

/**
 * An array constructor: each item's value in order (an array or sequence spliced in, a nested
 * constructor's array kept whole, nothing left out). JSONata evaluates the items concurrently:
 * which item's failure it reports depends on its awaits, so a failing item gives up to JSONata;
 * and every item's open steps count in its depth at once, so the depth is the items' sum.
 */
function compileArray(node: Node, literals: { longest: number }): Compiled | undefined {
  const items = compileAll(node.expressions, literals);
  if (items === undefined) return undefined;
  const codes = items.map((item) => item.code);
  const whole = (node.expressions as Node[]).map((item) => item.value === '[');
  return {
    depth: items.reduce((sum, item) => sum + item.depth, 1),
    code: (c) => {
      c.steps++;
      const maxArray = c.limits.maxArray;
      const result: unknown[] = [];
      for (let i = 0; i < codes.length; i++) {
        let value: unknown;
        try {
          value = codes[i]!(c);
        } catch (error) {
          if (error instanceof ExpressionFailure) bail();
          throw error;
        }
        if (value === undefined) continue;
        if (whole[i] || !Array.isArray(value)) {
          result.push(value);
        } else {
          if (result.length + value.length > maxArray) bail();
          for (let j = 0; j < value.length; j++) result.push(value[j]);
        }
        if (result.length > maxArray) bail();
      }
      builtArray(c, result);
      return result;
    },
  };
}

function compileCondition(node: Node, literals: { longest: number }): Compiled | undefined {
  const condition = compileNode(node.condition, literals);
  const then = compileNode(node.then, literals);
  const otherwise = node.else === undefined ? undefined : compileNode(node.else, literals);
  if (condition === undefined || then === undefined || (node.else !== undefined && otherwise === undefined)) return undefined;
  const test = condition.code;
  const yes = then.code;
  const no = otherwise?.code;
  return {
    depth: 1 + Math.max(condition.depth, then.depth, otherwise?.depth ?? 0),
    code: (c) => {
      c.steps++;
      const value = booleanOf(test(c)) ? yes(c) : no === undefined ? undefined : no(c);
      return passing(c, value);
    },
  };
}

/** The built-ins of the subset, of one argument each, as JSONata's fn.not, fn.exists and fn.boolean. */
const FUNCTIONS: Readonly<Record<string, (value: unknown) => unknown>> = {
  not: (value) => (value === undefined ? undefined : !booleanOf(value)),
  exists: (value) => value !== undefined,
  boolean: booleanOf,
};

/** The guard charges a built-in one step per this many characters or items it is given (expression-builtins.ts). */
const UNITS_PER_STEP = 64;

function compileFunction(node: Node, literals: { longest: number }): Compiled | undefined {
  const procedure = node.procedure;
  if (!isNode(procedure) || procedure.type !== 'variable' || typeof procedure.value !== 'string') return undefined;
  const apply = Object.prototype.hasOwnProperty.call(FUNCTIONS, procedure.value) ? FUNCTIONS[procedure.value] : undefined;
  const args = compileAll(node.arguments, literals);
  // (The parser leaves `name` undefined on a call.)
  if (apply === undefined || node.value !== '(' || node.name !== undefined || args === undefined || args.length !== 1) return undefined;
  const argument = args[0]!.code;
  return {
    depth: 1 + Math.max(1, args[0]!.depth),
    code: (c) => {
      // The call and its procedure (the variable naming the built-in) are a step each.
      c.steps += 2;
      const value = argument(c);
      // A value that says it is a function is wrapped as one by JSONata: left to it.
      if (isFunctionLike(value)) bail();
      if (typeof value === 'string' || Array.isArray(value)) {
        if (value.length >= UNITS_PER_STEP) c.steps += Math.floor(value.length / UNITS_PER_STEP);
      }
      return apply(value);
    },
  };
}

/** The compiled forms of parsed expressions, made on first use (validation parses every expression, most runs evaluate a few). */
const COMPILED = Symbol('gantry-compiled');

/** The compiled form of a parsed expression, or undefined when it is outside the subset. */
export function compiledForm(expression: jsonata.Expression): CompiledExpression | undefined {
  const holder = expression as jsonata.Expression & { [COMPILED]?: CompiledExpression | null };
  let compiled = holder[COMPILED];
  if (compiled === undefined) compiled = holder[COMPILED] = compileExpression(expression.ast()) ?? null;
  return compiled ?? undefined;
}
