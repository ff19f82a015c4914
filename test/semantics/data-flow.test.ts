/**
 * DESIGN §3.1 Data flow: a node's input is the shallow merge of the outputs behind its taken
 * incoming edges, in edge order; everything else is reachable through `$nodes`; agent and
 * parallel outputs; inputs and outputs recorded in the run history.
 */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { flow, probe, table, turns, type Row } from './harness.js';

const rows: Row[] = [
  {
    name: 'input is the shallow merge of the predecessors outputs, the later-listed edge winning',
    flow: flow(
      [probe('a', { out: { k: 'a', a: 1, nested: { x: 1 } } }), probe('b', { out: { k: 'b', b: 2, nested: { y: 2 } } }), probe('c')],
      [{ from: 'a', to: 'c' }, { from: 'b', to: 'c' }],
    ),
    status: 'succeeded',
    inputs: { a: {}, b: {}, c: { k: 'b', a: 1, b: 2, nested: { y: 2 } } },
  },
  {
    name: 'the merge follows the order the edges are listed in, not the order of the nodes',
    flow: flow(
      [probe('a', { out: { k: 'a', a: 1, nested: { x: 1 } } }), probe('b', { out: { k: 'b', b: 2, nested: { y: 2 } } }), probe('c')],
      [{ from: 'b', to: 'c' }, { from: 'a', to: 'c' }],
    ),
    status: 'succeeded',
    inputs: { c: { k: 'a', a: 1, b: 2, nested: { x: 1 } } },
  },
  {
    name: 'the merge follows edge order even when the first-listed predecessor finishes last',
    flow: flow(
      [probe('slow', { sleep_ms: 5_000, out: { k: 'slow' } }), probe('fast', { out: { k: 'fast' } }), probe('c')],
      [{ from: 'fast', to: 'c' }, { from: 'slow', to: 'c' }],
    ),
    status: 'succeeded',
    inputs: { c: { k: 'slow' } },
  },
  {
    name: 'an edge not taken contributes nothing; its source stays reachable through $nodes',
    flow: flow(
      [
        probe('a', { out: { k: 'a', secret: 7 } }),
        probe('b', { out: { k: 'b' } }),
        probe('c', { out: { from_a: '{% $nodes.a.secret %}', k: '{% k %}' } }),
      ],
      [{ from: 'a', to: 'c', condition: '{% false %}' }, { from: 'b', to: 'c' }],
    ),
    status: 'succeeded',
    inputs: { c: { k: 'b' } },
    outputs: { c: { from_a: 7, k: 'b' } },
    taken: { a: [], b: ['c'] },
  },
  {
    name: 'a skipped predecessor contributes nothing to a join-any node',
    flow: flow(
      [probe('a', { out: { from: 'a' } }, { when: '{% false %}' }), probe('b', { out: { b: true } }), probe('c')],
      [{ from: 'a', to: 'c' }, { from: 'b', to: 'c' }],
    ),
    status: 'succeeded',
    nodes: { a: 'skipped', b: 'succeeded', c: 'succeeded' },
    inputs: { c: { b: true } },
  },
  {
    name: 'a start node gets an empty input; the trigger is read through $trigger',
    flow: flow([probe('a', { out: { t: '{% $trigger.x %}', own: '{% $count($keys($)) %}' } })]),
    start: { trigger: { x: 42 } },
    status: 'succeeded',
    inputs: { a: {} },
    outputs: { a: { t: 42, own: 0 } },
  },
  {
    name: 'data expressions read the node input as $',
    flow: flow([probe('a', { out: { n: 3, s: 'x' } }), probe('b', { out: { doubled: '{% n * 2 %}', upper: '{% $uppercase($.s) %}' } })], [{ from: 'a', to: 'b' }]),
    status: 'succeeded',
    outputs: { b: { doubled: 6, upper: 'X' } },
  },
  {
    name: 'what a node resolved as its input and what it returned are in the journal',
    flow: flow([probe('a', { out: { v: 1 } }), probe('b', { out: { w: '{% v + 1 %}' } })], [{ from: 'a', to: 'b' }]),
    status: 'succeeded',
    check: ({ journal }) => {
      const started = journal.find((e): e is Extract<RunEvent, { type: 'node.started' }> => e.type === 'node.started' && e.nodeId === 'b');
      const succeeded = journal.find((e): e is Extract<RunEvent, { type: 'node.succeeded' }> => e.type === 'node.succeeded' && e.nodeId === 'b');
      expect(started?.input).toEqual({ v: 1 });
      expect(succeeded?.output).toEqual({ w: 2 });
    },
  },
  {
    name: "an agent node's output is its reply's result with its metrics merged in",
    flow: flow(
      [probe('a', { out: { repo: 'r' } }), { id: 'review', type: 'agent', data: { agent: 'reviewer', task: 'review' } }, probe('after')],
      [{ from: 'a', to: 'review' }, { from: 'review', to: 'after' }],
    ),
    harness: {
      agents: {
        reviewer: moduleAgent(async (inputs) => ({ status: 'succeeded', result: { verdict: 'ok', seen: inputs.repo, n: 1 }, metrics: { duration_ms: 5, n: 2 } })),
      },
    },
    status: 'succeeded',
    outputs: { review: { verdict: 'ok', seen: 'r', n: 2, duration_ms: 5 } },
    inputs: { after: { verdict: 'ok', seen: 'r', n: 2, duration_ms: 5 } },
  },
  {
    name: "a parallel node's output merges its agents' outputs in list order, plus results by agent, and a gate finds the metrics by name",
    flow: flow(
      [
        {
          id: 'validate',
          type: 'parallel',
          data: {
            agents: [
              { agent: 'backend', task: 'code_review' },
              { agent: 'security', task: 'security_scan' },
              { agent: 'qa', task: 'test_validation' },
            ],
          },
        },
        {
          id: 'gate',
          type: 'conditional',
          data: {
            conditions: [
              { metric: 'code_quality_score', operator: '>', value: 7.5 },
              { metric: 'security_vulnerabilities', operator: '=', value: 0 },
              { metric: 'test_coverage', operator: '>', value: 80 },
            ],
          },
        },
        probe('deploy'),
      ],
      [{ from: 'validate', to: 'gate' }, { from: 'gate', to: 'deploy', condition: 'pass' }],
    ),
    harness: {
      agents: {
        // The first agent answers last: list order, not completion order, decides the merge.
        backend: moduleAgent(async () => {
          await turns(3);
          return { code_quality_score: 8.5, summary: 'backend' };
        }),
        security: moduleAgent(() => ({ security_vulnerabilities: 0, summary: 'security' })),
        qa: moduleAgent(() => ({ status: 'succeeded', result: { summary: 'qa' }, metrics: { test_coverage: 91 } })),
      },
    },
    status: 'succeeded',
    outputs: {
      validate: {
        code_quality_score: 8.5,
        security_vulnerabilities: 0,
        test_coverage: 91,
        summary: 'qa',
        results: {
          backend: { code_quality_score: 8.5, summary: 'backend' },
          security: { security_vulnerabilities: 0, summary: 'security' },
          qa: { summary: 'qa', test_coverage: 91 },
        },
      },
    },
    nodes: { gate: 'succeeded', deploy: 'succeeded' },
    taken: { gate: ['deploy'] },
  },
  {
    name: "a failed-and-routed node's error details are its output and reach the catch node",
    flow: flow([probe('a', { fail: { code: 'CONNECTOR_FAILED' } }), probe('catch')], [{ from: 'a', to: 'catch', condition: 'error' }]),
    status: 'succeeded',
    nodes: { a: 'failed', catch: 'succeeded' },
    taken: { a: ['catch'] },
    check: ({ run }) => {
      const input = run.state().nodes.get('catch')?.input as { error?: { code?: string; message?: string } };
      expect(input.error?.code).toBe('CONNECTOR_FAILED');
      expect(input.error?.message).toContain('a failed on attempt 1');
      expect(run.state().outputs.a).toEqual(input);
    },
  },
  {
    name: 'data flows through a gate: its output passes its input on with the verdict',
    flow: flow(
      [probe('a', { out: { score: 9, id: 'x' } }), { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'score', operator: '>=', value: 5 }] } }, probe('b')],
      [{ from: 'a', to: 'gate' }, { from: 'gate', to: 'b', condition: 'pass' }],
    ),
    status: 'succeeded',
    check: ({ run }) => {
      expect(run.state().nodes.get('b')?.input).toMatchObject({ score: 9, id: 'x', outcome: 'pass', passed: true });
    },
  },
  {
    name: 'the run output is the merge of the outputs of its succeeded sink nodes',
    flow: flow([probe('a', { out: { a: 1 } }), probe('s1', { out: { s1: 1, shared: 's1' } }), probe('s2', { out: { s2: 2, shared: 's2' } })], [{ from: 'a', to: 's1' }, { from: 'a', to: 's2' }]),
    status: 'succeeded',
    check: ({ result }) => {
      expect(result.output).toEqual({ s1: 1, s2: 2, shared: 's2' });
    },
  },
];

describe('DESIGN §3.1 data flow', () => {
  table(rows, it);
});
