/*
 * Paths and variables of compiled expressions: JSONata's evaluatePath, evaluateStep and
 * evaluateVariable over field names, `$`, `$$` and the bindings, with JSONata's sequences (a path
 * over arrays maps and flattens; a sequence of one reads as its item, of none as nothing) and the
 * guard's counts: a path is one step, and each of its steps one per item it is evaluated on.
 */
import { bail, builtArray, builtSingle, type Compiled, type CompiledScope, type Counts, isNode, type Node, passing } from './expression-compiled-base.js';
import { isSequence, lookup, sequence, unwrap } from './expression-values.js';

/** The variables the subset reads: `$` and `$$` are the input. */
const SCOPE_NAMES = new Set(['trigger', 'params', 'nodes', 'run', 'item', 'index']);

/** The value a variable node reads, or undefined when the subset does not know the variable. */
export function variableReader(node: Node): ((c: Counts) => unknown) | undefined {
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

/**
 * A path of field names, its first step a name or a variable: JSONata's evaluatePath and
 * evaluateStep. One item at a time while the steps give single values (the usual case: no
 * array is made), a sequence from the first array on.
 */
export function compilePath(node: Node): Compiled | undefined {
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

