/**
 * DESIGN §2.1 The node envelope, applied by the engine: `retry` (backoff and jitter on the fake
 * clock, only retryable errors), `timeout` (the attempt's signal aborted, TIMEOUT), `when`,
 * `for_each` with `concurrency`, and `output` mappings.
 */
import { describe, expect, it } from 'vitest';
import { GantryError } from '@gantry/engine';
import { eventsOf, flow, offset, probe, table, trace, untilAborted, type ProbeCall, type Row } from './harness.js';

const startsOf = (calls: readonly ProbeCall[], nodeId: string, t0: number) => calls.filter((c) => c.nodeId === nodeId).map((c) => c.at - t0);

/** A node failing with a retryable error on every attempt, with the given retry policy. */
function retryRow(name: string, retry: object, random: number, starts: number[]): Row {
  return {
    name,
    flow: flow([probe('flaky', { fail: { retryable: true } }, { retry })]),
    harness: { random: () => random },
    status: 'failed',
    nodes: { flaky: 'failed' },
    check: ({ run, events }, h) => {
      const t0 = run.state().startedAt;
      expect(startsOf(h.calls, 'flaky', t0)).toEqual(starts);
      expect(h.calls.map((c) => c.attempt)).toEqual(starts.map((_, i) => i + 1));
      const retrying = eventsOf(events, 'node.retrying', 'flaky');
      expect(retrying.map((e) => e.retryAt - t0)).toEqual(starts.slice(1));
      expect(eventsOf(events, 'timer.set', 'flaky').map((e) => [e.purpose, e.fireAt - t0])).toEqual(starts.slice(1).map((s) => ['retry', s]));
      expect(run.state().nodes.get('flaky')?.attempt).toBe(starts.length);
    },
  };
}

const retryRows: Row[] = [
  retryRow('exponential with equal jitter (random 0.5): 750 ms, then 1.5 s', { max_attempts: 3, backoff: 'exponential', initial_seconds: 1, jitter: true }, 0.5, [0, 750, 2_250]),
  retryRow('exponential with equal jitter (random 0): half the delay is kept', { max_attempts: 3, backoff: 'exponential', initial_seconds: 1, jitter: true }, 0, [0, 500, 1_500]),
  retryRow('exponential with equal jitter (random 0.75)', { max_attempts: 3, backoff: 'exponential', initial_seconds: 1, jitter: true }, 0.75, [0, 875, 2_625]),
  retryRow('exponential without jitter doubles the delay', { max_attempts: 4, backoff: 'exponential', initial_seconds: 1, jitter: false }, 0.5, [0, 1_000, 3_000, 7_000]),
  retryRow('fixed without jitter repeats the delay', { max_attempts: 3, backoff: 'fixed', initial_seconds: 2, jitter: false }, 0.5, [0, 2_000, 4_000]),
  retryRow('max_seconds caps the exponential delay', { max_attempts: 5, backoff: 'exponential', initial_seconds: 1, max_seconds: 2, jitter: false }, 0.5, [0, 1_000, 3_000, 5_000, 7_000]),
  retryRow('an empty retry policy means 3 attempts, exponential from 1 s, jittered', {}, 0.5, [0, 750, 2_250]),
  {
    name: 'a non-retryable error is not retried, whatever the policy',
    flow: flow([probe('bad', { fail: { retryable: false } }, { retry: { max_attempts: 5 } })]),
    status: 'failed',
    check: ({ events }, h) => {
      expect(h.calls).toHaveLength(1);
      expect(eventsOf(events, 'node.retrying')).toEqual([]);
    },
  },
  {
    name: 'without a retry policy a retryable error fails at once',
    flow: flow([probe('flaky', { fail: { retryable: true } })]),
    status: 'failed',
    check: (_, h) => expect(h.calls).toHaveLength(1),
  },
  {
    name: 'a node that succeeds on its second attempt succeeds, with the same idempotency key on both attempts',
    flow: flow([probe('flaky', { fail: { retryable: true, times: 1 }, out: { ok: true } }, { retry: { max_attempts: 3, jitter: false } }), probe('next')], [{ from: 'flaky', to: 'next' }]),
    status: 'succeeded',
    nodes: { flaky: 'succeeded', next: 'succeeded' },
    outputs: { flaky: { ok: true } },
    check: ({ run, events }, h) => {
      const calls = h.calls.filter((c) => c.nodeId === 'flaky');
      expect(calls.map((c) => c.attempt)).toEqual([1, 2]);
      expect(new Set(calls.map((c) => c.idempotencyKey))).toEqual(new Set([`${run.id}:flaky`]));
      expect(eventsOf(events, 'node.retrying', 'flaky')).toHaveLength(1);
      expect(eventsOf(events, 'node.succeeded', 'flaky')[0]?.attempt).toBe(2);
    },
  },
  {
    name: 'a retried node is given the same input on every attempt',
    flow: flow([probe('src', { out: { v: 1 } }), probe('flaky', { fail: { retryable: true, times: 2 } }, { retry: { max_attempts: 3 } })], [{ from: 'src', to: 'flaky' }]),
    status: 'succeeded',
    check: (_, h) => expect(h.calls.filter((c) => c.nodeId === 'flaky').map((c) => c.input)).toEqual([{ v: 1 }, { v: 1 }, { v: 1 }]),
  },
];

const timeoutRows: Row[] = [
  {
    name: 'an attempt past its timeout is aborted through its signal and fails as TIMEOUT',
    flow: flow([probe('slow', { hang: true }, { timeout: 5 })]),
    status: 'failed',
    nodes: { slow: 'failed' },
    check: ({ run, events }, h) => {
      expect(run.state().nodes.get('slow')?.error?.code).toBe('TIMEOUT');
      expect(offset(events, 'node.failed', 'slow')).toBe(5_000);
      const signal = h.calls[0]!.signal;
      expect(signal.aborted).toBe(true);
      expect((signal.reason as GantryError).code).toBe('TIMEOUT');
    },
  },
  {
    name: 'TIMEOUT is retryable: each attempt gets its own timeout and its own signal',
    flow: flow([probe('slow', { hang: true }, { timeout: 5, retry: { max_attempts: 2, backoff: 'fixed', initial_seconds: 1, jitter: false } })]),
    status: 'failed',
    check: ({ events }, h) => {
      expect(h.calls.map((c) => c.at - h.calls[0]!.at)).toEqual([0, 6_000]);
      expect(h.calls.every((c) => c.signal.aborted)).toBe(true);
      expect(h.calls[0]!.signal).not.toBe(h.calls[1]!.signal);
      expect(offset(events, 'node.failed', 'slow')).toBe(11_000);
    },
  },
  {
    name: 'an attempt that ends within its timeout succeeds and its signal is never aborted',
    flow: flow([probe('quick', { sleep_ms: 4_000 }, { timeout: 5 })]),
    status: 'succeeded',
    check: ({ events }, h) => {
      expect(h.calls[0]!.signal.aborted).toBe(false);
      expect(offset(events, 'node.succeeded', 'quick')).toBe(4_000);
    },
  },
  {
    name: 'a result that arrives after the timeout is ignored',
    flow: flow([probe('late', {}, { timeout: 1 })]),
    harness: {
      behaviours: {
        late: async (ctx) => {
          // Ignores the signal and answers after its deadline.
          await new Promise<void>((resolve) => ctx.clock.at(ctx.clock.now() + 3_000, resolve));
          return { late: true };
        },
      },
    },
    status: 'failed',
    check: ({ run, events }) => {
      expect(run.state().nodes.get('late')?.error?.code).toBe('TIMEOUT');
      expect(eventsOf(events, 'node.succeeded', 'late')).toEqual([]);
    },
  },
];

const whenRows: Row[] = [
  {
    name: 'when false skips the node (reason when) without calling its executor',
    flow: flow([probe('a'), probe('b', {}, { when: false })], [{ from: 'a', to: 'b' }]),
    status: 'succeeded',
    nodes: { a: 'succeeded', b: 'skipped' },
    check: ({ run }, h) => {
      expect(run.state().nodes.get('b')?.skipReason).toBe('when');
      expect(h.calls.map((c) => c.nodeId)).toEqual(['a']);
    },
  },
  {
    name: 'when true runs the node',
    flow: flow([probe('a'), probe('b', {}, { when: true })], [{ from: 'a', to: 'b' }]),
    status: 'succeeded',
    nodes: { b: 'succeeded' },
  },
  {
    name: 'a when expression reads the node input',
    flow: flow([probe('a', { out: { deploy: true } }), probe('b', {}, { when: '{% deploy %}' }), probe('c', {}, { when: '{% $not(deploy) %}' })], [{ from: 'a', to: 'b' }, { from: 'a', to: 'c' }]),
    status: 'succeeded',
    nodes: { b: 'succeeded', c: 'skipped' },
  },
  {
    name: 'a when expression reads $params',
    flow: flow([probe('a', {}, { when: '{% $params.enabled %}' })], [], { params: { enabled: { type: 'boolean', default: true } } }),
    start: { params: { enabled: false } },
    status: 'succeeded',
    nodes: { a: 'skipped' },
  },
  {
    name: 'a when expression that fails fails the node with EXPRESSION_FAILED',
    flow: flow([probe('a', {}, { when: '{% $number("x") > 1 %}' })]),
    status: 'failed',
    check: ({ run }, h) => {
      expect(run.state().nodes.get('a')?.error?.code).toBe('EXPRESSION_FAILED');
      expect(h.calls).toEqual([]);
    },
  },
];

const forEachRows: Row[] = [
  {
    name: 'items run one at a time, in order, by default; the output is the array of results',
    flow: flow([probe('each', { sleep_ms: 1_000, out: { v: '{% $item %}', i: '{% $index %}' } }, { for_each: ['a', 'b', 'c'] })]),
    status: 'succeeded',
    outputs: {
      each: [
        { v: 'a', i: 0 },
        { v: 'b', i: 1 },
        { v: 'c', i: 2 },
      ],
    },
    check: ({ run }, h) => {
      expect(startsOf(h.calls, 'each', run.state().startedAt)).toEqual([0, 1_000, 2_000]);
      expect(h.calls.map((c) => c.item?.value)).toEqual(['a', 'b', 'c']);
    },
  },
  {
    name: 'concurrency 2 keeps two items in flight; the output keeps item order, not completion order',
    flow: flow([probe('each', { out: { v: '{% $item %}' } }, { for_each: [3_000, 1_000, 1_000, 500], concurrency: 2 })]),
    harness: {
      behaviours: {
        each: async (ctx) => {
          await ctx.sleepUntil(ctx.clock.now() + Number(ctx.item!.value));
          return { v: ctx.item!.value, i: ctx.item!.index };
        },
      },
    },
    status: 'succeeded',
    outputs: {
      each: [
        { v: 3_000, i: 0 },
        { v: 1_000, i: 1 },
        { v: 1_000, i: 2 },
        { v: 500, i: 3 },
      ],
    },
    check: ({ run }, h) => expect(startsOf(h.calls, 'each', run.state().startedAt)).toEqual([0, 0, 1_000, 2_000]),
  },
  {
    name: 'concurrency at least the item count starts every item at once',
    flow: flow([probe('each', { sleep_ms: 1_000 }, { for_each: [1, 2, 3], concurrency: 5 })]),
    status: 'succeeded',
    check: ({ run, events }, h) => {
      expect(startsOf(h.calls, 'each', run.state().startedAt)).toEqual([0, 0, 0]);
      expect(offset(events, 'node.succeeded', 'each')).toBe(1_000);
    },
  },
  {
    name: 'the first failing item stops the node: later items never start',
    flow: flow([probe('each', {}, { for_each: [0, 1, 2, 3] })]),
    harness: {
      behaviours: {
        each: (ctx) => {
          if (ctx.item!.index === 1) throw new GantryError('AGENT_FAILED', 'item one is bad');
          return { ok: ctx.item!.index };
        },
      },
    },
    status: 'failed',
    nodes: { each: 'failed' },
    check: ({ run }, h) => {
      expect(h.calls.map((c) => c.item?.index)).toEqual([0, 1]);
      expect(run.state().nodes.get('each')?.error).toMatchObject({ code: 'AGENT_FAILED' });
      expect(run.state().nodes.get('each')?.error?.message).toContain('item 1');
    },
  },
  {
    name: 'with concurrency, a failing item aborts the items in flight',
    flow: flow([probe('each', {}, { for_each: [0, 1, 2, 3, 4], concurrency: 3 })]),
    harness: {
      behaviours: {
        each: async (ctx) => {
          if (ctx.item!.index === 1) {
            await ctx.sleepUntil(ctx.clock.now() + 100);
            throw new GantryError('AGENT_FAILED', 'item one is bad');
          }
          return untilAborted(ctx.signal);
        },
      },
    },
    status: 'failed',
    check: (_, h) => {
      expect(h.calls.map((c) => c.item?.index)).toEqual([0, 1, 2]);
      expect(h.calls.filter((c) => c.item?.index !== 1).every((c) => c.signal.aborted)).toBe(true);
    },
  },
  {
    name: 'for_each takes an expression over the input and $params',
    flow: flow(
      [probe('src', { out: { envs: ['dev', 'stage'] } }), probe('each', { out: { env: '{% $item %}', region: '{% $params.region %}' } }, { for_each: '{% $append(envs, "prod") %}' })],
      [{ from: 'src', to: 'each' }],
      { params: { region: { type: 'string', default: 'eu' } } },
    ),
    status: 'succeeded',
    outputs: {
      each: [
        { env: 'dev', region: 'eu' },
        { env: 'stage', region: 'eu' },
        { env: 'prod', region: 'eu' },
      ],
    },
  },
  {
    name: 'an empty for_each succeeds with an empty array and calls nothing',
    flow: flow([probe('src', { out: { list: [] } }), probe('each', {}, { for_each: '{% list %}' })], [{ from: 'src', to: 'each' }]),
    status: 'succeeded',
    outputs: { each: [] },
    check: (_, h) => expect(h.calls.map((c) => c.nodeId)).toEqual(['src']),
  },
  {
    name: 'a for_each expression that gives no array fails the node',
    flow: flow([probe('each', {}, { for_each: '{% "not a list" %}' })]),
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('each')?.error?.code).toBe('EXPRESSION_FAILED'),
  },
  {
    name: 'each item has its own idempotency key, and is retried on its own',
    flow: flow([probe('each', {}, { for_each: ['a', 'b'], retry: { max_attempts: 2, jitter: false } })]),
    harness: {
      behaviours: {
        each: (ctx) => {
          if (ctx.item!.index === 1 && ctx.attempt === 1) throw new GantryError('AGENT_FAILED', 'flaky', { retryable: true });
          return { item: ctx.item!.value, attempt: ctx.attempt };
        },
      },
    },
    status: 'succeeded',
    outputs: {
      each: [
        { item: 'a', attempt: 1 },
        { item: 'b', attempt: 2 },
      ],
    },
    check: ({ run }, h) => {
      expect(h.calls.map((c) => [c.item?.index, c.attempt, c.idempotencyKey])).toEqual([
        [0, 1, `${run.id}:each[0]`],
        [1, 1, `${run.id}:each[1]`],
        [1, 2, `${run.id}:each[1]`],
      ]);
    },
  },
  {
    name: "a for_each node's array reaches its successor through $nodes",
    flow: flow([probe('each', { out: { n: '{% $item * 10 %}' } }, { for_each: [1, 2] }), probe('sum', { out: { total: '{% $sum($nodes.each.n) %}' } })], [{ from: 'each', to: 'sum' }]),
    status: 'succeeded',
    outputs: { sum: { total: 30 } },
  },
];

const outputRows: Row[] = [
  {
    name: 'an output expression reshapes the result',
    flow: flow([probe('calc', { out: { a: 2, b: 3, noise: 'x' } }, { output: '{% { "total": a + b } %}' }), probe('next')], [{ from: 'calc', to: 'next' }]),
    status: 'succeeded',
    outputs: { calc: { total: 5 } },
    inputs: { next: { total: 5 } },
  },
  {
    name: 'an output object of expressions reshapes the result and keeps literals',
    flow: flow([probe('calc', { out: { a: 2, b: 3 } }, { output: { sum: '{% a + b %}', label: 'fixed', who: '{% $params.who %}' } })], [], { params: { who: { type: 'string', default: 'me' } } }),
    status: 'succeeded',
    outputs: { calc: { sum: 5, label: 'fixed', who: 'me' } },
  },
  {
    name: 'an output mapping that gives no object fails the node with OUTPUT_INVALID',
    flow: flow([probe('calc', { out: { a: 2 } }, { output: '{% a %}' })]),
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('calc')?.error?.code).toBe('OUTPUT_INVALID'),
  },
  {
    name: 'on a for_each node the output mapping shapes each item',
    flow: flow([probe('each', { out: { v: '{% $item %}' } }, { for_each: [1, 2], output: '{% { "double": v * 2 } %}' })]),
    status: 'succeeded',
    outputs: { each: [{ double: 2 }, { double: 4 }] },
  },
  {
    name: "on a for_each node an item's mapping may give any JSON value: the node's output is their array",
    flow: flow([probe('each', { out: { v: '{% $item %}' } }, { for_each: [1, 2, 3], output: '{% v > 1 ? [v, v] : null %}' })]),
    status: 'succeeded',
    outputs: { each: [null, [2, 2], [3, 3]] },
  },
  {
    name: 'a for_each over a literal array starts its first item in the step the node starts, before a sibling that became ready with it',
    flow: flow(
      [probe('a'), probe('each', {}, { for_each: ['x', 'y'] }), probe('b')],
      [
        { from: 'a', to: 'each' },
        { from: 'a', to: 'b' },
      ],
    ),
    status: 'succeeded',
    check: ({ events }) => expect(trace(events, ['node.started'])).toEqual(['node.started a', 'node.started each', 'node.started each[0]', 'node.started b', 'node.started each[1]']),
  },
];

describe('DESIGN §2.1 retry', () => {
  table(retryRows, it);
});

describe('DESIGN §2.1 timeout', () => {
  table(timeoutRows, it);
});

describe('DESIGN §2.1 when', () => {
  table(whenRows, it);
});

describe('DESIGN §2.1 for_each and concurrency', () => {
  table(forEachRows, it);
});

describe('DESIGN §2.1 output', () => {
  table(outputRows, it);
});
