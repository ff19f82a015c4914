/**
 * Item 1: regular expressions with catastrophic backtracking, from the flow and from the payload,
 * in a gate's `matches`, in `$match`, through `$eval`; and patterns RE2 cannot run, refused at
 * validation. With a linear-time engine each ends at once; on a backtracking one each freezes
 * the process.
 */
import { BUDGET, type HostileCase } from '../case.js';
import { hooked } from '../harness.js';

/** A gate: the check's metric and pattern; no `fail` edge, so a failed check fails the run (GATE_FAILED). */
const gate = (metric: string, value: string) => hooked('Regex gate', [{ id: 'gate', type: 'conditional', data: { conditions: [{ metric, operator: 'matches', value }] } }]);

/** A node whose output is computed by `expression`. */
const computes = (expression: string) => hooked('Regex expression', [{ id: 'compute', type: 'wait', data: { seconds: 0 }, output: { value: expression } }]);

const aaa = (n: number) => `${'a'.repeat(n)}!`;

export const regexCases: HostileCase[] = [
  {
    id: 'regex-gate-nested-plus',
    item: '1',
    title: 'a gate `matches` ^([a-z]+)+$ against a PR title of 34 a and a "!" (the issue\'s freeze)',
    via: 'webhook',
    flow: gate('pull_request.title', '^([a-z]+)+$'),
    payload: { pull_request: { title: aaa(34) } },
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'GATE_FAILED' } },
  },
  {
    id: 'regex-match-alternation',
    item: '1',
    title: '$match with /^(a|aa)*$/ (exponential alternation) on 40 a and a "!"',
    via: 'webhook',
    flow: computes('{% $count($match($trigger.title, /^(a|aa)*$/)) %}'),
    payload: { title: aaa(40) },
    expect: { budgetMs: BUDGET.run, run: { status: 'succeeded' } },
  },
  {
    id: 'regex-replace-star-star',
    item: '1',
    title: '$replace with /(x+x+)+y/ on 40 x (no y): the textbook catastrophic pattern',
    via: 'webhook',
    flow: computes('{% $replace($trigger.text, /(x+x+)+y/, "-") %}'),
    payload: { text: 'x'.repeat(40) },
    expect: { budgetMs: BUDGET.run, run: { status: 'succeeded' } },
  },
  {
    id: 'regex-contains-words',
    item: '1',
    title: '$contains with /^(\\w+\\s?)*$/ on a 40-letter word and a "!"',
    via: 'webhook',
    flow: computes('{% $contains($trigger.text, /^(\\w+\\s?)*$/) %}'),
    payload: { text: aaa(40) },
    expect: { budgetMs: BUDGET.run, run: { status: 'succeeded' } },
  },
  {
    id: 'regex-split-nested',
    item: '1',
    title: '$split by /(a*)*b/ on 40 a: the separator search backtracks at every position',
    via: 'webhook',
    flow: computes('{% $count($split($trigger.text, /(a*)*b/)) %}'),
    payload: { text: 'a'.repeat(40) },
    expect: { budgetMs: BUDGET.run, run: { status: 'succeeded' } },
  },
  {
    id: 'regex-pattern-from-payload',
    item: '1',
    title: 'the payload supplies the gate\'s pattern (value is an expression): ^(a|a?)+$ on 40 a and a "!"',
    via: 'webhook',
    flow: gate('text', '{% $trigger.pattern %}'),
    payload: { pattern: '^(a|a?)+$', text: aaa(40) },
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'GATE_FAILED' } },
  },
  {
    id: 'regex-backreference-from-payload',
    item: '1',
    title: 'the payload supplies a pattern RE2 cannot run (a backreference): the check cannot pass',
    via: 'webhook',
    flow: gate('text', '{% $trigger.pattern %}'),
    payload: { pattern: '^(a+)\\1$', text: 'aaaa' },
    // Which code (GATE_FAILED, or a regex code) is for the fix to decide; it must not pass.
    expect: { budgetMs: BUDGET.run, run: { status: 'failed' } },
  },
  {
    id: 'regex-eval-from-payload',
    item: '1',
    title: '$eval of an expression from the payload holding a catastrophic $match (never validated)',
    via: 'webhook',
    flow: computes('{% $eval($trigger.code) %}'),
    payload: { code: `$match("${aaa(40)}", /^(a|aa)*$/)` },
    // Linear: it ends at once, with nothing matched; refusing $eval altogether would be as good.
    expect: { budgetMs: BUDGET.run, run: { status: ['succeeded', 'failed'] } },
  },
  {
    id: 'regex-unsupported-validate',
    item: '1',
    title: 'gantry validate: a backreference in $match, a lookbehind in a gate, a lookahead in $replace',
    via: 'validate',
    flow: hooked('Unsupported regexes', [
      { id: 'compute', type: 'wait', data: { seconds: 0 }, output: { value: '{% $match($trigger.text, /(a)\\1/) %}' } },
      { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'text', operator: 'matches', value: '(?<=a)b' }] } },
      { id: 'clean', type: 'wait', data: { seconds: 0 }, output: { value: '{% $replace($trigger.text, /a(?=b)/, "") %}' } },
    ]),
    expect: { budgetMs: BUDGET.process, exit: 2, says: /REGEX_UNSUPPORTED[\s\S]*REGEX_UNSUPPORTED[\s\S]*REGEX_UNSUPPORTED/ },
  },
  {
    id: 'regex-unsupported-serve',
    item: '1',
    title: 'gantry serve refuses to start a flow whose gate pattern has a backreference',
    via: 'serve-start',
    flow: gate('text', '^(a+)\\1$'),
    expect: { budgetMs: BUDGET.process, exit: 2, says: /REGEX_UNSUPPORTED/ },
  },
  {
    id: 'regex-unsupported-run',
    item: '1',
    title: 'gantry run refuses a flow whose $match pattern has a lookahead, before anything runs',
    via: 'run',
    flow: computes('{% $match($trigger.text, /^(?=a)a+$/) %}'),
    payload: { text: 'aaa' },
    expect: { budgetMs: BUDGET.process, exit: 2, says: /REGEX_UNSUPPORTED/ },
  },
];
