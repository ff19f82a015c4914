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
import { bail, builtArray, builtString, type Compiled, type CompiledScope, Counts, GIVE_UP, isNode, type Node, passing } from './expression-compiled-base.js';
import { compilePath, variableReader } from './expression-compiled-paths.js';
import { booleanOf, deepEqual, ExpressionFailure, isFunctionLike, isNumeric, textOf, truthOf } from './expression-values.js';
import { valueSize } from './value-size.js';

export type { CompiledScope } from './expression-compiled-base.js';

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

/**
 * Below this maxValue, JSONata evaluates: the one-item sequence a path gives is checked by
 * allowing for its size as JSON (builtSingle), which a scalar never passes above it.
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
      // JSONata checks literals against maxString too.
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

// Operators --------------------------------------------------------------------------------------

function compileBinary(node: Node, literals: { longest: number }): Compiled | undefined {
  const lhs = compileNode(node.lhs, literals);
  const rhs = compileNode(node.rhs, literals);
  if (lhs === undefined || rhs === undefined) return undefined;
  const l = lhs.code;
  const r = rhs.code;
  const depth = 1 + Math.max(lhs.depth, rhs.depth);
  // `and` and `or` evaluate their right side only when it decides.
  if (node.value === 'and') return { depth, code: (c) => (c.steps++, truthOf(l(c)) && truthOf(r(c))) };
  if (node.value === 'or') return { depth, code: (c) => (c.steps++, truthOf(l(c)) || truthOf(r(c))) };
  const operation = typeof node.value === 'string' && Object.prototype.hasOwnProperty.call(OPERATIONS, node.value) ? OPERATIONS[node.value] : undefined;
  if (operation === undefined) return undefined;
  // Both sides, left first, then the operation: JSONata's order, so its first failure is the same.
  return { depth, code: (c) => (c.steps++, operation(l(c), r(c), c)) };
}

/** The binary operators of the subset but `and` and `or`, as JSONata's evaluateBinary applies them to both sides' values. */
const OPERATIONS: Readonly<Record<string, (a: unknown, b: unknown, c: Counts) => unknown>> = {
  '=': (a, b) => a !== undefined && b !== undefined && deepEqual(a, b),
  '!=': (a, b) => a !== undefined && b !== undefined && !deepEqual(a, b),
  '<': (a, b) => compare(a, b, '<'),
  '<=': (a, b) => compare(a, b, '<='),
  '>': (a, b) => compare(a, b, '>'),
  '>=': (a, b) => compare(a, b, '>='),
  '+': (a, b) => arithmetic(a, b, '+'),
  '-': (a, b) => arithmetic(a, b, '-'),
  '*': (a, b) => arithmetic(a, b, '*'),
  '/': (a, b) => arithmetic(a, b, '/'),
  '%': (a, b) => arithmetic(a, b, '%'),
  '&': (a, b, c) => builtString(c, concatenate(c, a, b)),
  in: includes,
};

/** evaluateIncludesExpression: `a` among `b`'s items (or `b` itself), by ===; false when a side is missing. */
function includes(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  if (!Array.isArray(b)) return b === a;
  for (let i = 0; i < b.length; i++) if (b[i] === a) return true;
  return false;
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
