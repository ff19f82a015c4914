/**
 * Differential property test of compiled expressions (expression-compiled.ts) against JSONata's
 * guarded evaluation (expression-guard.ts), on generated expressions of the subset and just
 * outside it, and generated data: missing fields, arrays and nested arrays, nulls, mixed types,
 * unicode, floats, and the names JSONata treats specially (`outerWrapper`, `_jsonata_function`,
 * `0` and `length`). Whatever the compiler accepts must give JSONata's value, with the same
 * steps and built size the guard counts, or fail where JSONata fails, with the same code; where
 * the compiled evaluation gives up, JSONata must fail. With tight limits, a compiled value is
 * still JSONata's value and a compiled failure still a failure of JSONata's.
 *
 * PROP_RUNS=100000 runs it longer (it prints what it saw); PROP_SEED sets the seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAIL, compileExpression } from './expression-compiled.js';
import { Evaluation, ExpressionLimitError, loadBuiltins, parseGuarded } from './expression-guard.js';
import { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from './expression-limits.js';
import { ExpressionFailure } from './expression-values.js';

const RUNS = Number(process.env.PROP_RUNS ?? 400);
const SEED = Number(process.env.PROP_SEED ?? 1807);
/** Each property's time: a few seconds at the default runs, more for long local runs (about 1 ms a case on a loaded machine). */
const TIMEOUT_MS = 60_000 + RUNS * 5;

/** Field names: those paths use, and those JSONata reads specially. */
const KEYS = ['a', 'b', 'route', 'n', 'outerWrapper', '_jsonata_function', '0', 'length', 'é'];
const nameOf = (key: string): string => (/^[a-z]+$/.test(key) ? key : `\`${key}\``);

const scalar = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -0, 1, -1, 2, 10, 0.1, 0.2, 1.5, 1e21, 1e-7, 123456789.123, 2 ** 53 + 2),
  fc.constantFrom<unknown>('a', 'b', '', 'é', 'e\u0301', '😀', '\u0000', '\ud800', 'route', '[', '10', '2', 'true', 'A'),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6, unit: 'binary' }),
);

/** JSON values over the keys above, arrays and nested arrays among them. */
const { value: jsonValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 5 }),
    // An object that reads like an array (JSONata's equality compares an array's own names with an object's).
    fc.array(tie('value'), { maxLength: 3 }).map((items) => Object.assign(Object.fromEntries(items.map((v, i) => [String(i), v])), { length: items.length })),
  ),
}));

const record = fc.dictionary(fc.constantFrom(...KEYS), jsonValue, { maxKeys: 6 });

/** The input `$`: mostly an object, sometimes an array or a scalar. */
const input = fc.oneof({ weight: 6, arbitrary: record }, { weight: 1, arbitrary: fc.array(record, { maxLength: 3 }) }, { weight: 1, arbitrary: scalar });

const scope = fc.record(
  {
    trigger: jsonValue,
    params: record,
    nodes: fc.record({ n1: record, n2: fc.oneof(record, fc.array(record, { maxLength: 3 })) }),
    run: fc.constant({ id: 'run-1', flow: 'f', started_at: '2026-11-27T00:00:00.000Z' }),
    item: jsonValue,
    index: fc.nat(5),
  },
  { requiredKeys: ['trigger', 'params', 'nodes', 'run'] },
);

const literal = fc.constantFrom("'a'", "'b'", '"é"', "''", "'['", "'route'", "'😀'", '1', '0', '2', '10', '0.1', '1.5', '1e300', '-1', 'true', 'false', 'null', '(1/0)', '(0/0)');
const variable = fc.constantFrom('$', '$$', '$trigger', '$params', '$nodes', '$run', '$item', '$index');
const pathHead = fc.constantFrom('', '$.', '$$.', '$trigger.', '$params.', '$nodes.n1.', '$nodes.n2.', '$run.', '$item.');
const path = fc.tuple(pathHead, fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 })).map(([head, keys]) => head + keys.map(nameOf).join('.'));
const OPERATORS = ['=', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '&', 'and', 'or', 'in'];

/** Expressions of the subset. */
const { inside } = fc.letrec<{ inside: string }>((tie) => ({
  inside: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literal,
    variable,
    path,
    fc.tuple(tie('inside'), fc.constantFrom(...OPERATORS), tie('inside'), fc.boolean()).map(([a, op, b, bare]) => (bare ? `${a} ${op} ${b}` : `(${a} ${op} ${b})`)),
    tie('inside').map((e) => `-(${e})`),
    path.map((p) => `-${p}`),
    fc.array(tie('inside'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
    fc.tuple(tie('inside'), tie('inside')).map(([a, b]) => `[[${a}], ${b}]`),
    fc.tuple(tie('inside'), tie('inside'), tie('inside')).map(([c, t, e]) => `(${c} ? ${t} : ${e})`),
    fc.tuple(tie('inside'), tie('inside')).map(([c, t]) => `(${c} ? ${t})`),
    fc.tuple(tie('inside'), tie('inside')).map(([a, b]) => `(${a}; ${b})`),
    fc.tuple(fc.constantFrom('$not', '$exists', '$boolean'), tie('inside')).map(([f, e]) => `${f}(${e})`),
  ),
}));

/** Expressions just outside the subset, around expressions of it. */
const outside = fc.oneof(
  fc.tuple(inside, fc.constantFrom('[0]', '[-1]', '.*', '[a = 1]', '[]', '{ "k": 1 }', '.$string()')).map(([e, tail]) => `(${e})${tail}`),
  fc.tuple(path, fc.constantFrom('[0]', '[1]', '.*', '[a]', '[]', '^(a)', '#$i', '@$v')).map(([p, tail]) => `${p}${tail}`),
  fc.tuple(fc.constantFrom('$string', '$count', '$lowercase', '$sum', '$type', '$unknown', '$not'), fc.array(inside, { maxLength: 2 })).map(([f, args]) => `${f}(${args.join(', ')})`),
  fc.tuple(inside, fc.constantFrom(...OPERATORS), inside).map(([a, op, b]) => `($x := ${a}; $x ${op} ${b})`),
  fc.constantFrom('**.a', '1..3', '$unknown', '$string', 'a.b^(n)', '{ "k": a }', 'a ~> $string()', '$now() = ""', '$millis() > 0', '`a`[0].b'),
);

const expression = fc.oneof({ weight: 5, arbitrary: inside }, { weight: 1, arbitrary: outside });

type Outcome = { kind: 'value'; value: unknown; steps: number; built: number } | { kind: 'error'; code: string } | { kind: 'bail' } | { kind: 'none' };

async function viaJsonata(text: string, data: unknown, names: Record<string, unknown>, limits: ExpressionLimits): Promise<Outcome> {
  const expression = parseGuarded(text);
  const evaluation = new Evaluation(limits);
  await loadBuiltins();
  const bindings = { ...names };
  evaluation.bindInto(bindings);
  try {
    const value = await expression.evaluate(data, bindings);
    return { kind: 'value', value, steps: evaluation.steps, built: evaluation.built };
  } catch (error) {
    const e = error as { code?: string };
    return { kind: 'error', code: error instanceof ExpressionLimitError ? 'LIMIT' : (e.code ?? (error instanceof RangeError ? 'RANGE' : `other: ${String(error)}`)) };
  } finally {
    evaluation.end();
  }
}

function viaCompiled(text: string, data: unknown, names: Record<string, unknown>, limits: ExpressionLimits): Outcome {
  const compiled = compileExpression(parseGuarded(text).ast());
  if (compiled === undefined) return { kind: 'none' };
  const counts = { steps: 0, built: 0 };
  try {
    const value = compiled.evaluate(data, names, limits, counts);
    return value === BAIL ? { kind: 'bail' } : { kind: 'value', value, steps: counts.steps, built: counts.built };
  } catch (error) {
    if (error instanceof ExpressionFailure) return { kind: 'error', code: error.code };
    throw error;
  }
}

/** The same value: arrays and sequences alike, numbers by Object.is (NaN, −0), undefined distinct. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function parses(text: string): boolean {
  try {
    parseGuarded(text);
    return true;
  } catch {
    return false;
  }
}

const tight = fc.record({
  maxString: fc.integer({ min: 1, max: 40 }),
  maxArray: fc.integer({ min: 1, max: 6 }),
  maxDepth: fc.integer({ min: 1, max: 8 }),
  maxSteps: fc.integer({ min: 1, max: 60 }),
  maxBuilt: fc.integer({ min: 1, max: 60 }),
  maxValue: fc.integer({ min: 8, max: 200 }),
  timeoutMs: fc.constant(10_000),
});

const tally = { cases: 0, compiled: 0, values: 0, errors: 0, bails: 0, outside: 0 };

/** A value as text, NaN, infinities, −0 and undefined told apart. */
function shown(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? String(Object.is(v, -0) ? '-0' : v) : v === undefined ? 'undefined' : v)) ?? 'undefined';
}

function show(text: string, data: unknown, names: object, limits?: object): string {
  return JSON.stringify({ text, input: data, scope: names, ...(limits ? { limits } : {}) });
}

describe('compiled expressions give what JSONata gives (differential property)', () => {
  it('on the default limits: the same value with the same counts, or the same error code', async () => {
    await fc.assert(
      fc.asyncProperty(expression.filter(parses), input, scope, async (text, data, names) => {
        tally.cases++;
        const compiled = viaCompiled(text, data, names, DEFAULT_EXPRESSION_LIMITS);
        if (compiled.kind === 'none') {
          tally.outside++;
          return;
        }
        tally.compiled++;
        const reference = await viaJsonata(text, data, names, DEFAULT_EXPRESSION_LIMITS);
        const where = show(text, data, names);
        if (compiled.kind === 'value') {
          tally.values++;
          expect(reference.kind, where).toBe('value');
          if (reference.kind !== 'value') return;
          expect(same(compiled.value, reference.value), `${where}\ncompiled ${shown(compiled.value)}, JSONata ${shown(reference.value)}`).toBe(true);
          expect([compiled.steps, compiled.built], `${where}: steps and built`).toEqual([reference.steps, reference.built]);
        } else if (compiled.kind === 'error') {
          tally.errors++;
          expect(reference, where).toEqual({ kind: 'error', code: compiled.code });
        } else {
          // Given up: only where JSONata fails (no cap is near with these data).
          tally.bails++;
          expect(reference.kind, where).toBe('error');
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    if (process.env.PROP_RUNS) console.log('default limits', tally);
    // The generators reach every outcome (a change that made them miss one would go unnoticed).
    expect(tally.values).toBeGreaterThan(0);
    expect(tally.errors).toBeGreaterThan(0);
    expect(tally.outside).toBeGreaterThan(0);
  }, TIMEOUT_MS);

  it('on tight limits: a compiled value is JSONata\'s, with its counts; a compiled failure is one of JSONata\'s', async () => {
    const seen = { values: 0, bails: 0 };
    await fc.assert(
      fc.asyncProperty(expression.filter(parses), input, scope, tight, async (text, data, names, caps) => {
        const limits = { ...DEFAULT_EXPRESSION_LIMITS, ...caps };
        const compiled = viaCompiled(text, data, names, limits);
        if (compiled.kind === 'none') return;
        const reference = await viaJsonata(text, data, names, limits);
        const where = show(text, data, names, caps);
        if (compiled.kind === 'value') {
          seen.values++;
          expect(reference.kind, where).toBe('value');
          if (reference.kind !== 'value') return;
          expect(same(compiled.value, reference.value), where).toBe(true);
          expect([compiled.steps, compiled.built], `${where}: steps and built`).toEqual([reference.steps, reference.built]);
        } else if (compiled.kind === 'error') {
          expect(reference.kind, where).toBe('error');
        } else {
          seen.bails++;
        }
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    );
    if (process.env.PROP_RUNS) console.log('tight limits', seen);
    expect(seen.values).toBeGreaterThan(0);
    expect(seen.bails).toBeGreaterThan(0);
  }, TIMEOUT_MS);
});
