/**
 * DESIGN §3.4 Run statuses: running, waiting (approval or timer), succeeded, failed, blocked,
 * rolled_back, cancelled. Each final status from a minimal flow, as the result, the run.finished
 * event and the store's record say it; and `waiting` while only a human or a timer is left.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { declare, eventsOf, expectRunInvariants, finish, FINDING, flow, harness, probe, table, storedRecord, tick, type Row } from './harness.js';

/** The store's record agrees with the run's result. */
function stored(row: Omit<Row, 'check'> & { output?: JsonObject | 'none'; errorCode?: string; errorNode?: string }): Row {
  return {
    ...row,
    check: async ({ run, result, events }, h) => {
      const record = await h.engine.options.store.getRun(run.id);
      expect(record?.status).toBe(row.status);
      expect(record?.finishedAt).toBe(eventsOf(events, 'run.finished')[0]?.at);
      if (row.output === 'none') expect(result.output).toBeUndefined();
      else if (row.output !== undefined) expect(result.output).toEqual(row.output);
      if (row.errorCode === undefined) expect(result.error).toBeUndefined();
      else expect(result.error).toMatchObject({ code: row.errorCode, nodeId: row.errorNode });
    },
  };
}

const rows: Row[] = [
  stored({
    name: 'succeeded: every node did its work; the output is the sinks’ outputs',
    flow: flow([probe('a', { out: { a: 1 } }), probe('b', { out: { b: 2 } })], [{ from: 'a', to: 'b' }]),
    status: 'succeeded',
    output: { b: 2 },
  }),
  stored({
    name: 'failed: a node failed and no handler acted',
    flow: flow([probe('a'), probe('b', { fail: { code: 'CONNECTOR_FAILED' } })], [{ from: 'a', to: 'b' }]),
    status: 'failed',
    output: 'none',
    errorCode: 'CONNECTOR_FAILED',
    errorNode: 'b',
  }),
  stored({
    name: 'blocked: a gate failed with fail_action block_deployment',
    flow: flow([probe('scan', { out: { vulns: 3 } }), { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'vulns', operator: '=', value: 0 }], fail_action: 'block_deployment' } }], [
      { from: 'scan', to: 'gate' },
    ]),
    status: 'blocked',
  }),
  stored({
    name: 'blocked: a failed node’s handler is block_deployment',
    flow: flow([probe('a', { fail: {} })], [], { error_handlers: [{ stage: 'a', action: 'block_deployment' }] }),
    status: 'blocked',
  }),
  stored({
    name: 'rolled_back: a failed node’s handler rolled the run back',
    flow: flow([probe('a', {}, { compensate: { agent: 'ops', task: 'undo' } }), probe('b', { fail: {} })], [{ from: 'a', to: 'b' }], { error_handlers: [{ stage: 'b', action: 'rollback' }] }),
    harness: { agents: { ops: moduleAgent(() => ({})) } },
    status: 'rolled_back',
    output: 'none',
    errorCode: 'AGENT_FAILED',
    errorNode: 'b',
  }),
  stored({
    name: 'failed: a rollback whose compensation failed',
    flow: flow([probe('a', {}, { compensate: { agent: 'ops', task: 'undo' } }), probe('b', { fail: {} })], [{ from: 'a', to: 'b' }], { error_handlers: [{ stage: 'b', action: 'rollback' }] }),
    harness: { agents: { ops: moduleAgent(() => ({ status: 'failed', error: { message: 'cannot undo' } })) } },
    status: 'failed',
    errorCode: 'AGENT_FAILED',
    errorNode: 'b',
  }),
];

describe('DESIGN §3.4 final run statuses', () => {
  table(rows, it);

  it('cancelled: the run was cancelled', async () => {
    const h = harness();
    const run = await h.start(flow([probe('a', { hang: true })]));
    await h.clock.advance(100);
    run.cancel();
    const result = await finish(h.clock, run);
    expect(result.status).toBe('cancelled');
    expect((await storedRecord(h, run.id))?.status).toBe('cancelled');
    await expectRunInvariants(h, run, result);
  });
});

describe('DESIGN §3.4 waiting', () => {
  it('waiting while an approval is pending, then succeeded once it is approved', async () => {
    const h = harness();
    const run = await h.start(flow([probe('build'), { id: 'approve', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 3600 } }, probe('deploy')], [
      { from: 'build', to: 'approve' },
      { from: 'approve', to: 'deploy' },
    ]));
    await tick(h.clock);
    expect(run.status()).toBe('waiting');
    expect((await storedRecord(h, run.id))?.status).toBe('waiting');
    expect(eventsOf(h.events, 'run.waiting').map((e) => e.on.map((o) => [o.nodeId, o.kind]))).toEqual([[['approve', 'approval']]]);
    await h.clock.advance(600_000);
    expect(run.status()).toBe('waiting');
    run.decide('approve', { principal: 'tech-lead', decision: 'approve' });
    const result = await finish(h.clock, run);
    expect(result.status).toBe('succeeded');
    await expectRunInvariants(h, run, result);
  });

  it('waiting while a timer is all that is left, then succeeded when it fires', async () => {
    const h = harness();
    const run = await h.start(flow([probe('a'), { id: 'bake', type: 'wait', data: { seconds: 300 } }, probe('b')], [{ from: 'a', to: 'bake' }, { from: 'bake', to: 'b' }]));
    await tick(h.clock);
    expect(run.status()).toBe('waiting');
    expect(eventsOf(h.events, 'run.waiting').at(-1)?.on).toEqual([{ nodeId: 'bake', kind: 'timer', until: run.state().startedAt + 300_000 }]);
    await h.clock.advance(299_999);
    expect(run.status()).toBe('waiting');
    const result = await finish(h.clock, run);
    expect(result.status).toBe('succeeded');
    expect(eventsOf(h.events, 'run.finished')[0]!.at - run.state().startedAt).toBe(300_000);
    await expectRunInvariants(h, run, result);
  });

  it('running, not waiting, while another node still works beside a pending approval', async () => {
    let release!: () => void;
    const h = harness({ behaviours: { worker: () => new Promise<JsonObject>((resolve) => (release = () => resolve({ done: true }))) } });
    const run = await h.start(flow([probe('worker'), { id: 'approve', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 3600 } }]));
    await tick(h.clock);
    expect(run.state().nodes.get('approve')?.status).toBe('waiting');
    expect(run.status()).toBe('running');
    expect(eventsOf(h.events, 'run.waiting')).toEqual([]);
    release();
    await tick(h.clock);
    expect(run.status()).toBe('waiting');
    run.decide('approve', { principal: 'tech-lead', decision: 'approve' });
    const result = await finish(h.clock, run);
    expect(result.status).toBe('succeeded');
    await expectRunInvariants(h, run, result);
  });

  declare(it, 'the stored status goes back to running when a waiting run resumes work', undefined, async () => {
    let release!: () => void;
    const h = harness({ behaviours: { deploy: () => new Promise<JsonObject>((resolve) => (release = () => resolve({ deployed: true }))) } });
    const run = await h.start(flow([{ id: 'approve', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 3600 } }, probe('deploy')], [{ from: 'approve', to: 'deploy' }]));
    await tick(h.clock);
    expect((await storedRecord(h, run.id))?.status).toBe('waiting');
    run.decide('approve', { principal: 'tech-lead', decision: 'approve' });
    await tick(h.clock);
    expect(run.state().nodes.get('deploy')?.status).toBe('running');
    expect(run.status()).toBe('running');
    try {
      expect((await storedRecord(h, run.id))?.status).toBe('running');
    } finally {
      release();
      await finish(h.clock, run);
    }
  });
});
