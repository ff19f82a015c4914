/**
 * Property test of DESIGN §11 "every evaluation is bounded": random expressions from a grammar
 * of string and array builders, recursion and regular expressions (catastrophic ones among
 * them) each end, within their budget, with a value, EXPRESSION_LIMIT or EXPRESSION_FAILED,
 * never with anything else, and never kill the process. They run in a child process with a
 * 1 GB heap, so that a V8 fatal error (what a huge string or array used to cause) fails this
 * test instead of ending vitest, and so that the guards must hold memory far below V8's limit.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./support/evaluate-child.ts', import.meta.url));

const PATTERNS = ['/^([a-z]+)+$/', '/(a|aa)+$/', '/(a*)*b/', '/(x+x+)+y/', '/(.*a){12}/', '/^(\\w+\\s?)*$/', '/[0-9]+/', '/a(b)?/i', '/(?:ab|a)+c/'];

/** Expressions that give a string, an array or a number, built from each other. */
const expression = fc.letrec<{ str: string; arr: string; num: string }>((tie) => ({
  num: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('0', '1', '7', '1000', '100000', '1000000', '1e9'),
    tie('str').map((s) => `$length(${s})`),
    tie('arr').map((a) => `$count(${a})`),
  ),
  str: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom("'a'", "'ab'", '$trigger.title', '$trigger.big', "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'"),
    fc.tuple(tie('str'), tie('num')).map(([s, n]) => `$pad(${s}, ${n}, 'xy')`),
    fc.tuple(tie('str'), tie('str')).map(([a, b]) => `(${a} & ${b})`),
    tie('str').map((s) => `$uppercase(${s})`),
    tie('str').map((s) => `$base64encode(${s})`),
    tie('arr').map((a) => `$join(${a}.$string($), ',')`),
    tie('arr').map((a) => `$string(${a})`),
    fc.tuple(tie('str'), fc.constantFrom(...PATTERNS), tie('str')).map(([s, p, r]) => `$replace(${s}, ${p}, ${r})`),
    fc.tuple(tie('str'), tie('num')).map(([s, n]) => `($d := function($s, $n){ $n <= 0 ? $s : $d($s & $s, $n - 1) }; $d(${s}, ${n}))`),
    fc.tuple(tie('str'), fc.constantFrom(...PATTERNS)).map(([s, p]) => `$string($contains(${s}, ${p}))`),
  ),
  arr: fc.oneof(
    { depthSize: 'small' },
    tie('num').map((n) => `[1..${n}]`),
    fc.tuple(tie('str'), fc.constantFrom(...PATTERNS)).map(([s, p]) => `$match(${s}, ${p}).match`),
    fc.tuple(tie('str'), fc.constantFrom(...PATTERNS)).map(([s, p]) => `$split(${s}, ${p})`),
    fc.tuple(tie('arr'), tie('str')).map(([a, s]) => `$map(${a}, function($v){ ${s} })`),
    fc.tuple(tie('arr'), tie('arr')).map(([a, b]) => `$map(${a}, function($v){ ${b} })`),
    tie('arr').map((a) => `$sort(${a}.$string($))`),
    tie('arr').map((a) => `$distinct(${a})`),
    fc.tuple(tie('arr'), tie('str')).map(([a, s]) => `${a}.{ 'k': ${s} }`),
    tie('arr').map((a) => `$reverse(${a})`),
  ),
}));

/** Budget of one evaluation: the default time limit (10 s of its own work) and slack for a loaded machine. */
const BUDGET_MS = 20_000;

describe('every evaluation is bounded (property)', () => {
  it('random builders and regexes end in a value or a clear error, within budget, and never kill the process', () => {
    const samples = fc.sample(fc.oneof(expression.str, expression.arr, expression.num), { numRuns: 60, seed: Number(process.env.PROP_SEED ?? 4242) });
    const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--max-old-space-size=1024', CHILD], {
      input: JSON.stringify(samples),
      encoding: 'utf8',
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const lines = child.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { text: string; code: string; ms: number });
    expect(child.status, `the child died after ${lines.length} of ${samples.length}: ${child.stderr.slice(0, 2_000)}`).toBe(0);
    expect(lines).toHaveLength(samples.length);
    for (const { text, code, ms } of lines) {
      expect(['OK', 'EXPRESSION_LIMIT', 'EXPRESSION_FAILED'], text).toContain(code);
      expect(ms, text).toBeLessThan(BUDGET_MS);
    }
  }, 16 * 60_000);
});
