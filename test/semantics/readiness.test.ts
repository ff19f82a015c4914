/**
 * DESIGN §3.2 Readiness, joins and skips: a node is decided once every predecessor is terminal;
 * join any runs on one taken edge, join all on every edge; otherwise it is skipped and takes
 * none of its outgoing edges, so skips propagate and every node ends terminal.
 */
import { describe, expect, it } from 'vitest';
import { eventsOf, FINDING, flow, offset, probe, table, type Row } from './harness.js';

const NODE_EVENTS = ['node.started', 'node.succeeded', 'node.failed', 'node.skipped'];
const never = '{% false %}';

const rows: Row[] = [
  {
    name: 'a chain runs in order, each node after its predecessor is terminal',
    flow: flow([probe('a'), probe('b'), probe('c')], [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }]),
    status: 'succeeded',
    trace: {
      types: NODE_EVENTS,
      expected: ['node.started a', 'node.succeeded a', 'node.started b', 'node.succeeded b', 'node.started c', 'node.succeeded c'],
    },
  },
  {
    name: 'a join-any node waits for every predecessor, the slow one included',
    flow: flow(
      [probe('a'), probe('slow', { sleep_ms: 5_000 }), probe('fast'), probe('d')],
      [{ from: 'a', to: 'slow' }, { from: 'a', to: 'fast' }, { from: 'slow', to: 'd' }, { from: 'fast', to: 'd' }],
    ),
    status: 'succeeded',
    nodes: { d: 'succeeded' },
    check: ({ events }) => {
      expect(offset(events, 'node.succeeded', 'fast')).toBe(0);
      expect(offset(events, 'node.started', 'd')).toBe(5_000);
    },
  },
  {
    name: 'join all waits for the slowest predecessor and runs when every edge was taken',
    flow: flow([probe('a', { sleep_ms: 3_000 }), probe('b', { sleep_ms: 1_000 }), probe('c', {}, { join: 'all' })], [{ from: 'a', to: 'c' }, { from: 'b', to: 'c' }]),
    status: 'succeeded',
    nodes: { c: 'succeeded' },
    check: ({ events }) => expect(offset(events, 'node.started', 'c')).toBe(3_000),
  },
  {
    name: 'join any runs when at least one incoming edge was taken',
    flow: flow(
      [probe('a'), probe('b'), probe('c'), probe('d')],
      [{ from: 'a', to: 'b' }, { from: 'a', to: 'c' }, { from: 'b', to: 'd', condition: never }, { from: 'c', to: 'd' }],
    ),
    status: 'succeeded',
    nodes: { a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' },
    taken: { b: [], c: ['d'] },
  },
  {
    name: 'join any is skipped when no incoming edge was taken',
    flow: flow([probe('a'), probe('b'), probe('c')], [{ from: 'a', to: 'c', condition: never }, { from: 'b', to: 'c', condition: never }]),
    status: 'succeeded',
    nodes: { a: 'succeeded', b: 'succeeded', c: 'skipped' },
    check: ({ run }) => expect(run.state().nodes.get('c')?.skipReason).toBe('join'),
  },
  {
    name: 'the simplest conditional flow ends: a → b over an edge that is not taken',
    flow: flow([probe('a'), probe('b')], [{ from: 'a', to: 'b', condition: never }]),
    status: 'succeeded',
    nodes: { a: 'succeeded', b: 'skipped' },
  },
  {
    name: 'a skip does not end the run while a sibling branch still runs',
    flow: flow([probe('a'), probe('b'), probe('c', { sleep_ms: 1_000 })], [{ from: 'a', to: 'b', condition: never }, { from: 'a', to: 'c' }]),
    status: 'succeeded',
    nodes: { a: 'succeeded', b: 'skipped', c: 'succeeded' },
  },
  {
    name: 'join all is skipped when one incoming edge was not taken, and the skip propagates',
    flow: flow(
      [probe('a'), probe('b'), probe('d', {}, { join: 'all' }), probe('e')],
      [{ from: 'a', to: 'd' }, { from: 'b', to: 'd', condition: never }, { from: 'd', to: 'e' }],
    ),
    status: 'succeeded',
    nodes: { a: 'succeeded', b: 'succeeded', d: 'skipped', e: 'skipped' },
  },
  {
    name: 'a when-skipped node takes none of its outgoing edges: the chain behind it is skipped',
    flow: flow([probe('a'), probe('b', {}, { when: never }), probe('c'), probe('d')], [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'd' }]),
    status: 'succeeded',
    nodes: { a: 'succeeded', b: 'skipped', c: 'skipped', d: 'skipped' },
    check: ({ run }) => {
      expect(run.state().nodes.get('b')?.skipReason).toBe('when');
      expect(run.state().nodes.get('c')?.skipReason).toBe('join');
    },
  },
  {
    name: 'a skipped node takes none of its outgoing edges, not even an error edge',
    flow: flow([probe('a', {}, { when: never }), probe('handler'), probe('next')], [{ from: 'a', to: 'handler', condition: 'error' }, { from: 'a', to: 'next' }]),
    status: 'succeeded',
    nodes: { a: 'skipped', handler: 'skipped', next: 'skipped' },
  },
  {
    name: 'a skipped predecessor counts as terminal: a join-any node after it still runs',
    flow: flow([probe('a'), probe('b', {}, { when: never }), probe('c'), probe('d')], [{ from: 'a', to: 'b' }, { from: 'a', to: 'c' }, { from: 'b', to: 'd' }, { from: 'c', to: 'd' }]),
    status: 'succeeded',
    nodes: { b: 'skipped', c: 'succeeded', d: 'succeeded' },
    inputs: { d: { c: true } },
  },
  {
    name: 'a failed-and-routed predecessor counts as terminal; its plain edges are not taken',
    flow: flow(
      [probe('a', { fail: {} }), probe('handler'), probe('next'), probe('join', {}, { join: 'all' })],
      [{ from: 'a', to: 'handler', condition: 'error' }, { from: 'a', to: 'next' }, { from: 'handler', to: 'join' }, { from: 'a', to: 'join' }],
    ),
    status: 'succeeded',
    nodes: { a: 'failed', handler: 'succeeded', next: 'skipped', join: 'skipped' },
    taken: { a: ['handler'] },
  },
  {
    name: 'the successors of a failed node blocked by its handler are skipped and the run ends blocked',
    flow: flow([probe('a', { fail: {} }), probe('b'), probe('c')], [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }], {
      error_handlers: [{ stage: 'a', action: 'block_deployment' }],
    }),
    status: 'blocked',
    nodes: { a: 'failed', b: 'skipped', c: 'skipped' },
  },
  {
    name: 'nodes with no incoming edge are start nodes and start at once',
    flow: flow([probe('c'), probe('a', { sleep_ms: 1_000 }), probe('b', { sleep_ms: 2_000 })], [{ from: 'a', to: 'c' }, { from: 'b', to: 'c' }]),
    status: 'succeeded',
    check: ({ events }) => {
      expect(offset(events, 'node.started', 'a')).toBe(0);
      expect(offset(events, 'node.started', 'b')).toBe(0);
      expect(offset(events, 'node.started', 'c')).toBe(2_000);
      expect(eventsOf(events, 'node.started', 'c')).toHaveLength(1);
    },
  },
  {
    name: 'a start node skipped by `when: false` does not end the run before the other start nodes run',
    flow: flow([probe('a', {}, { when: false }), probe('b')]),
    status: 'succeeded',
    nodes: { a: 'skipped', b: 'succeeded' },
  },
  {
    name: 'a start node skipped by an expression `when` lets the other start nodes run',
    flow: flow([probe('a', {}, { when: '{% 1 = 2 %}' }), probe('b', { sleep_ms: 1_000 })]),
    status: 'succeeded',
    nodes: { a: 'skipped', b: 'succeeded' },
  },
];

describe('DESIGN §3.2 readiness, joins and skips', () => {
  table(rows, it);
});
