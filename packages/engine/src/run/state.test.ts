import { describe, expect, it } from 'vitest';
import type { RunEvent } from './events.js';
import { applyEvent, EdgeSet, replay, type RunState } from './state.js';

const at = 1;
const started: RunEvent = { type: 'run.started', runId: 'r', at, flow: { name: 'f', hash: 'h' }, params: {}, trigger: {} };
const succeeded = (nodeId: string, output: object): RunEvent => ({ type: 'node.succeeded', runId: 'r', at, nodeId, attempt: 1, output: output as never, taken: [] });
const routedFailure = (nodeId: string): RunEvent => ({ type: 'node.failed', runId: 'r', at, nodeId, attempt: 1, error: { code: 'X', message: 'no', retryable: false }, taken: [7] });

describe('a run state\'s outputs ($nodes)', () => {
  const journal = [started, succeeded('a', { a: 1 }), routedFailure('b'), succeeded('c', { c: 3 }), routedFailure('d')];

  it('lists what nodes passed on in the order they ended, whether read during the run or after it', () => {
    const after = replay('r', journal);
    const during = replay('r', journal.slice(0, 2));
    expect(Object.keys(during.outputs)).toEqual(['a']);
    for (const event of journal.slice(2)) applyEvent(during, event);
    for (const state of [after, during]) {
      expect(Object.keys(state.outputs)).toEqual(['a', 'b', 'c', 'd']);
      expect(state.outputs).toEqual({ a: { a: 1 }, b: { error: { code: 'X', message: 'no', retryable: false } }, c: { c: 3 }, d: { error: { code: 'X', message: 'no', retryable: false } } });
    }
  });

  it('is written as a plain object on a state the fold did not make', () => {
    const byHand: RunState = {
      runId: 'r', status: 'running', startedAt: 0, nodes: new Map(), outputs: {}, takenEdges: new EdgeSet(), completed: [], blocked: false,
      retries: new Map(), notified: new Set(), firedTimers: new Set(), timers: new Map(), events: 0,
    };
    for (const event of journal) applyEvent(byHand, event);
    expect(Object.keys(byHand.outputs)).toEqual(['a', 'b', 'c', 'd']);
  });
});
