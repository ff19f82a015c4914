import { loadFlowText, type RunEvent } from '@gantry/engine';
import { describe, expect, it } from 'vitest';
import { styleFor } from '../style.js';
import { Board } from './board.js';
import { renderSummary } from './render.js';

const plain = styleFor({ isTTY: false });
const flow = loadFlowText(JSON.stringify({ name: 'Ship', nodes: [{ id: 'approval', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 3600 } }, { id: 'pause', type: 'wait', data: { seconds: 0 } }], edges: [{ from: 'approval', to: 'pause' }] }));
const runId = 'r1';
const base = { runId, at: 1000 };
const started: RunEvent = { ...base, type: 'run.started', flow: { name: 'Ship', hash: 'h' }, params: {}, trigger: null };
const failure = { code: 'NODE_FAILED', message: 'node "pause" failed: the disk is full', retryable: false } as const;
const escalation: RunEvent = { ...base, type: 'notification.sent', severity: 'high', message: `Ship: ${failure.message}` };

function board(events: readonly RunEvent[]): Board {
  const b = new Board(runId, flow);
  for (const e of events) b.apply(e);
  return b;
}

describe('the summary of a run that was retried', () => {
  const failed: RunEvent[] = [started, escalation, { ...base, type: 'run.finished', status: 'failed', error: failure }];

  it('says in one line that an escalation was sent before the retry, instead of repeating the old failure', () => {
    const retried = [...failed, { ...base, type: 'run.retried', nodes: ['pause'] } as RunEvent, { ...base, at: 2000, type: 'run.finished', status: 'succeeded' } as RunEvent];
    const lines = renderSummary(board(retried), plain);
    expect(lines[0]).toContain('Ship: succeeded');
    expect(lines.slice(2)).toEqual(['  before the retry: 1 escalation sent about the failure it retried']);
    expect(lines.join('\n')).not.toContain('disk is full');
  });

  it('a failure after the retry is news again: its escalation is shown as before', () => {
    const again = { ...failure, message: 'node "pause" failed: the disk is still full' };
    const retried: RunEvent[] = [...failed, { ...base, type: 'run.retried', nodes: ['pause'] }, { ...base, type: 'notification.sent', severity: 'normal', message: 'ops: the disk is still full' }, { ...base, type: 'run.finished', status: 'failed', error: again }];
    const lines = renderSummary(board(retried), plain);
    expect(lines).toContain('  before the retry: 1 escalation sent about the failure it retried');
    expect(lines).toContain('  notification: ops: the disk is still full');
  });

  it("the failed run's own summary still says what it sent", () => {
    expect(renderSummary(board(failed), plain).at(-1)).toBe('  escalation sent about the run: the failure above');
  });
});

describe('an approval asked again as a restart resumes it', () => {
  it('is no new line, and keeps the decision given meanwhile as its note', () => {
    const requested: RunEvent = { ...base, type: 'approval.requested', nodeId: 'approval', attempt: 1, approvers: ['tech-lead'], required: 1, deadline: 5000 };
    const b = board([started, { ...base, type: 'node.started', nodeId: 'approval', attempt: 1 }, requested, { ...base, type: 'approval.decided', nodeId: 'approval', attempt: 1, principal: 'tech-lead', decision: 'approve', channel: 'cli' }]);
    expect(b.apply({ ...base, type: 'node.started', nodeId: 'approval', attempt: 2 })).toEqual([]);
    expect(b.apply({ ...requested, attempt: 2 })).toBeUndefined();
    expect(b.row('approval')).toMatchObject({ state: 'waiting', note: 'tech-lead approved' });
  });
});

describe('the summary counts the nodes of the sub-flow runs', () => {
  const parent = loadFlowText(JSON.stringify({ name: 'Checks', nodes: [{ id: 'checks', type: 'parallel', data: { agents: [{ agent: 'a', task: 't' }, { agent: 'b', task: 't' }] } }], edges: [] }));
  const probe = loadFlowText(JSON.stringify({ name: 'Probe', nodes: [{ id: 'p', type: 'wait', data: { seconds: 0 } }], edges: [] }));
  const ended = (b: Board, status: 'succeeded' | 'failed', nodeStatus: 'node.succeeded' | 'node.failed'): Board => {
    b.apply({ runId: b.runId, at: 1000, type: 'run.started', flow: { name: b.flow.name, hash: 'h' }, params: {}, trigger: null });
    b.apply({ runId: b.runId, at: 1000, type: 'node.started', nodeId: b.rows[0]!.id, attempt: 1 });
    b.apply(nodeStatus === 'node.succeeded' ? { runId: b.runId, at: 1001, type: 'node.succeeded', nodeId: b.rows[0]!.id, attempt: 1, output: {}, taken: [] } : { runId: b.runId, at: 1001, type: 'node.failed', nodeId: b.rows[0]!.id, attempt: 1, error: failure, taken: [] });
    b.apply({ runId: b.runId, at: 1002, type: 'run.finished', status });
    return b;
  };

  it("counts each of a parallel node's sub-flow runs, the last attempt's of each", () => {
    const top = ended(new Board('r1', parent), 'succeeded', 'node.succeeded');
    top.row('checks')!.children.push(
      ended(new Board('r1.checks:a.t', probe, 'checks:a.t'), 'failed', 'node.failed'),
      ended(new Board('r1.checks:b.t', probe, 'checks:b.t'), 'succeeded', 'node.succeeded'),
      ended(new Board('r1.checks~2:a.t', probe, 'checks~2:a.t'), 'succeeded', 'node.succeeded'),
    );
    expect(renderSummary(top, plain).slice(1, 3)).toEqual(['  1 succeeded', '  with its 2 sub-flow runs: 3 succeeded']);
  });
});
