/**
 * Compiled expressions (expression-compiled.ts) on the cases JSONata treats specially, each
 * checked against JSONata's own evaluation rather than a value written here; what the subset
 * leaves to JSONata; and the caps, which hold by giving up to JSONata's guarded evaluation.
 */
import { describe, expect, it } from 'vitest';
import type { CompiledFlow } from './compile.js';
import { BAIL, compileExpression } from './expression-compiled.js';
import { Evaluation, loadBuiltins, parseGuarded } from './expression-guard.js';
import { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from './expression-limits.js';
import { ExpressionFailure } from './expression-values.js';
import { evaluateExpression, evaluateNow, LATER, type Bindings } from './run/expressions.js';
import { DEFAULT_LIMITS, resolveLimits } from './value-limits.js';

const scope = {
  trigger: { s: 'x', n: 2, arr: [1, 2], objs: [{ a: 1 }, { a: 2 }], like: { 0: 1, 1: 2, length: 2 }, likeSequence: { 0: 1, 1: 2, length: 2, sequence: true }, fn: { _jsonata_function: true, a: 1 } },
  params: { min: 3, env: 'prod' },
  nodes: { a: { route: 'a', out: [{ b: [1, 2] }], nested: [[{ b: 1 }, { b: 2 }], [{ b: 3 }]] } },
  run: { id: 'r1', flow: 'f', started_at: '2026-11-27T00:00:00.000Z' },
};

type Outcome = { value: unknown; steps: number; built: number } | { code: string | undefined };

async function jsonataOutcome(text: string, input: unknown, limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS): Promise<Outcome> {
  const evaluation = new Evaluation(limits);
  await loadBuiltins();
  const bindings: Record<string, unknown> = { ...scope };
  evaluation.bindInto(bindings);
  try {
    const value = await parseGuarded(text).evaluate(input, bindings);
    return { value: plain(value), steps: evaluation.steps, built: evaluation.built };
  } catch (error) {
    return { code: (error as { code?: string }).code };
  } finally {
    evaluation.end();
  }
}

function compiledOutcome(text: string, input: unknown, limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS): Outcome | 'not compiled' | typeof BAIL {
  const compiled = compileExpression(parseGuarded(text).ast());
  if (compiled === undefined) return 'not compiled';
  const counts = { steps: 0, built: 0 };
  try {
    const value = compiled.evaluate(input, scope, limits, counts);
    return value === BAIL ? BAIL : { value: plain(value), ...counts };
  } catch (error) {
    if (error instanceof ExpressionFailure) return { code: error.code };
    throw error;
  }
}

/** Sequences as plain arrays (toEqual would see their `sequence` mark). */
function plain(value: unknown): unknown {
  return Array.isArray(value) ? value.map(plain) : value;
}

const input = { route: 'a', score: 7, list: [1, 2, 3], deep: [[{ k: 'v' }], [{ k: 'w' }, { k: 'u' }]], empty: [], one: [{ k: 'only' }], s: 'é😀', f: 0.1, n: null };

describe('compiled expressions give what JSONata gives', () => {
  const cases: [string, string, unknown?][] = [
    ['a field', "route = 'a'"],
    ['a missing field: nothing, and nothing equals nothing', "missing = 'a'"],
    ['a path over arrays maps and flattens', 'deep.k'],
    ['a singleton sequence reads as its item', 'one.k'],
    ['an array of the data is kept whole at the last step', 'list'],
    ['an empty array of the data is kept at the last step', 'empty'],
    ['an array of arrays through $nodes', '$nodes.a.nested.b'],
    ['an array whose items are arrays, at the last step', '$nodes.a.out.b'],
    ['a sequence and an array-like object are not equal, whatever its names', '[$trigger.objs.a = $trigger.like, $trigger.objs.a = $trigger.likeSequence]'],
    ['an array and an array-like object are', '$trigger.arr = $trigger.like'],
    ['an object that says it is a function has no fields', '$trigger.fn.a'],
    ['nor is it true', '$trigger.fn ? 1 : 2'],
    ['$ of an input with outerWrapper is its "0"', '$', { outerWrapper: true, 0: 'zero' }],
    ['$ of an array input is the array', '$', [1, 2]],
    ['a path over an array input', 'k', [{ k: 1 }, { k: 2 }]],
    ['$$ is the input', '$$.route'],
    ['comparisons of mismatched types fail: T2009', "score < 'a'"],
    ['comparisons of non-values fail: T2010', 'list < 1'],
    ['comparisons with nothing give nothing', 'missing < 1'],
    ['arithmetic on strings fails: T2001', "route + 1"],
    ['on the right: T2002', "1 + route"],
    ['arithmetic with nothing gives nothing', 'missing + 1'],
    ['an infinite operand fails: D1001', '(1/0) + 1'],
    ['& of an infinite number fails: D3001', "(1/0) & ''"],
    ['& stringifies as $string does (15 digits)', "(0.1 + 0.2) & '|' & list & '|' & n & '|' & missing & '|' & s"],
    ['& of objects', "$trigger.objs & $run"],
    ['negation of a string fails: D1002', '-route'],
    ['in over an array, a scalar and nothing', "[2 in list, 'a' in route, missing in list, 2 in missing]"],
    ['and/or/not with truthiness of arrays and objects', "[list and $trigger, empty or n, $not(one), $not(missing), $exists(missing), $boolean(deep)]"],
    ['the truth of an array looks at every item: an infinite one fails', '$boolean([1, 1/0])'],
    ['conditions, with and without else', "[score > 5 ? 'hi' : 'lo', score < 5 ? 'lo', (missing ? 1 : 2)]"],
    ['array constructors splice arrays and keep nested constructors', "[list, [list], deep.k, [], [[]]]"],
    ['blocks give their last value', "(route; score; list)"],
    ['unicode strings compare by code units', "s > 'é' and s & s = 'é😀é😀'"],
    ['bindings', "$params.min < score and $params.env = 'prod' and $run.id = 'r1' and $item = $index"],
  ];
  for (const [name, text, data] of cases) {
    it(name, async () => {
      const compiled = compiledOutcome(text, data ?? input);
      expect(compiled, 'the compiled evaluation answers').not.toBe('not compiled');
      expect(compiled).not.toBe(BAIL);
      expect(compiled).toEqual(await jsonataOutcome(text, data ?? input));
    });
  }
});

describe('what stays with JSONata', () => {
  it('expressions outside the subset are not compiled', () => {
    for (const text of ['list[0]', 'deep.*', '$string(score)', '$count(list)', '$x := 1', '$unknown', '{ "k": route }', 'list[$ > 1]', '**.k', '[1..3]', '$not()', '$not(1, 2)', 'route ~> $uppercase()', 'list^($)', '$sum', "$now() = ''"]) {
      expect(compileExpression(parseGuarded(text).ast()), text).toBeUndefined();
    }
  });

  it('a failure in an array constructor is left to JSONata (which reports the item that fails first by its own schedule)', () => {
    expect(compiledOutcome("[1, score < 'a']", input)).toBe(BAIL);
  });
});

describe('the caps hold for compiled expressions', () => {
  const big = 'y'.repeat(700_000);
  const flow = { expression: () => undefined } as unknown as CompiledFlow;
  const bindings: Bindings = { ...scope, trigger: { big }, limits: DEFAULT_LIMITS };

  it('& whose result would pass the string cap gives up without joining, and JSONata fails it with EXPRESSION_LIMIT', async () => {
    const compiled = compileExpression(parseGuarded('$trigger.big & $trigger.big').ast())!;
    expect(compiled.evaluate({}, bindings, DEFAULT_EXPRESSION_LIMITS)).toBe(BAIL);
    // Within the cap, it answers.
    expect(compiled.evaluate({}, { ...bindings, trigger: { big: 'ab' } }, DEFAULT_EXPRESSION_LIMITS)).toBe('abab');
    await expect(evaluateExpression(flow, '{% $trigger.big & $trigger.big %}', {}, bindings)).rejects.toMatchObject({
      code: 'EXPRESSION_LIMIT',
      message: expect.stringMatching(/built a string of more than 1048576 characters/),
    });
  });

  it('& of an object too large for the string cap gives up before turning it into text', () => {
    const compiled = compileExpression(parseGuarded("$trigger & ''").ast())!;
    const limits = { ...DEFAULT_EXPRESSION_LIMITS, maxString: 100 };
    expect(compiled.evaluate({}, { ...scope, trigger: { list: Array.from({ length: 50 }, (_, i) => i) } }, limits)).toBe(BAIL);
  });

  it('steps, depth, arrays and built size are counted as the guard counts them; past one, JSONata answers', async () => {
    const text = '$nodes.a.nested.b = [1, 2, 3] and (score > 5 ? [list, list] : 0) = [1, 2, 3, 1, 2, 3]';
    const reference = await jsonataOutcome(text, input);
    expect(compiledOutcome(text, input)).toEqual(reference);
    const { steps, built } = reference as { steps: number; built: number };
    for (const limits of [{ maxSteps: steps - 1 }, { maxBuilt: built - 1 }, { maxArray: 5 }, { maxDepth: 3 }]) {
      const tight = { ...DEFAULT_EXPRESSION_LIMITS, ...limits };
      expect(compiledOutcome(text, input, tight), JSON.stringify(limits)).toBe(BAIL);
      // A cap passed (ExpressionLimitError, or JSONata's own sequence cap D2015).
      expect(await jsonataOutcome(text, input, tight), JSON.stringify(limits)).toHaveProperty('code');
    }
    expect(compiledOutcome(text, input, { ...DEFAULT_EXPRESSION_LIMITS, maxSteps: steps, maxBuilt: built })).toEqual(reference);
  });

  it('a compiled value past maxValue fails with that cap at once, not evaluated again by JSONata', async () => {
    // 50,000 path steps, then a value read whole: JSONata would end with the same error, after
    // tens of milliseconds; given 1 ms of work, it would say so (the compiled walk reads no clock).
    const text = '{% ($trigger.items.missing; $trigger) %}';
    const items = Array.from({ length: 50_000 }, (_, i) => ({ i }));
    const limits = resolveLimits({ expression: { maxValue: 100_000, timeoutMs: 1 } });
    const tight: Bindings = { ...scope, trigger: { items }, limits };
    // In the node's turn (an edge condition): the error at once, not LATER and the walk again.
    expect(() => evaluateNow(flow, text, {}, tight)).toThrow(expect.objectContaining({ code: 'EXPRESSION_LIMIT' }));
    await expect(evaluateExpression(flow, text, {}, tight)).rejects.toMatchObject({
      code: 'EXPRESSION_LIMIT',
      message: `the expression ${text} built a value larger than 100000 characters as JSON`,
    });
    // With time enough, the evaluation JSONata gave before ends the same way.
    const roomy: Bindings = { ...tight, limits: resolveLimits({ expression: { maxValue: 100_000 } }) };
    await expect(evaluateExpression(flow, text, {}, roomy)).rejects.toMatchObject({ message: `the expression ${text} built a value larger than 100000 characters as JSON` });
  });
});

describe('evaluating a {% … %} string', () => {
  const flow = { expression: () => undefined } as unknown as CompiledFlow;

  it('evaluateNow answers for a compiled expression, and leaves an uncompiled or failing one for later', () => {
    expect(evaluateNow(flow, "{% score > $params.min and route = 'a' %}", input, scope)).toBe(true);
    expect(evaluateNow(flow, '{% deep.k %}', input, scope)).toEqual(['v', 'w', 'u']);
    expect(evaluateNow(flow, '{% missing %}', input, scope)).toBeNull();
    expect(evaluateNow(flow, '{% $count(list) %}', input, scope)).toBe(LATER);
    expect(evaluateNow(flow, "{% score < 'a' %}", input, scope)).toBe(LATER);
  });

  it("a compiled expression's failure is reported with JSONata's message and position", async () => {
    await expect(evaluateExpression(flow, "{% score < 'a' %}", input, scope)).rejects.toMatchObject({
      code: 'EXPRESSION_FAILED',
      message: expect.stringMatching(/must be of the same data type.*\(at character \d+\)/),
    });
  });

  it("JSONata's bindings are made once for each Bindings, not at each evaluation", async () => {
    let reads = 0;
    const counted = { ...scope } as Bindings;
    Object.defineProperty(counted, 'trigger', { enumerable: true, get: () => (reads++, { list: [1, 2] }) });
    for (let i = 0; i < 3; i++) expect(await evaluateExpression(flow, '{% $count($trigger.list) %}', {}, counted)).toBe(2);
    expect(reads).toBe(1);
  });
});
