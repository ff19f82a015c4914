import { describe, expect, it } from 'vitest';
import { compileFlow } from './load.js';
import { forEachItems } from './for-each-items.js';
import type { RunEvent } from './run/events.js';
import { replay } from './run/state.js';

const flow = compileFlow({
  name: 'steps',
  params: { steps: { type: 'array', default: [10, 25] } },
  nodes: [
    { id: 'start', type: 'webhook', data: {} },
    { id: 'literal', type: 'wait', for_each: ['a', 'b'], data: { seconds: 0 } },
    { id: 'shift', type: 'wait', for_each: '{% $append($params.steps, $.last) %}', data: { seconds: 0 } },
    { id: 'broken', type: 'wait', for_each: '{% $params.steps.nope.x %}', data: { seconds: 0 } },
  ],
  edges: [{ from: 'start', to: 'literal' }, { from: 'start', to: 'shift' }, { from: 'start', to: 'broken' }],
});

const journal: RunEvent[] = [
  { type: 'run.started', runId: 'r', at: 0, flow: { name: 'steps', hash: 'h' }, params: { steps: [10, 25, 50] }, trigger: {} },
  { type: 'node.started', runId: 'r', at: 1, nodeId: 'shift', attempt: 1, input: { last: 100 } },
  { type: 'node.started', runId: 'r', at: 1, nodeId: 'broken', attempt: 1, input: {} },
];

describe('forEachItems', () => {
  it("gives a for_each's items as the run had them: the array, or its expression over the node's input and the run's params", async () => {
    const state = replay('r', journal);
    expect(await forEachItems(flow, state, 'literal')).toEqual(['a', 'b']);
    expect(await forEachItems(flow, state, 'shift')).toEqual([10, 25, 50, 100]);
  });

  it('is undefined for a node without for_each, one not started, or an expression that gives no array', async () => {
    const state = replay('r', journal);
    expect(await forEachItems(flow, state, 'start')).toBeUndefined();
    expect(await forEachItems(flow, replay('r', journal.slice(0, 1)), 'shift')).toBeUndefined();
    expect(await forEachItems(flow, state, 'broken')).toBeUndefined();
  });
});
