/**
 * The engine on Postgres with several peers in one process (each engine with its own store):
 * a run taken over stops where it was and records nothing more; a waiting run is handed back and
 * woken by a decision given through any peer, decided once; a cancellation through a peer that
 * does not hold the run; a timer due wakes a parked run on another peer.
 */
import { describe, expect, it } from 'vitest';
import { replay, type RunEvent } from '@gantry/engine';
import { PostgresPeer } from '@gantry/store-postgres';
import { freshDatabase, Gates, peer, row, useCluster, until } from './support.js';

useCluster();

const completions = (events: readonly RunEvent[]) =>
  events.filter((e) => e.type === 'node.succeeded' || e.type === 'node.failed').map((e) => `${(e as { nodeId: string }).nodeId}${'item' in e && e.item !== undefined ? `[${e.item}]` : ''}`);

function expectOnce(events: readonly RunEvent[]): void {
  const all = completions(events);
  expect(new Set(all).size, `completions ${all.join(', ')}`).toBe(all.length);
}

describe('the engine on Postgres, several peers', () => {
  it('journals a run with parallel branches and a for_each, and replays it', async () => {
    const { url } = await freshDatabase();
    const gates = new Gates();
    const a = await peer('a', url, gates);
    const flow = {
      name: 'pg-engine',
      nodes: [
        { id: 'start', type: 'function', data: { function: 'identity' } },
        { id: 'fan', type: 'gate', data: {}, for_each: [1, 2, 3] },
        { id: 'side', type: 'gate', data: {} },
        { id: 'end', type: 'gate', data: {} },
      ],
      edges: [
        { from: 'start', to: 'fan' },
        { from: 'start', to: 'side' },
        { from: 'fan', to: 'end' },
        { from: 'side', to: 'end' },
      ],
    };
    a.engine.registerFunction('identity', (input) => input);
    const run = await a.engine.start(flow);
    for (const node of ['fan', 'side', 'end']) gates.release(run.id, node);
    const result = await run.finished;
    expect(result.status).toBe('succeeded');
    const journal = await a.store.events(run.id);
    expect(replay(run.id, journal).status).toBe('succeeded');
    expect(completions(journal).sort()).toEqual(['end', 'fan', 'fan[0]', 'fan[1]', 'fan[2]', 'side', 'start']);
    expect((await a.store.getRun(run.id))?.status).toBe('succeeded');
  });

  it('stops a run taken over where it was: the old holder records nothing more, the new one finishes it', async () => {
    const { url, name } = await freshDatabase();
    const gates = new Gates();
    const a = await peer('a', url, gates);
    const b = await peer('b', url, gates);
    const flow = { name: 'takeover', nodes: [{ id: 'slow', type: 'gate', data: {} }, { id: 'after', type: 'gate', data: {} }], edges: [{ from: 'slow', to: 'after' }] };
    const run = await a.engine.start(flow);
    gates.release(run.id, 'after');
    await until(() => gates.started(run.id, 'slow') === 1, 'the first attempt of slow');
    // B takes the run (as a decision through B would), and carries it on from its journal.
    expect(await b.store.claim(run.id, true)).toBe(true);
    expect(await row(run.id, name)).toMatchObject({ owner: 'b', epoch: 2 });
    const [onB] = await b.engine.resume(run.id);
    await until(() => gates.started(run.id, 'slow') === 2, 'the second attempt of slow, on b');
    // A's attempt ends: its node.succeeded is refused, and A stops the run.
    gates.release(run.id, 'slow');
    const onA = await run.finished;
    expect(onA.status).toBe('failed');
    expect(onA.error?.code).toBe('RUN_RELEASED');
    expect((await onB!.finished).status).toBe('succeeded');
    const journal = await b.store.events(run.id);
    expectOnce(journal);
    // The attempt on A had the same idempotency key as the one on B: an agent deduplicates it.
    const keys = gates.calls.filter((c) => c.runId === run.id && c.nodeId === 'slow').map((c) => [c.peer, c.attempt, c.key]);
    expect(keys).toEqual([
      ['a', 1, keys[0]![2]],
      ['b', 2, keys[0]![2]],
    ]);
    const slow = journal.find((e) => e.type === 'node.succeeded' && e.nodeId === 'slow') as Extract<RunEvent, { type: 'node.succeeded' }>;
    expect(slow).toMatchObject({ attempt: 2, output: { slow: 'b' } });
    expect(a.store.stats.fencedWrites).toBeGreaterThanOrEqual(1);
    expect(a.lines.some((l) => l.level === 40 && l.msg.includes(`run ${run.id} stopped in this process: another process holds it now`))).toBe(true);
  });

  it('hands a waiting run back; a decision through another peer wakes it, recorded once; refusals keep their codes', async () => {
    const { url, name } = await freshDatabase();
    const gates = new Gates();
    const a = await peer('a', url, gates, { park: true, parkAfterMs: 0 });
    const b = await peer('b', url, gates, { park: true, parkAfterMs: 0 });
    const flow = {
      name: 'approval',
      nodes: [
        { id: 'approve', type: 'human_approval', data: { approvers: ['lead'], required: 1, timeout: 3600 } },
        { id: 'deploy', type: 'gate', data: {} },
      ],
      edges: [{ from: 'approve', to: 'deploy' }],
    };
    const run = await a.engine.start(flow);
    gates.release(run.id, 'deploy');
    // It comes to wait, is handed back, and A lets go of it.
    await until(() => a.engine.run(run.id) === undefined, 'the run handed back by a');
    expect(await row(run.id, name)).toMatchObject({ owner: null, status: 'waiting' });
    await expect(b.engine.decide(run.id, 'approve', { principal: 'mallory', decision: 'approve', channel: 'api' })).rejects.toMatchObject({ code: 'APPROVAL_FORBIDDEN' });
    // Two decisions at once, through both peers: one is recorded, the other refused with a 409 code.
    const decided = await Promise.allSettled([
      a.engine.decide(run.id, 'approve', { principal: 'alice', decision: 'approve', channel: 'api' }),
      b.engine.decide(run.id, 'approve', { principal: 'alice', decision: 'approve', channel: 'api' }),
    ]);
    expect(decided.filter((d) => d.status === 'fulfilled')).toHaveLength(1);
    const refused = decided.find((d) => d.status === 'rejected') as PromiseRejectedResult;
    expect(['APPROVAL_ALREADY_DECIDED', 'APPROVAL_NOT_WAITING']).toContain(refused.reason.code);
    // Any peer carries it on now.
    const claimer = new PostgresPeer(b.store, b.engine, b.logger, { pollMs: 50 });
    await claimer.start();
    try {
      await until(async () => (await b.store.getRun(run.id))?.status === 'succeeded', 'the run finished on b');
    } finally {
      await claimer.stop();
    }
    const journal = await b.store.events(run.id);
    expect(journal.filter((e) => e.type === 'approval.decided').map((e) => (e as { principal: string }).principal)).toEqual(['alice']);
    expect(journal.filter((e) => e.type === 'node.started' && e.nodeId === 'deploy')).toHaveLength(1);
    expectOnce(journal);
  });

  it('cancels a run through a peer that does not hold it; the holder records nothing more', async () => {
    const { url } = await freshDatabase();
    const gates = new Gates();
    const a = await peer('a', url, gates);
    const b = await peer('b', url, gates);
    const run = await a.engine.start({ name: 'cancel-me', nodes: [{ id: 'slow', type: 'gate', data: {} }] });
    await until(() => gates.started(run.id, 'slow') === 1, 'slow started');
    await b.engine.cancel(run.id);
    expect((await b.store.getRun(run.id))?.status).toBe('cancelled');
    gates.release(run.id, 'slow');
    const result = await run.finished;
    expect(result.error?.code).toBe('RUN_RELEASED');
    const journal = await a.store.events(run.id);
    expect(journal.map((e) => e.type)).toEqual(['run.started', 'node.started', 'node.skipped', 'run.finished']);
  });

  it('wakes a parked run when its timer is due, on another peer', async () => {
    const { url } = await freshDatabase();
    const gates = new Gates();
    const a = await peer('a', url, gates, { park: true, parkAfterMs: 0 });
    const b = await peer('b', url, gates);
    const run = await a.engine.start({ name: 'timer', nodes: [{ id: 'nap', type: 'wait', data: { seconds: 1 } }, { id: 'after', type: 'gate', data: {} }], edges: [{ from: 'nap', to: 'after' }] });
    gates.release(run.id, 'after');
    await until(() => a.engine.run(run.id) === undefined, 'the run handed back');
    const claimer = new PostgresPeer(b.store, b.engine, b.logger, { pollMs: 100 });
    const waited: number[] = [];
    claimer.onClaim((c) => waited.push(c.waitedMs));
    await claimer.start();
    try {
      await until(async () => (await b.store.getRun(run.id))?.status === 'succeeded', 'the run finished on b');
    } finally {
      await claimer.stop();
    }
    expect(gates.calls.filter((c) => c.runId === run.id).map((c) => c.peer)).toEqual(['b']);
    const journal = await b.store.events(run.id);
    expect(journal.filter((e) => e.type === 'timer.fired')).toHaveLength(1);
    expect(waited).toHaveLength(1);
    expectOnce(journal);
  });
});
