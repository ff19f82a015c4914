import { describe, expect, it } from 'vitest';
import type { CompiledFlow } from './compile.js';
import { evaluateExpression, type Bindings } from './run/expressions.js';
import { resolveLimits } from './value-limits.js';

const flow = { expression: () => undefined } as unknown as CompiledFlow;
const bindings: Bindings = { trigger: { title: `${'a'.repeat(29)}!` }, params: {}, nodes: {}, run: { id: 'r', flow: 'f', started_at: '' } };

async function outcome(expression: string, extra: Partial<Bindings> = {}): Promise<{ code: string | undefined; message: string; ms: number; value?: unknown }> {
  const started = performance.now();
  try {
    const value = await evaluateExpression(flow, `{% ${expression} %}`, {}, { ...bindings, ...extra });
    return { code: undefined, message: '', ms: performance.now() - started, value };
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message, ms: performance.now() - started };
  }
}

// Generous bounds: a loaded machine must not fail them; without the guards each of these runs
// for minutes or kills the process.
const QUICK_MS = 3_000;

describe('catastrophic regular expressions run in linear time', () => {
  const title = `'${'a'.repeat(29)}!'`;
  const big = `$pad('', 100000, 'a') & '!'`;
  it.each([
    [`$match(${title}, /^([a-z]+)+$/)`, null],
    [`$contains(${title}, /(a|aa)+$/)`, false],
    [`$contains(${big}, /(a*)*b/)`, false],
    [`$replace('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxz', /(x+x+)+y/, 'q')`, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxz'],
    [`$split(${title}, /(a|a)+b/)`, ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaa!']],
    [`$contains($trigger.title, /^(\\w+\\s?)*$/)`, false],
  ])('%s', async (expression, expected) => {
    const { code, value, ms } = await outcome(expression);
    expect(code).toBeUndefined();
    expect(value).toEqual(expected);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  it('keeps JSONata\'s results: groups, positions, replacements, splits, flags', async () => {
    expect((await outcome(`$match('xaby xab', /a(b)(y)?/)`)).value).toEqual([
      { match: 'aby', index: 1, groups: ['b', 'y'] },
      { match: 'ab', index: 6, groups: ['b', null] },
    ]);
    expect((await outcome(`$replace('abcabc', /(b)(c)/, '[$2$1]')`)).value).toBe('a[cb]a[cb]');
    expect((await outcome(`$split('a1b22c', /[0-9]+/)`)).value).toEqual(['a', 'b', 'c']);
    expect((await outcome(`$contains('Hello', /hello/i)`)).value).toBe(true);
    expect((await outcome(`$match('x', /(?<name>x)/).groups`)).value).toEqual(['x']);
  });

  it('a pattern RE2 cannot run, arriving at run time, fails with its name and why', async () => {
    const { code, message } = await outcome(`$eval('$contains("aa", /(a)\\\\1/)')`);
    expect(code).toBe('EXPRESSION_FAILED');
    expect(message).toMatch(/backreference/);
  });

  it('a function signature JSONata turns into a pattern is matched on RE2 (85 s on V8\'s engine)', async () => {
    const args = Array.from({ length: 40 }, () => '"a"').join(',');
    const { code, message, ms } = await outcome(`(function($a)<s+s+s+s+s+s+s+s+s+s+s+s>{ 1 })(${args}, 1)`);
    expect(code).toBe('EXPRESSION_FAILED');
    expect(message).toMatch(/Argument 41 .*does not match function signature/);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  it('$toMillis\'s picture is matched on RE2 (more than 100 s on V8\'s engine)', async () => {
    const { ms, value } = await outcome(`$toMillis('${'M'.repeat(150)}!', '[YI][MI][DI][HI][mI][sI]')`);
    expect(value).toBeNull();
    expect(ms).toBeLessThan(QUICK_MS);
  });
});

describe('every evaluation is bounded by what it does', () => {
  const limit = (cap: RegExp): [RegExp] => [cap];
  it.each([
    ['doubling a string then $uppercase (a V8 fatal error before)', `($d := function($s, $n){ $n = 0 ? $s : $d($s & $s, $n - 1) }; $uppercase($d('ab', 40)))`, ...limit(/string of more than 1048576/)],
    ['$pad to a billion', `$pad('x', 1000000000)`, ...limit(/\$pad/)],
    ['$join of a huge array of big strings', `$join([1..100000].$pad('', 100000, 'x'))`, ...limit(/more than/)],
    ['$string of shared big strings (a heap exhaustion before)', `($x := $pad('', 1000000, 'x'); $string([1..100000].$x))`, ...limit(/larger than 16777216/)],
    ['concatenating an array of shared big strings', `($x := $pad('', 1000000, 'x'); [1..100000].$x & '')`, ...limit(/larger than 16777216/)],
    ['a range of ten million', `[1..10000000]`, ...limit(/array of more than 100000 items/)],
    ['$map building distinct big strings (a heap exhaustion before)', `$map([1..100000], function($i){ $pad('', 1000000, $string($i % 10)) })`, ...limit(/more than/)],
    ['nested $map', `$map([1..1000], function($i){ $map([1..1000], function($j){ [$i, $j] }) })`, ...limit(/more than/)],
    ['$sort on a huge array (JSONata\'s sort took 4 GB)', `$sort([1..100000].$random(), function($a, $b){ $a > $b })`, ...limit(/steps/)],
    ['order-by on a huge array', `([1..100000].{'v': $random()})^(v)`, ...limit(/steps/)],
    ['$distinct of a huge array (quadratic)', `$distinct([1..100000])`, ...limit(/steps/)],
    ['$base64encode of a huge string', `$base64encode($pad('', 1000000, 'x'))`, ...limit(/string of more than/)],
    ['$fromMillis with a huge width', `$fromMillis(0, '[Y,99999999]')`, ...limit(/width/)],
    ['$replace multiplying a big string', `($s := $pad('', 500000, 'a'); $replace($s, 'a', $s))`, ...limit(/string of more than/)],
    ['deep recursion', `($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))`, ...limit(/nested deeper than 500/)],
    ['tail recursion for ever', `($f := function($n){ $f($n + 1) }; $f(0))`, ...limit(/steps/)],
    ['$eval of a runaway', `$eval('($f := function($n){ $f($n+1) }; $f(0))')`, ...limit(/steps/)],
    ['$substring over a big string in a loop', `($b := $pad('', 1000000, 'x'); [1..1000].$substring($b, 0, 1))`, ...limit(/steps/)],
  ])('%s: EXPRESSION_LIMIT', async (_name, expression, cap) => {
    const { code, message, ms } = await outcome(expression);
    expect(code).toBe('EXPRESSION_LIMIT');
    expect(message).toMatch(cap);
    expect(ms).toBeLessThan(15_000);
  });

  it('a trivial condition never reads the clock: it passes even with a time limit of 1 ms', async () => {
    const limits = resolveLimits({ expression: { timeoutMs: 1 } });
    for (let i = 0; i < 200; i++) expect((await outcome(`route = 'b'`, { limits })).code).toBeUndefined();
  });

  it('the caps are the engine\'s to set', async () => {
    const limits = resolveLimits({ expression: { maxString: 10, maxSteps: 50 } });
    expect((await outcome(`$pad('x', 11)`, { limits })).message).toMatch(/more than 10/);
    expect((await outcome(`[1..100].($ + 1)`, { limits })).message).toMatch(/more than 50 steps/);
    expect((await outcome(`$pad('x', 11)`)).code).toBeUndefined();
  });

  it('a long evaluation lets the event loop run (a server answers meanwhile)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const { code } = await outcome(`($f := function($n){ $f($n + 1) }; $f(0))`);
    clearInterval(timer);
    expect(code).toBe('EXPRESSION_LIMIT');
    expect(ticks).toBeGreaterThan(3);
  });

  it('time spent in other work between its steps is not the evaluation\'s', async () => {
    // 2,000 steps, interleaved with 40 ms of someone else's work: within a 30 ms limit.
    const limits = resolveLimits({ expression: { timeoutMs: 30 } });
    const busy = (async () => {
      for (let i = 0; i < 40; i++) {
        const until = performance.now() + 1;
        while (performance.now() < until);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const { code } = await outcome(`$sum([1..500].($ * 2))`, { limits });
    await busy;
    expect(code).toBeUndefined();
  });
});
