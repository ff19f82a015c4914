/*
 * JSONata's built-in functions, each behind a guard: what one returns is checked like a step's
 * value (a built-in called in a lambda's tail position is never a step of its own), and the few
 * that can make a huge value in one call, or run a pattern JSONata builds itself, are checked
 * before they run.
 */
import { jsonata } from './jsonata.js';
import { checkValue, evaluationOf, ExpressionLimitError, type Frame } from './expression-evaluation.js';
import { withLinearRegExp } from './expression-regex.js';
import { valueSize } from './value-size.js';

/** Every built-in of JSONata 2.2 but $millis (a number). */
const BUILTINS = [
  'sum', 'count', 'max', 'min', 'average', 'string', 'substring', 'substringBefore', 'substringAfter', 'lowercase', 'uppercase',
  'length', 'trim', 'pad', 'match', 'contains', 'replace', 'split', 'join', 'formatNumber', 'formatBase', 'formatInteger',
  'parseInteger', 'number', 'floor', 'ceil', 'round', 'abs', 'sqrt', 'power', 'random', 'boolean', 'not', 'map', 'zip', 'filter',
  'single', 'reduce', 'sift', 'keys', 'lookup', 'append', 'exists', 'spread', 'merge', 'reverse', 'each', 'error', 'assert', 'type',
  'sort', 'shuffle', 'distinct', 'base64encode', 'base64decode', 'encodeUrlComponent', 'encodeUrl', 'decodeUrlComponent', 'decodeUrl',
  'eval', 'toMillis', 'fromMillis', 'clone',
] as const;

type Name = (typeof BUILTINS)[number] | 'now';

interface Builtin {
  readonly implementation: (this: Focus, ...args: unknown[]) => unknown;
  signature?: { readonly definition: string };
}

type Focus = { environment: Frame & { timestamp?: Date } };

let originals: Record<Name, Builtin> | undefined;

/**
 * Reads the built-ins once: JSONata hands them out only from an evaluation, so the first
 * evaluation waits for this.
 */
export async function loadBuiltins(): Promise<void> {
  if (originals !== undefined) return;
  const found = (await jsonata(`[${[...BUILTINS, 'now'].map((name) => `$${name}`).join(', ')}]`).evaluate(null)) as Builtin[];
  const entries: [Name, Builtin][] = BUILTINS.map((name, i) => [name, found[i]!]);
  // $now is bound to each expression's own clock: it formats the evaluation's timestamp as $fromMillis does.
  entries.push(['now', { implementation: nowOf, signature: found[BUILTINS.length]!.signature! }]);
  originals = Object.fromEntries(entries) as Record<Name, Builtin>;
  for (const [name, builtin] of GUARDED_BUILTINS) builtin.signature = originals[name].signature;
}

function nowOf(this: Focus, picture: unknown, timezone: unknown): unknown {
  return originals!.fromMillis.implementation.call(this, (this.environment.timestamp ?? new Date()).getTime(), picture, timezone);
}

/** Widths in a date picture ([Y,99999999]) pad in one step. */
function checkPicture(focus: Focus, picture: unknown, fn: string): void {
  const { maxString } = evaluationOf(focus.environment).limits;
  for (const digits of typeof picture === 'string' ? (picture.match(/\d+/g) ?? []) : []) {
    if (Number(digits) > maxString) throw new ExpressionLimitError(`$${fn} with a picture width of ${digits}: more than ${maxString} characters`);
  }
}

/** Comparisons of $distinct that count as one step: a comparison of two small values is cheaper than a step. */
const COMPARISONS_PER_STEP = 16;

/** Checks made before a built-in runs, by name. */
const BEFORE: Partial<Record<Name, (focus: Focus, args: unknown[]) => void>> = {
  pad(focus, [, width, char]) {
    const { maxString } = evaluationOf(focus.environment).limits;
    // JSONata repeats the padding string `width` times, then cuts it.
    const size = typeof width === 'number' ? Math.abs(width) * Math.max(1, typeof char === 'string' ? char.length : 1) : 0;
    if (size > maxString) throw new ExpressionLimitError(`$pad to ${width} characters would build ${size}: more than ${maxString}`);
  },
  join(focus, [strings, separator]) {
    const { maxString } = evaluationOf(focus.environment).limits;
    if (!Array.isArray(strings)) return;
    let length = typeof separator === 'string' ? separator.length * Math.max(0, strings.length - 1) : 0;
    for (const s of strings) length += typeof s === 'string' ? s.length : 0;
    if (length > maxString) throw new ExpressionLimitError(`$join would build a string of ${length} characters: more than ${maxString}`);
  },
  string(focus, [value, prettify]) {
    const { maxString } = evaluationOf(focus.environment).limits;
    // Pretty printing adds up to about as much again as the value.
    if (valueSize(value, maxString) * (prettify === true ? 2 : 1) > maxString) {
      throw new ExpressionLimitError(`$string would build a string of more than ${maxString} characters`);
    }
  },
  fromMillis(focus, [, picture]) {
    checkPicture(focus, picture, 'fromMillis');
  },
  now(focus, [picture]) {
    checkPicture(focus, picture, 'now');
  },
  distinct(focus, [values]) {
    // Each item is compared with every distinct one before it.
    if (Array.isArray(values)) evaluationOf(focus.environment).charge(Math.ceil((values.length * values.length) / 2 / COMPARISONS_PER_STEP), '$distinct');
  },
};

/**
 * JSONata's $sort merges by recursing once per item with a fresh slice of what is left: time
 * and memory grow with the square of the items (100,000 numbers took 4 GB and the process).
 * This is the same stable merge sort (the comparator says whether two items swap), in n log n.
 */
async function sortOf(this: Focus, values: unknown, comparator: unknown): Promise<unknown> {
  if (!Array.isArray(values) || values.length <= 1) return values;
  if (comparator === undefined) {
    if (!values.every((v) => typeof v === 'number') && !values.every((v) => typeof v === 'string')) throw { stack: new Error().stack, code: 'D3070', index: 1 };
    // Ascending and stable, as JSONata's default comparator (a > b swaps).
    return values.slice().sort((a, b) => (a > b ? 1 : a < b ? -1 : 0));
  }
  // The comparator is a JSONata function: JSONata's own sort of two items applies it, its steps counted.
  const two = originals!.sort.implementation;
  const swaps = async (a: unknown, b: unknown): Promise<boolean> => ((await two.call(this, [a, b], comparator)) as unknown[])[0] !== a;
  let items = values.slice();
  let other = new Array<unknown>(items.length);
  for (let width = 1; width < items.length; width *= 2) {
    for (let start = 0; start < items.length; start += 2 * width) {
      const middle = Math.min(start + width, items.length);
      const end = Math.min(start + 2 * width, items.length);
      let l = start;
      let r = middle;
      let k = start;
      while (l < middle && r < end) other[k++] = (await swaps(items[l], items[r])) ? items[r++] : items[l++];
      while (l < middle) other[k++] = items[l++];
      while (r < end) other[k++] = items[r++];
    }
    [items, other] = [other, items];
  }
  return items;
}

/**
 * Built-ins that parse text JSONata makes patterns of: `$toMillis`'s picture and the signatures
 * in what `$eval` parses. They run with those patterns on RE2, charged to the evaluation (the
 * parse happens before their first await).
 */
const ON_RE2 = new Set<Name>(['toMillis', 'eval']);

/**
 * Characters (or array items) a built-in goes through per step charged: native string functions
 * go through a character in a few nanoseconds, a step takes about 400.
 */
const UNITS_PER_STEP = 64;

/** Built-ins that go through a string character by character in JavaScript (JSONata splits it into an array of code points first). */
const PER_CHARACTER = new Set<Name>(['substring', 'length', 'pad']);

/** What a call goes through: its strings' characters and its arrays' items, given and returned. */
function units(values: readonly unknown[]): number {
  let total = 0;
  for (const value of values) {
    if (typeof value === 'string' || Array.isArray(value)) total += value.length;
  }
  return total;
}

function guarded(name: Name): Builtin {
  const before = BEFORE[name];
  const linear = ON_RE2.has(name);
  const unitsPerStep = PER_CHARACTER.has(name) ? 8 : UNITS_PER_STEP;
  function implementation(this: Focus, ...args: unknown[]): unknown {
    before?.(this, args);
    const evaluation = evaluationOf(this.environment);
    const given = units(args);
    if (given >= unitsPerStep) evaluation.charge(Math.floor(given / unitsPerStep), `$${name}`);
    const run = name === 'sort' ? sortOf : originals![name].implementation;
    const result = linear ? withLinearRegExp(() => run.apply(this, args), evaluation) : run.apply(this, args);
    const returned = (value: unknown): unknown => {
      checkValue(evaluation, value, true);
      const made = units([value]);
      if (made >= unitsPerStep) evaluation.charge(Math.floor(made / unitsPerStep), `$${name}`);
      return value;
    };
    return result instanceof Promise ? result.then(returned) : returned(result);
  }
  // Its signature is the original's, set by loadBuiltins before the first evaluation.
  return { implementation };
}

/** The guarded built-ins, to bind in each parsed expression's environment. */
export const GUARDED_BUILTINS: readonly [Name, Builtin & { _jsonata_function: true }][] = [...BUILTINS, 'now' as const].map((name) => [
  name,
  Object.assign(guarded(name), { _jsonata_function: true as const }),
]);
