import { describe, expect, it } from 'vitest';
import { finished, freshDatabase, nodeStarted, open, record, row, sql, started, succeeded, useCluster, waiting } from './test-kit.js';

useCluster();

const HOUR = 3_600_000;

describe('PostgresStore: ownership by lease, fenced by epoch (DESIGN §9)', () => {
  it('creates a top-level run held by its creator at epoch 1, its sub-flow runs under it', async () => {
    const { url, name } = await freshDatabase();
    const a = await open(url, { peerId: 'a' });
    await a.createRun(record('r1'), [started('r1')]);
    await a.createRun(record('r1.sub', { parentRunId: 'r1' }), [started('r1.sub')]);
    expect(await row('r1', name)).toMatchObject({ owner: 'a', epoch: 1 });
    expect((await row('r1', name)).lease_until!.getTime()).toBeGreaterThan(Date.now());
    expect(await row('r1.sub', name)).toMatchObject({ owner: null, lease_until: null });
    expect(a.heldRuns()).toEqual(['r1']);
  });

  it('refuses a claim of a run another live process holds (RUN_HELD) unless forced; then the old holder writes nothing more, per run', async () => {
    const { url } = await freshDatabase();
    const a = await open(url, { peerId: 'a', kind: 'serve' });
    const b = await open(url, { peerId: 'b' });
    await a.createRun(record('r1'), [started('r1')]);
    await a.createRun(record('r2'), [started('r2')]);
    const held = await b.claim('r1', false).catch((e: unknown) => e);
    expect(held).toMatchObject({ code: 'RUN_HELD' });
    expect((held as Error).message).toMatch(/carried on by serve process \d+ on .*, whose lease runs \d+\.\d s more/);
    expect(await b.claim('r1.child', true)).toBe(true);
    expect(b.stats.takeovers).toBe(1);
    // A's batch writes to r1 (now B's), a sub-flow run of r1, and r2 (still A's): only r2's events are written.
    const outcome = await a.commit({
      created: [{ record: record('r1.x', { parentRunId: 'r1' }), events: [started('r1.x')] }],
      events: [nodeStarted('r1', 'a'), nodeStarted('r2', 'a')],
      statuses: [{ runId: 'r1', status: 'failed', finishedAt: 5 }],
    });
    expect(new Set(outcome.fenced)).toEqual(new Set(['r1', 'r1.x']));
    expect(outcome.conflicts).toBeUndefined();
    expect(a.stats.fencedWrites).toBe(2);
    expect((await a.events('r1')).map((e) => e.type)).toEqual(['run.started']);
    expect(await a.getRun('r1.x')).toBeUndefined();
    expect((await a.getRun('r1'))?.status).toBe('running');
    expect((await a.events('r2')).map((e) => e.type)).toEqual(['run.started', 'node.started']);
    expect(a.heldRuns()).toEqual(['r2']);
    // B writes.
    await b.append([nodeStarted('r1', 'a'), succeeded('r1', 'a')]);
    expect((await b.events('r1')).map((e) => e.type)).toEqual(['run.started', 'node.started', 'node.succeeded']);
    // Claimed again by A, B is fenced in turn.
    expect(await a.claim('r1', true)).toBe(true);
    await expect(b.append([finished('r1')])).rejects.toMatchObject({ code: 'RUN_RELEASED' });
  });

  it('lets a live peer take over a run whose lease ran out (SKIP LOCKED), and the old holder finds it lost at its next heartbeat', async () => {
    const { url, name } = await freshDatabase();
    const a = await open(url, { peerId: 'a', leaseMs: 60_000, heartbeatMs: 50_000 });
    const b = await open(url, { peerId: 'b' });
    await a.createRun(record('r1'), [started('r1')]);
    await a.createRun(record('r2'), [started('r2')]);
    // Nothing is ready while the leases run.
    expect(await b.claimReady(10)).toEqual([]);
    await sql("UPDATE gantry.runs SET lease_until = now() - interval '2 seconds' WHERE run_id = 'r1'", [], name);
    const claimed = await b.claimReady(10);
    expect(claimed.map((c) => [c.runId, c.epoch, c.previous])).toEqual([['r1', 2, 'a']]);
    expect(claimed[0]!.waitedMs).toBeGreaterThanOrEqual(1500);
    expect(await b.claimReady(10)).toEqual([]);
    const dropped: string[] = [];
    a.attach({ drop: (runId) => (dropped.push(runId), true) });
    await a.renew();
    expect(dropped).toEqual(['r1']);
    expect(a.stats.lostLeases).toBe(1);
    expect(a.heldRuns()).toEqual(['r2']);
    expect(await row('r1', name)).toMatchObject({ owner: 'b', epoch: 2 });
  });

  it('claims each ready run once among peers claiming at the same time', async () => {
    const { url, name } = await freshDatabase();
    const a = await open(url, { peerId: 'a' });
    for (let i = 0; i < 40; i++) await a.createRun(record(`r${i}`), [started(`r${i}`)]);
    await sql("UPDATE gantry.runs SET owner = NULL, lease_until = now() - interval '1 second'", [], name);
    const peers = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((id) => open(url, { peerId: id })));
    const claims = await Promise.all(peers.flatMap((p) => [p.claimReady(7), p.claimReady(7), p.claimReady(7)]));
    const ids = claims.flat().map((c) => c.runId);
    for (;;) {
      const more = await peers[0]!.claimReady(50);
      if (more.length === 0) break;
      ids.push(...more.map((c) => c.runId));
    }
    expect(ids.length).toBe(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('hands a waiting run back in the commit that records it, holding no lease until its timer is due', async () => {
    const { url, name } = await freshDatabase();
    const now = Date.now();
    const a = await open(url, { peerId: 'a', park: true, parkAfterMs: 10_000, clock: () => now });
    const b = await open(url, { peerId: 'b' });
    await a.createRun(record('r1'), [started('r1')]);
    await a.createRun(record('r2'), [started('r2')]);
    const outcome = await a.commit({ created: [], events: [waiting('r1', now + HOUR), waiting('r2', now + 5_000)], statuses: [] });
    expect(outcome.parked).toEqual(['r1']);
    expect(a.heldRuns()).toEqual(['r2']);
    const parked = await row('r1', name);
    expect(parked).toMatchObject({ owner: null, status: 'waiting', epoch: 1 });
    expect(Math.abs(parked.lease_until!.getTime() - (now + HOUR))).toBeLessThan(1000);
    expect(await row('r2', name)).toMatchObject({ owner: 'a' });
    // Anything A writes to the run now is refused: it is no longer A's.
    expect((await a.commit({ created: [], events: [nodeStarted('r1', 'late')], statuses: [] })).fenced).toEqual(['r1']);
    expect(await b.claimReady(10)).toEqual([]);
    // Decided through B: claimed (it holds no lease), written, given back for any peer.
    expect(await b.claim('r1', true)).toBe(true);
    await b.append([{ type: 'approval.decided', runId: 'r1', at: now, nodeId: 'approve', attempt: 1, principal: 'alice', decision: 'approve', channel: 'api' }]);
    await b.release('r1');
    expect(await row('r1', name)).toMatchObject({ owner: null, epoch: 2 });
    const ready = await a.claimReady(10);
    expect(ready.map((c) => [c.runId, c.epoch, c.previous])).toEqual([['r1', 3, undefined]]);
  });

  it('wakes the peers when a run is given back (NOTIFY), and gives back everything at close', async () => {
    const { url, name } = await freshDatabase();
    const a = await open(url, { peerId: 'a' });
    const b = await open(url, { peerId: 'b' });
    let woken = 0;
    const stop = b.listen(() => woken++);
    try {
      await until(() => woken >= 1, 'the first wake-up, once listening');
      await a.createRun(record('r1'), [started('r1')]);
      await a.release('r1');
      await until(() => woken >= 2, 'a wake-up from the release');
      await a.claim('r1', false);
      await a.createRun(record('r2'), [started('r2')]);
      await a.append([finished('r2')]);
      await a.close();
      await until(() => woken >= 3, 'a wake-up from the close');
      expect(await row('r1', name)).toMatchObject({ owner: null });
      expect(await row('r2', name)).toMatchObject({ lease_until: null });
      expect((await b.claimReady(10)).map((c) => c.runId)).toEqual(['r1']);
      expect((await b.peers()).map((p) => [p.id, p.runs])).toEqual([['b', ['r1']]]);
    } finally {
      await stop();
    }
  });

  it('keeps an ended run writable by its holder for an event after run.finished', async () => {
    const { url } = await freshDatabase();
    const a = await open(url, { peerId: 'a' });
    await a.createRun(record('r1'), [started('r1')]);
    await a.append([finished('r1')]);
    expect(a.heldRuns()).toEqual([]);
    expect((await a.commit({ created: [], events: [{ type: 'notification.sent', runId: 'r1', at: 2000, severity: 'normal', message: 'late' }], statuses: [] })).fenced).toBeUndefined();
  });
});

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
