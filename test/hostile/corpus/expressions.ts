/**
 * Item 2 and more: expressions that build huge values (strings, arrays, depth), loop or recurse
 * without end, or come from the payload through $eval. Each must end with EXPRESSION_LIMIT (or,
 * past an expression, VALUE_TOO_LARGE) while the server stays alive and answers /health.
 */
import { BUDGET, type HostileCase } from '../case.js';
import { hooked } from '../harness.js';

/** A node whose output is computed by `expression`. */
const computes = (expression: string) => hooked('Hostile expression', [{ id: 'compute', type: 'wait', data: { seconds: 0 }, output: { value: expression } }]);

/** A string doubled `n` times by a recursive function. */
const doubled = (n: number) => `($d := function($s, $n){ $n = 0 ? $s : $d($s & $s, $n - 1) }; $d("ab", ${n}))`;

export const expressionCases: HostileCase[] = [
  {
    id: 'expr-doubling-crash',
    alone: true,
    item: '2',
    title: 'a string doubled 27 times (256 Mi characters), then $length: V8\'s fatal error on main',
    via: 'webhook',
    flow: computes(`{% $length(${doubled(27)} & "c") %}`),
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-doubling-uppercase',
    alone: true,
    item: '2',
    title: 'a string doubled 27 times, then $uppercase (512 MiB of new string)',
    via: 'webhook',
    flow: computes(`{% $uppercase(${doubled(27)}) %}`),
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-reduce-doubling',
    item: '+',
    title: '$reduce doubling its accumulator 40 times (past V8\'s string length)',
    via: 'webhook',
    flow: computes('{% $reduce([1..40], function($acc, $x){ $acc & $acc }, "ab") %}'),
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-pad-huge',
    item: '+',
    title: '$pad to 5 million characters in one call',
    via: 'webhook',
    flow: computes('{% $pad("x", 5000000) %}'),
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'EXPRESSION_LIMIT' }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'expr-join-many',
    item: '+',
    title: '$join of 50,000 strings of 100 characters (5 MB)',
    via: 'webhook',
    flow: computes('{% $join([1..50000].$pad("", 100, "x")) %}'),
    // 50,000 calls of $pad come first (under every cap): work a step cap may let run.
    expect: { budgetMs: BUDGET.steps, run: { status: 'failed', code: 'EXPRESSION_LIMIT' }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'expr-replace-growth',
    item: '+',
    title: '$replace of each of 2,000 characters by 2,000 characters (4 MB)',
    via: 'webhook',
    flow: computes('{% $replace($pad("", 2000, "a"), "a", $pad("", 2000, "b")) %}'),
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'EXPRESSION_LIMIT' }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'expr-payload-string-growth',
    item: '+',
    title: 'a 900 KB string of the payload concatenated with itself, twice (3.6 MB)',
    via: 'webhook',
    flow: computes('{% ($s := $trigger.s & $trigger.s; $s & $s) %}'),
    payload: { s: 'p'.repeat(900_000) },
    // The 900 KB payload is journaled (the trigger, the hook's output, the node's input): 2.7 MB.
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'EXPRESSION_LIMIT' }, storeBelowBytes: 6_000_000 },
  },
  {
    id: 'expr-range-array',
    item: '+',
    title: 'an array of 500,000 items built by a range and a map',
    via: 'webhook',
    flow: computes('{% $count([1..500000].($ * 2)) %}'),
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-split-array',
    item: '+',
    title: '$split of a 500,000-character string into characters',
    via: 'webhook',
    flow: computes('{% $count($split($pad("", 500000, "a"), "")) %}'),
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-cartesian',
    item: '+',
    title: 'a 3,000 × 3,000 cross product (9 million items)',
    via: 'webhook',
    flow: computes('{% $count([1..3000].[1..3000]) %}'),
    // Few steps that build much: the cap on what it builds stops it, as a step cap would.
    expect: { budgetMs: BUDGET.steps, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-exponential-recursion',
    item: '+',
    title: 'a doubly recursive function of 40 (2^40 calls): only a step cap stops it',
    via: 'webhook',
    flow: computes('{% ($f := function($n){ $n <= 1 ? 1 : $f($n - 1) + $f($n - 1) }; $f(40)) %}'),
    expect: { budgetMs: BUDGET.steps, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-tail-loop',
    item: '+',
    title: 'a tail-recursive function that never returns (no stack growth)',
    via: 'webhook',
    flow: computes('{% ($f := function($n){ $f($n + 1) }; $f(0)) %}'),
    expect: { budgetMs: BUDGET.steps, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-deep-object',
    item: '+',
    title: 'an object nested 100,000 deep by recursion',
    via: 'webhook',
    flow: computes('{% ($f := function($n){ $n = 0 ? {} : { "a": $f($n - 1) } }; $f(100000)) %}'),
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
  {
    id: 'expr-eval-bomb',
    item: '+',
    title: '$eval of a string-doubling loop sent in the payload (never validated)',
    via: 'webhook',
    flow: computes('{% $eval($trigger.code) %}'),
    payload: { code: '($f := function($s){ $f($s & $s) }; $f("x"))' },
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: ['EXPRESSION_LIMIT', 'EXPRESSION_FAILED'] } },
  },
  {
    id: 'expr-doubling-run',
    alone: true,
    item: '2',
    title: 'gantry run: the doubling expression that kills the process (exit 133) on main',
    via: 'run',
    flow: computes(`{% $length(${doubled(27)} & "c") %}`),
    expect: { budgetMs: BUDGET.process, exit: 1, run: { status: 'failed', code: 'EXPRESSION_LIMIT' } },
  },
];
