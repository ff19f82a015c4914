import { describe, expect, it } from 'vitest';
import { applyBatch, displayState, emptyFold, itemOfPath, nodeOfPath } from './run-fold';
import type { RunEvent } from './wire';

const R = 'r1';
const ev = (type: string, at: number, more: Partial<RunEvent> = {}): RunEvent => ({ type, runId: R, at, ...more });

const journal: RunEvent[] = [
  ev('run.started', 0, { flow: { name: 'F', hash: 'h' }, params: { n: 1 }, trigger: {}, initiator: 'octocat' }),
  ev('node.started', 1, { nodeId: 'build', attempt: 1, input: { a: 1 } }),
  ev('node.retrying', 5, { nodeId: 'build', attempt: 1, error: { code: 'AGENT_UNAVAILABLE', message: 'down' }, retryAt: 1005 }),
  ev('timer.set', 5, { nodeId: 'build', attempt: 1, purpose: 'retry', fireAt: 1005, timerId: 't' }),
  ev('timer.fired', 1005, { nodeId: 'build', attempt: 1, timerId: 't' }),
  ev('node.started', 1005, { nodeId: 'build', attempt: 2, input: { a: 1 } }),
  ev('node.succeeded', 1100, { nodeId: 'build', attempt: 2, output: { ok: true }, taken: [0] }),
  ev('node.started', 1100, { nodeId: 'approve', attempt: 1 }),
  ev('approval.requested', 1101, { nodeId: 'approve', attempt: 1, approvers: ['tech-lead'], required: 1, deadline: 9999 }),
  ev('run.waiting', 1101, { on: [{ nodeId: 'approve', kind: 'approval', until: 9999 }] }),
];

describe('the run fold', () => {
  it('folds attempts, a retry, an approval and the run\'s status as the journal says', () => {
    const fold = emptyFold(R);
    expect(applyBatch(fold, 0, journal.slice(0, 3))).toEqual(new Set(['build']));
    expect(displayState(fold.nodes.get('build'), false)).toBe('retrying');
    applyBatch(fold, 3, journal.slice(3));
    const build = fold.nodes.get('build')!;
    expect(build).toMatchObject({ status: 'succeeded', attempt: 2, startedAt: 1, finishedAt: 1100, output: { ok: true } });
    expect(build.attempts.map((a) => [a.attempt, a.outcome, a.error?.code])).toEqual([
      [1, 'retried', 'AGENT_UNAVAILABLE'],
      [2, 'succeeded', undefined],
    ]);
    expect([...fold.takenEdges]).toEqual([0]);
    expect(displayState(fold.nodes.get('approve'), false)).toBe('waiting-approval');
    expect(fold.nodes.get('approve')!.attempts[0]!.waits).toEqual([{ kind: 'approval', from: 1101 }]);
    expect(fold.status).toBe('waiting');
    expect(displayState(fold.nodes.get('deploy'), false)).toBe('pending');
    expect(displayState(fold.nodes.get('deploy'), true)).toBe('not-reached');
    expect(fold.initiator).toBe('octocat');
    expect(fold.seq).toBe(journal.length);
  });

  it('skips what it has already applied, and refuses a gap', () => {
    const fold = emptyFold(R);
    applyBatch(fold, 0, journal.slice(0, 6));
    // A reconnect that repeats events 4 to 6 before the new ones applies only the new ones.
    applyBatch(fold, 3, journal.slice(3, 8));
    expect(fold.seq).toBe(8);
    expect(fold.nodes.get('build')!.attempts).toHaveLength(2);
    expect(applyBatch(fold, 9, journal.slice(9))).toBe('gap');
    expect(fold.seq).toBe(8);
  });

  it('shows decisions, a compensation, a skip with its reason, and for_each items', () => {
    const fold = emptyFold(R);
    applyBatch(fold, 0, [
      ...journal,
      ev('approval.decided', 1200, { nodeId: 'approve', attempt: 1, principal: 'alice', decision: 'approve', channel: 'api', comment: 'ok' }),
      ev('node.succeeded', 1201, { nodeId: 'approve', attempt: 1, output: {}, taken: [1] }),
      ev('node.started', 1202, { nodeId: 'steps', attempt: 1, input: {} }),
      ev('node.started', 1202, { nodeId: 'steps', attempt: 1, item: 0 }),
      ev('node.succeeded', 1300, { nodeId: 'steps', attempt: 1, item: 0, output: { p: 10 } }),
      ev('node.started', 1300, { nodeId: 'steps', attempt: 1, item: 1 }),
      ev('node.failed', 1400, { nodeId: 'steps', attempt: 1, error: { code: 'SUBFLOW_FAILED', message: 'step 1' } }),
      ev('node.skipped', 1400, { nodeId: 'notify', attempt: 0, reason: 'aborted' }),
      ev('compensation.started', 1401, { nodeId: 'build', attempt: 2 }),
      ev('compensation.succeeded', 1402, { nodeId: 'build', attempt: 2 }),
      ev('run.finished', 1403, { status: 'rolled_back', error: { code: 'SUBFLOW_FAILED', message: 'step 1' } }),
    ]);
    expect(fold.nodes.get('approve')!.decisions).toEqual([{ principal: 'alice', decision: 'approve', at: 1200, channel: 'api', comment: 'ok' }]);
    expect(fold.nodes.get('approve')!.attempts[0]!.waits).toEqual([{ kind: 'approval', from: 1101, to: 1201 }]);
    const steps = fold.nodes.get('steps')!;
    expect([...steps.items!].map(([i, it]) => [i, it.status])).toEqual([
      [0, 'succeeded'],
      [1, 'running'],
    ]);
    expect(steps.attempts.map((a) => [a.item, a.outcome])).toEqual([
      [undefined, 'failed'],
      [0, 'succeeded'],
      [1, 'aborted'],
    ]);
    expect(displayState(fold.nodes.get('build'), true)).toBe('compensated');
    expect(fold.nodes.get('notify')).toMatchObject({ status: 'skipped', skipReason: 'aborted' });
    expect(fold.status).toBe('rolled_back');
  });

  it('a retried run goes on: the nodes it names are pending again, their attempts kept, the others as they ended', () => {
    const fold = emptyFold(R);
    applyBatch(fold, 0, [
      ev('run.started', 0, { flow: { name: 'F', hash: 'h' }, params: {}, trigger: {} }),
      ev('node.started', 1, { nodeId: 'build', attempt: 1 }),
      ev('node.succeeded', 2, { nodeId: 'build', attempt: 1, output: { image: 'x' }, taken: [0] }),
      ev('node.started', 2, { nodeId: 'deploy', attempt: 1 }),
      ev('node.failed', 3, { nodeId: 'deploy', attempt: 1, error: { code: 'AGENT_FAILED', message: 'down' } }),
      ev('compensation.started', 3, { nodeId: 'deploy', attempt: 1 }),
      ev('compensation.succeeded', 4, { nodeId: 'deploy', attempt: 1 }),
      ev('node.skipped', 4, { nodeId: 'notify', attempt: 0, reason: 'aborted' }),
      ev('run.finished', 5, { status: 'rolled_back', error: { code: 'AGENT_FAILED', message: 'down' } }),
    ]);
    const changed = applyBatch(fold, 9, [ev('run.retried', 10, { nodes: ['deploy', 'notify'], by: 'bob' }), ev('node.started', 11, { nodeId: 'deploy', attempt: 2 })]);
    expect(changed).toEqual(new Set(['deploy', 'notify']));
    expect(fold).toMatchObject({ status: 'running', finishedAt: undefined, error: undefined });
    expect(displayState(fold.nodes.get('deploy'), false)).toBe('running');
    expect(fold.nodes.get('deploy')!.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'running'],
    ]);
    expect(displayState(fold.nodes.get('notify'), false)).toBe('pending');
    expect(fold.nodes.get('build')).toMatchObject({ status: 'succeeded', output: { image: 'x' } });
    expect([...fold.takenEdges]).toEqual([0]);
  });

  it('a retried approval starts its decisions again, as the engine does', () => {
    const fold = emptyFold(R);
    applyBatch(fold, 0, [
      ev('run.started', 0, { flow: { name: 'F', hash: 'h' }, params: {}, trigger: {} }),
      ev('node.started', 1, { nodeId: 'ok', attempt: 1 }),
      ev('approval.requested', 1, { nodeId: 'ok', approvers: ['lead'], required: 1, deadline: 100 }),
      ev('approval.decided', 2, { nodeId: 'ok', principal: 'alice', decision: 'reject', channel: 'api' }),
      ev('node.failed', 2, { nodeId: 'ok', attempt: 1, error: { code: 'APPROVAL_REJECTED', message: 'no' } }),
      ev('run.finished', 3, { status: 'failed' }),
    ]);
    applyBatch(fold, 6, [ev('run.retried', 4, { nodes: ['ok'], by: 'bob' }), ev('node.started', 5, { nodeId: 'ok', attempt: 2 })]);
    expect(fold.nodes.get('ok')).toMatchObject({ decisions: [], approval: undefined, status: 'running' });
  });

  it('keeps each node\'s log lines with their attempt, and what was dropped', () => {
    const fold = emptyFold(R);
    applyBatch(fold, 0, [
      ev('run.started', 0, { flow: { name: 'F', hash: 'h' }, params: {}, trigger: {} }),
      ev('node.log', 1, { nodeId: 'build', attempt: 1, lines: [{ at: 1, source: 'stderr', text: 'a' }] }),
      ev('node.log', 2, { nodeId: 'build', attempt: 2, item: 0, lines: [{ at: 2, source: 'log', level: 'info', text: 'b' }], dropped: 3 }),
    ]);
    expect(fold.nodes.get('build')!.logs).toEqual([
      { at: 1, source: 'stderr', text: 'a', attempt: 1 },
      { at: 2, source: 'log', level: 'info', text: 'b', attempt: 2, item: 0 },
    ]);
    expect(fold.nodes.get('build')!.logsDropped).toBe(3);
  });

  it('reads the node and the item a sub-flow run\'s path names', () => {
    expect(['deploy', 'steps[2]', 'steps[2]~2', 'review:agent-x'].map(nodeOfPath)).toEqual(['deploy', 'steps', 'steps', 'review']);
    expect(['deploy', 'steps[2]', 'steps[12]~2'].map(itemOfPath)).toEqual([undefined, 2, 12]);
  });
});
