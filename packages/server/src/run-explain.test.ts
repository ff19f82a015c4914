import { describe, expect, it } from 'vitest';
import { replay, type RunEvent } from '@gantry/engine';
import { explainRun } from './run-explain.js';
import { graphOfFlowText } from './run-graph.js';

const flow = {
  name: 'Explained',
  nodes: [
    { id: 'start', type: 'webhook', data: {} },
    { id: 'router', type: 'conditional', data: { conditions: [{ if: 'backend', then: 'backend_review' }] } },
    { id: 'backend_review', type: 'agent', retry: { max_attempts: 3 }, data: { agent: 'a', task: 't' } },
    { id: 'frontend_review', type: 'agent', data: { agent: 'a', task: 't' } },
    { id: 'nothing', type: 'agent', data: { agent: 'a', task: 't' } },
    { id: 'big', type: 'agent', data: { agent: 'a', task: 't' } },
    { id: 'on_error', type: 'agent', data: { agent: 'a', task: 't' } },
    { id: 'merge', type: 'agent', data: { agent: 'a', task: 't' } },
    { id: 'later', type: 'agent', when: '{% $trigger.later %}', data: { agent: 'a', task: 't' } },
  ],
  edges: [
    { from: 'start', to: 'router' },
    { from: 'router', to: 'backend_review' },
    { from: 'router', to: 'frontend_review', condition: 'frontend' },
    { from: 'router', to: 'nothing', condition: 'default' },
    { from: 'router', to: 'big', condition: '{% $count(files) > 20 %}' },
    { from: 'backend_review', to: 'on_error', condition: 'error' },
    { from: 'frontend_review', to: 'merge' },
    { from: 'big', to: 'merge' },
    { from: 'start', to: 'later' },
  ],
  error_handlers: [{ stage: '*', action: 'fail' }],
};
const graph = graphOfFlowText(JSON.stringify(flow), 'h');
const R = 'r';
const at = 1;
const node = (type: string, nodeId: string, more: object = {}) => ({ type, runId: R, at, nodeId, attempt: 1, ...more }) as RunEvent;

function explain(events: RunEvent[]) {
  return explainRun(graph, replay(R, [{ type: 'run.started', runId: R, at, flow: { name: 'Explained', hash: 'h' }, params: {}, trigger: {} }, ...events]));
}

describe('explainRun', () => {
  it('says why each branch of a router was not taken, and what a join of many waits for or skipped on', () => {
    const why = explain([
      node('node.succeeded', 'start', { output: {}, taken: [0, 8] }),
      node('node.succeeded', 'router', { output: {}, taken: [1], labels: ['backend_review'] }),
      node('node.skipped', 'frontend_review', { attempt: 0, reason: 'join' }),
      node('node.skipped', 'nothing', { attempt: 0, reason: 'join' }),
      node('node.skipped', 'big', { attempt: 0, reason: 'join' }),
      node('node.skipped', 'merge', { attempt: 0, reason: 'join' }),
      node('node.started', 'backend_review'),
    ]);
    expect(why.get('frontend_review')).toBe('skipped: its only incoming edge, from router, is labelled frontend and the router chose backend_review');
    expect(why.get('nothing')).toBe('skipped: its only incoming edge, from router, was not taken: default is taken only when no route matches, and the router chose backend_review');
    expect(why.get('big')).toBe("skipped: its only incoming edge, from router, was not taken: its condition {% $count(files) > 20 %} was false for router's output");
    expect(why.get('merge')).toBe(
      'skipped: none of its 2 incoming edges was taken: the edge from frontend_review: frontend_review was skipped, and a skipped node takes none of its edges; the edge from big: big was skipped, and a skipped node takes none of its edges',
    );
    expect(why.get('backend_review')).toBe('running, attempt 1 of 3');
    expect(why.get('on_error')).toBe('waits for its predecessor backend_review (running)');
    expect(why.get('later')).toBe('its predecessors have ended: it is about to be decided');
  });

  it('says a retry\'s failed attempt and the next, an error route not taken, a false when, and a stopped run', () => {
    const retrying = explain([
      node('node.succeeded', 'start', { output: {}, taken: [0] }),
      node('node.succeeded', 'router', { output: {}, taken: [1], labels: ['backend_review'] }),
      node('node.started', 'backend_review'),
      node('node.retrying', 'backend_review', { error: { code: 'AGENT_UNAVAILABLE', message: 'down', retryable: true }, retryAt: 5000 }),
      node('timer.set', 'backend_review', { timerId: 't1', purpose: 'retry', fireAt: 5000 }),
      node('node.skipped', 'later', { attempt: 0, reason: 'when' }),
    ]);
    expect(retrying.get('backend_review')).toBe('retrying: attempt 1 of 3 failed (AGENT_UNAVAILABLE: down); attempt 2 of 3 starts when its backoff ends');
    expect(retrying.get('later')).toBe('skipped: its condition {% $trigger.later %} was false');

    const ended = explain([
      node('node.succeeded', 'start', { output: {}, taken: [0] }),
      node('node.succeeded', 'router', { output: {}, taken: [1], labels: ['backend_review'] }),
      node('node.started', 'backend_review'),
      node('node.started', 'backend_review', { attempt: 2 }),
      node('node.succeeded', 'backend_review', { attempt: 2, output: {}, taken: [] }),
      node('node.skipped', 'on_error', { attempt: 0, reason: 'join' }),
      node('node.skipped', 'later', { attempt: 0, reason: 'aborted' }),
      { type: 'run.finished', runId: R, at, status: 'cancelled' },
    ]);
    expect(ended.get('backend_review')).toBe('succeeded after 2 attempts; took none of its edges');
    expect(ended.get('on_error')).toBe('skipped: its only incoming edge, from backend_review, was not taken: it is taken only when backend_review fails, and backend_review succeeded');
    expect(ended.get('later')).toBe('skipped: the run stopped before it was reached (the run was cancelled)');
  });

  it('says how a failure was handled: its error edge, else its handler', () => {
    const routed = explain([
      node('node.succeeded', 'start', { output: {}, taken: [0] }),
      node('node.succeeded', 'router', { output: {}, taken: [1], labels: ['backend_review'] }),
      node('node.failed', 'backend_review', { error: { code: 'AGENT_FAILED', message: 'no', retryable: false }, taken: [5] }),
    ]);
    expect(routed.get('backend_review')).toBe('failed: AGENT_FAILED: no; its error edge to on_error was taken');
    const handled = explain([node('node.failed', 'start', { error: { code: 'BAD', message: 'bad', retryable: false } }), { type: 'run.finished', runId: R, at, status: 'failed' }]);
    expect(handled.get('start')).toBe('failed: BAD: bad; the error handler for every stage acted: fail');
    expect(handled.get('router')).toBe('not reached: the run ended failed');
  });
});
