import { describe, expect, it } from 'vitest';
import { GantryError, type RunEvent } from '@gantry/engine';
import { COMMIT_SQL, prepareBatch } from './batch.js';
import { finished, freshDatabase, nodeStarted, open, record, row, sql, started, succeeded, useCluster, waiting } from './test-kit.js';

useCluster();

describe('PostgresStore: the journal contract', () => {
  it('creates a run with its first events, appends in order, and reads them back', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    await store.append([nodeStarted('r1', 'a'), succeeded('r1', 'a'), nodeStarted('r1', 'b')]);
    await store.append([succeeded('r1', 'b'), finished('r1')]);
    expect((await store.events('r1')).map((e) => `${e.type}${'nodeId' in e ? ` ${e.nodeId}` : ''}`)).toEqual([
      'run.started',
      'node.started a',
      'node.succeeded a',
      'node.started b',
      'node.succeeded b',
      'run.finished',
    ]);
    const got = await store.getRun('r1');
    expect(got).toMatchObject({ runId: 'r1', flowName: 'f', status: 'succeeded', finishedAt: 1003, startedAt: 1000 });
    expect(await store.getRun('nope')).toBeUndefined();
    expect(await store.events('nope')).toEqual([]);
  });

  it('refuses a run id that exists (STORE_CONFLICT), in a batch as a conflict of that run alone', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    await expect(store.createRun(record('r1'), [started('r1')])).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    const outcome = await store.commit({
      created: [
        { record: record('r1'), events: [started('r1', 5)] },
        { record: record('r2'), events: [started('r2')] },
      ],
      events: [nodeStarted('r1', 'x'), nodeStarted('r2', 'a')],
      statuses: [{ runId: 'r1', status: 'failed', finishedAt: 9 }],
    });
    expect(outcome.conflicts).toEqual(['r1']);
    expect((await store.events('r1')).map((e) => e.type)).toEqual(['run.started']);
    expect((await store.getRun('r1'))?.status).toBe('running');
    expect((await store.events('r2')).map((e) => e.type)).toEqual(['run.started', 'node.started']);
  });

  it('lets a node complete once: a second completion fails the whole commit, nothing of it written', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    await store.append([nodeStarted('r1', 'a'), succeeded('r1', 'a'), succeeded('r1', 'fe', 1002, 0)]);
    const error = await store.append([nodeStarted('r1', 'b'), succeeded('r1', 'a')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GantryError);
    expect(error).toMatchObject({ code: 'STORE_CONFLICT' });
    expect((error as Error).message).toContain('(run_id, node_path)=(r1, a)');
    // The item fe[0] and the node fe are different paths.
    await store.append([succeeded('r1', 'fe')]);
    expect((await store.events('r1')).map((e) => e.type)).toEqual(['run.started', 'node.started', 'node.succeeded', 'node.succeeded', 'node.succeeded']);
  });

  it('reopens a retried run and lets the nodes that run again complete again', async () => {
    const { url, name } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    await store.append([succeeded('r1', 'a'), { type: 'node.failed', runId: 'r1', at: 1002, nodeId: 'b', attempt: 1, error: { code: 'AGENT_FAILED', message: 'x', retryable: false } }, finished('r1', 'failed')]);
    expect(await row('r1', name)).toMatchObject({ status: 'failed', finished_at: 1003, lease_until: null });
    const retried: RunEvent = { type: 'run.retried', runId: 'r1', at: 2000, nodes: ['b'] };
    await store.commit({ created: [], events: [retried, nodeStarted('r1', 'b', 2001), succeeded('r1', 'b', 2002)], statuses: [{ runId: 'r1', status: 'running' }] });
    const reopened = await row('r1', name);
    expect(reopened).toMatchObject({ status: 'running', finished_at: null });
    // Held again from the retry on: a lease that runs.
    expect(reopened.lease_until).not.toBeNull();
    await expect(store.append([succeeded('r1', 'a')])).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
  });

  it('keeps a run waiting in the listing, and a status set alone', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    await store.append([waiting('r1', Date.now() + 3_600_000)]);
    expect((await store.getRun('r1'))?.status).toBe('waiting');
    await store.setStatus('r1', 'running');
    expect((await store.getRun('r1'))?.status).toBe('running');
    await store.setStatus('nope', 'failed', 5);
  });

  it('lists runs newest first, by status (one or several), parent and limit', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('a', { startedAt: 1 }), [started('a')]);
    await store.createRun(record('b', { startedAt: 2 }), [started('b')]);
    await store.createRun(record('b.sub', { startedAt: 3, parentRunId: 'b' }), [started('b.sub')]);
    await store.createRun(record('c', { startedAt: 2 }), [started('c')]);
    await store.append([finished('a', 'failed')]);
    const ids = async (filter?: Parameters<typeof store.listRuns>[0]) => (await store.listRuns(filter)).map((r) => r.runId);
    // Same start time: the one created later first.
    expect(await ids()).toEqual(['b.sub', 'c', 'b', 'a']);
    expect(await ids({ status: 'failed' })).toEqual(['a']);
    expect(await ids({ status: ['failed', 'running'], parentRunId: null })).toEqual(['c', 'b', 'a']);
    expect(await ids({ parentRunId: 'b' })).toEqual(['b.sub']);
    expect(await ids({ limit: 2 })).toEqual(['b.sub', 'c']);
    expect(await ids({ status: [] })).toEqual([]);
    await expect(store.listRuns({ limit: -1 })).rejects.toMatchObject({ code: 'USAGE' });
    expect((await store.listRuns({ parentRunId: 'b' }))[0]).toMatchObject({ parentRunId: 'b', flowText: '{"name":"f","nodes":[]}' });
  });

  it('keeps crash-loop counts', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    expect(await store.resumptions('r1')).toBeUndefined();
    await store.setResumptions('r1', { count: 2, progress: 7 });
    expect(await store.resumptions('r1')).toEqual({ count: 2, progress: 7 });
    await store.setResumptions('r1', undefined);
    expect(await store.resumptions('r1')).toBeUndefined();
    await expect(store.setResumptions('nope', { count: 1, progress: 0 })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('refuses events of a run never created (RUN_NOT_FOUND)', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    // A sub-flow run of a run this process holds, never created.
    await expect(store.append([nodeStarted('r1.ghost', 'a')])).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('writes a commit sent twice (a lost acknowledgement) once, and answers the same', async () => {
    const { url, name } = await freshDatabase();
    const store = await open(url, { peerId: 'peer-a' });
    await store.createRun(record('r1'), [started('r1')]);
    const prepared = prepareBatch({ created: [{ record: record('r2'), events: [started('r2')] }], events: [nodeStarted('r1', 'a')], statuses: [] }, { epochOf: () => 1, parks: () => false });
    const args = ['peer-a', 1000, 5000, ...prepared.args];
    const first = await sql<{ outcome: string | null }>(COMMIT_SQL, args, name);
    const again = await sql<{ outcome: string | null }>(COMMIT_SQL, args, name);
    expect(first[0]!.outcome).toBeNull();
    expect(again[0]!.outcome).toBeNull();
    expect((await store.events('r1')).map((e) => e.type)).toEqual(['run.started', 'node.started']);
    expect((await store.events('r2')).map((e) => e.type)).toEqual(['run.started']);
    // A conflict is answered again too.
    const conflicting = ['peer-a', 1001, 5000, ...prepareBatch({ created: [{ record: record('r2'), events: [] }], events: [], statuses: [] }, { epochOf: () => 1, parks: () => false }).args];
    expect(JSON.parse((await sql<{ outcome: string }>(COMMIT_SQL, conflicting, name))[0]!.outcome)).toEqual({ conflicts: ['r2'], fenced: [] });
    expect(JSON.parse((await sql<{ outcome: string }>(COMMIT_SQL, conflicting, name))[0]!.outcome)).toEqual({ conflicts: ['r2'], fenced: [] });
  });

  it('writes every one of many commits sent at once (a repeat is told from them by its number alone)', async () => {
    const { url } = await freshDatabase();
    const store = await open(url);
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    for (const id of ids) await store.createRun(record(id), [started(id)]);
    await Promise.all(ids.map((id) => store.append([nodeStarted(id, 'a'), succeeded(id, 'a')])));
    for (const id of ids) expect((await store.events(id)).map((e) => e.type), id).toEqual(['run.started', 'node.started', 'node.succeeded']);
  });

  it('refuses writes in read mode, and reads a database Gantry never wrote as an empty store without creating anything', async () => {
    const { url, name } = await freshDatabase();
    const reader = await open(url, { mode: 'read' });
    expect(await reader.listRuns()).toEqual([]);
    expect(await reader.getRun('x')).toBeUndefined();
    expect(await sql("SELECT nspname FROM pg_namespace WHERE nspname = 'gantry'", [], name)).toEqual([]);
    await expect(reader.append([started('x')])).rejects.toMatchObject({ code: 'USAGE' });
    expect((await reader.health()).writable).toBe(false);
    const writer = await open(url);
    await writer.createRun(record('r1'), [started('r1')]);
    const second = await open(url, { mode: 'read' });
    expect((await second.listRuns()).map((r) => r.runId)).toEqual(['r1']);
    expect(await writer.health()).toMatchObject({ kind: 'postgres', writable: true });
  });
});
