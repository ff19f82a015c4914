/**
 * DESIGN §2.3 Expressions: `{% … %}` strings are JSONata over the node's input with the bindings
 * $trigger, $params, $nodes, $run, $item, $index; every evaluation is bounded, so a runaway
 * expression fails its node with EXPRESSION_LIMIT and never hangs the process; expression edge
 * conditions are evaluated over the source's output (§3.3).
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@gantry/engine';
import { declare, FINDING, flow, harness, outputOf, probe, table, type Row } from './harness.js';

const bindingRows: Row[] = [
  {
    name: '$ is the node input',
    flow: flow([probe('a', { out: { n: 4, list: [1, 2, 3] } }), probe('b', { out: { n: '{% $.n %}', sum: '{% $sum(list) %}', whole: '{% $ %}' } })], [{ from: 'a', to: 'b' }]),
    status: 'succeeded',
    outputs: { b: { n: 4, sum: 6, whole: { n: 4, list: [1, 2, 3] } } },
  },
  {
    name: '$trigger is the trigger payload',
    flow: flow([probe('a', { out: { repo: '{% $trigger.repository.full_name %}', sender: '{% $trigger.sender.login %}' } })]),
    start: { trigger: { repository: { full_name: 'acme/api' }, sender: { login: 'alice' } } },
    status: 'succeeded',
    outputs: { a: { repo: 'acme/api', sender: 'alice' } },
  },
  {
    name: '$params holds the given params over the declared defaults',
    flow: flow([probe('a', { out: { env: '{% $params.env %}', pct: '{% $params.pct %}' } })], [], {
      params: { env: { type: 'string', default: 'staging' }, pct: { type: 'number', default: 10 } },
    }),
    start: { params: { pct: 50 } },
    status: 'succeeded',
    outputs: { a: { env: 'staging', pct: 50 } },
  },
  {
    name: '$nodes holds the output of every succeeded node, predecessors or not',
    flow: flow(
      [probe('a', { out: { v: 'from a' } }), probe('b', { out: { w: 'from b' } }), probe('c', { out: { a: '{% $nodes.a.v %}', b: '{% $nodes.b.w %}', input: '{% $keys($) %}' } })],
      [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }],
    ),
    status: 'succeeded',
    outputs: { c: { a: 'from a', b: 'from b', input: 'w' } },
  },
  {
    name: '$run holds the run id, the flow name and the start time',
    flow: { name: 'run-binding-flow', nodes: [probe('a', { out: { id: '{% $run.id %}', flow: '{% $run.flow %}', at: '{% $run.started_at %}' } })] },
    status: 'succeeded',
    check: ({ run }) => {
      expect(outputOf(run, 'a')).toEqual({ id: run.id, flow: 'run-binding-flow', at: new Date(run.state().startedAt).toISOString() });
    },
  },
  {
    name: '$item and $index are the for_each item and its position',
    flow: flow([probe('each', { out: { item: '{% $item.name %}', index: '{% $index %}', label: '{% $item.name & "#" & $string($index) %}' } }, { for_each: [{ name: 'x' }, { name: 'y' }] })]),
    status: 'succeeded',
    outputs: {
      each: [
        { item: 'x', index: 0, label: 'x#0' },
        { item: 'y', index: 1, label: 'y#1' },
      ],
    },
  },
  {
    name: 'a string that is not wholly {% … %} is a literal',
    flow: flow([probe('a', { out: { text: 'deploy {% $params.env %} now', pct: '50 %}' } })]),
    status: 'succeeded',
    outputs: { a: { text: 'deploy {% $params.env %} now', pct: '50 %}' } },
  },
  {
    name: 'an expression that fails at run time fails its node with EXPRESSION_FAILED, and is not retried',
    flow: flow([probe('a', { out: { n: '{% $number("not a number") %}' } }, { retry: { max_attempts: 3 } })]),
    status: 'failed',
    check: ({ run }, h) => {
      expect(run.state().nodes.get('a')?.error?.code).toBe('EXPRESSION_FAILED');
      expect(h.calls).toEqual([]);
    },
  },
];

const edgeRows: Row[] = [
  {
    name: 'expression edge conditions are evaluated over the source output: true edges are taken, false ones are not',
    flow: flow(
      [probe('a', { out: { score: 8 } }), probe('b'), probe('hi'), probe('lo'), probe('param')],
      [
        { from: 'a', to: 'hi', condition: '{% score > 5 %}' },
        { from: 'a', to: 'lo', condition: '{% score <= 5 %}' },
        { from: 'a', to: 'param', condition: '{% score >= $params.min %}' },
        { from: 'b', to: 'lo' },
      ],
      { params: { min: { type: 'number', default: 8 } } },
    ),
    status: 'succeeded',
    nodes: { hi: 'succeeded', lo: 'succeeded', param: 'succeeded' },
    taken: { a: ['hi', 'param'], b: ['lo'] },
    inputs: { hi: { score: 8 }, lo: { b: true }, param: { score: 8 } },
  },
  {
    name: 'an edge whose expression is false leaves its target skipped',
    flow: flow([probe('a', { out: { score: 2 } }), probe('hi'), probe('lo')], [{ from: 'a', to: 'hi', condition: '{% score > 5 %}' }, { from: 'a', to: 'lo', condition: '{% score <= 5 %}' }]),
    status: 'succeeded',
    nodes: { hi: 'skipped', lo: 'succeeded' },
    taken: { a: ['lo'] },
  },
  {
    name: 'an edge expression that fails fails its source node',
    flow: flow([probe('a', { out: { score: 2 } }), probe('b')], [{ from: 'a', to: 'b', condition: '{% $number("x") > 1 %}' }]),
    status: 'failed',
    nodes: { a: 'failed' },
    check: ({ run }) => expect(run.state().nodes.get('a')?.error?.code).toBe('EXPRESSION_FAILED'),
  },
  {
    // Decided in the node's own turn (compiled), the limit fails the node there, as JSONata's evaluation would.
    name: 'an edge expression whose value is past the value limit fails its source node with EXPRESSION_LIMIT',
    flow: flow([probe('a', { out: { list: Array.from({ length: 200 }, (_, i) => `item ${i}`) } }), probe('b')], [{ from: 'a', to: 'b', condition: '{% list %}' }]),
    harness: { limits: { expression: { maxValue: 1_000 } } },
    status: 'failed',
    nodes: { a: 'failed', b: 'skipped' },
    check: ({ run }) => expect(run.state().nodes.get('a')?.error).toMatchObject({ code: 'EXPRESSION_LIMIT', message: 'the expression {% list %} built a value larger than 1000 characters as JSON' }),
  },
];

/** Runs a one-node flow whose data holds `expression`, with a 10 ms heartbeat on real timers. */
async function runaway(where: 'data' | 'when' | 'output', expression: string) {
  const h = harness();
  const node = where === 'data' ? probe('a', { out: { x: expression } }) : where === 'when' ? probe('a', {}, { when: expression }) : probe('a', {}, { output: expression });
  const beats: number[] = [];
  const heartbeat = setInterval(() => beats.push(performance.now()), 10);
  const started = performance.now();
  try {
    const finished = await h.run(flow([node]));
    const elapsed = performance.now() - started;
    // Let the heartbeat show it is alive after the run.
    await new Promise((r) => setTimeout(r, 40));
    const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
    return { finished, elapsed, beats: beats.length, maxGap: Math.max(0, ...gaps, (beats[0] ?? started) - started), calls: h.calls };
  } finally {
    clearInterval(heartbeat);
  }
}

const RUNAWAY_TAIL = '{% ($f := function($n){ $f($n+1) }; $f(0)) %}';
const RUNAWAY_DEEP = '{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000)) %}';
const RUNAWAY_WIDE = '{% [1..2000000].($ * 2) %}';

describe('DESIGN §2.3 bindings', () => {
  table(bindingRows, it);

  it('every expression is parsed when the flow is loaded: a syntax error refuses the run before anything runs', async () => {
    const h = harness();
    await expect(h.start(flow([probe('a'), probe('b', { out: { x: '{% 1 + %}' } })], [{ from: 'a', to: 'b' }]))).rejects.toMatchObject({
      code: 'FLOW_INVALID',
      issues: [expect.objectContaining({ code: 'EXPRESSION_SYNTAX', pointer: '/nodes/1/data/out/x' })],
    });
    expect(h.events).toEqual([]);
    expect(h.calls).toEqual([]);
  });
});

describe('DESIGN §3.3 expression edge conditions', () => {
  table(edgeRows, it);
});

describe('DESIGN §2.3 bounded evaluation', () => {
  const cases: [string, 'data' | 'when' | 'output', string, RegExp][] = [
    ['a tail-recursive runaway in data', 'data', RUNAWAY_TAIL, /took more than 1000000 steps/],
    ['a deep recursion in data', 'data', RUNAWAY_DEEP, /nested deeper than 500 levels/],
    ['a runaway `when`', 'when', RUNAWAY_DEEP, /nested deeper/],
    ['a runaway `output` mapping', 'output', RUNAWAY_DEEP, /nested deeper/],
    ['an array past the array limit', 'data', RUNAWAY_WIDE, /array of more than/],
  ];
  for (const [name, where, expression, message] of cases) {
    it(`${name} fails its node with EXPRESSION_LIMIT within seconds, and the process keeps going`, async () => {
      const { finished, elapsed, beats } = await runaway(where, expression);
      expect(finished.result.status).toBe('failed');
      const error = finished.run.state().nodes.get('a')?.error;
      expect(error?.code).toBe('EXPRESSION_LIMIT');
      expect(error?.message).toMatch(message);
      expect(elapsed).toBeLessThan(5_000);
      expect(beats).toBeGreaterThan(0);
    });
  }

  declare(it, 'a runaway expression does not stall the event loop: a 10 ms heartbeat keeps ticking while it runs', undefined, async () => {
    const { finished, maxGap } = await runaway('data', RUNAWAY_TAIL);
    expect(finished.run.state().nodes.get('a')?.error?.code).toBe('EXPRESSION_LIMIT');
    expect(maxGap).toBeLessThan(250);
  });

  declare(it, 'the array-limit message names the limit, not the size that broke it', undefined, async () => {
    const { finished } = await runaway('data', RUNAWAY_WIDE);
    const error = finished.run.state().nodes.get('a')?.error as JsonObject | undefined;
    expect(error?.message).toMatch(/100000 items/);
    expect(error?.message).not.toMatch(/2000000 items/);
  });
});
