/**
 * The store contract's narrow reads, the same on every store (in memory, SQLite, Postgres on a
 * throw-away cluster): `eventsAfter` gives exactly the events after a seq, in order, for a
 * follower that reads only what is new; `getRuns` gives the records of several run ids in one
 * read, in the order asked. Each store is asked by its own method, not through the fallbacks of
 * readEventsAfter and readRuns, which are checked apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore, readEventsAfter, readRuns, type RunEvent, type RunStore } from '@gantry/engine';
import { openSqliteStore } from '@gantry/store-sqlite';
import { freshDatabase, nodeStarted, open, record, started, succeeded, useCluster, finished } from '../packages/store-postgres/src/test-kit.js';

useCluster();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const STORES: [string, () => Promise<RunStore>][] = [
  ['memory', async () => new MemoryStore()],
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-store-reads-'));
      dirs.push(dir);
      return openSqliteStore(join(dir, 'runs.db'));
    },
  ],
  ['postgres', async () => open((await freshDatabase()).url)],
];

/** A journal of six events, appended in three commits; another run beside it. */
async function journal(store: RunStore): Promise<readonly RunEvent[]> {
  await store.createRun(record('r1'), [started('r1')]);
  await store.createRun(record('other', { startedAt: 900 }), [started('other')]);
  await store.append([nodeStarted('r1', 'a'), nodeStarted('other', 'x'), succeeded('r1', 'a')]);
  await store.append([nodeStarted('r1', 'b', 1004)]);
  await store.append([succeeded('r1', 'b', 1005), finished('r1', 'succeeded', 1006)]);
  return store.events('r1');
}

const label = (e: RunEvent) => `${e.type}${'nodeId' in e ? ` ${e.nodeId}` : ''}`;

describe.each(STORES)('%s store', (_kind, make) => {
  it('eventsAfter(n) is the journal from its n+1st event on, in order: n = 0, the middle, the last, beyond, an unknown run', async () => {
    const store = await make();
    const all = await journal(store);
    expect(all.map(label)).toEqual(['run.started', 'node.started a', 'node.succeeded a', 'node.started b', 'node.succeeded b', 'run.finished']);
    expect(store.eventsAfter).toBeTypeOf('function');
    const after = async (n: number) => (await store.eventsAfter!('r1', n)).map(label);
    expect(await after(0)).toEqual(all.map(label));
    expect(await after(2)).toEqual(['node.succeeded a', 'node.started b', 'node.succeeded b', 'run.finished']);
    expect(await after(5)).toEqual(['run.finished']);
    expect(await after(6)).toEqual([]);
    expect(await after(60)).toEqual([]);
    expect(await store.eventsAfter!('nope', 0)).toEqual([]);
    // The events themselves, not only their kinds: what a follower prints.
    expect(await store.eventsAfter!('r1', 3)).toEqual(all.slice(3));
    // Appended later, read from where the reader was.
    await store.append([{ type: 'node.log', runId: 'other', at: 1010, nodeId: 'x', attempt: 1, lines: [{ at: 1010, source: 'stderr', text: 'late' }], bytes: 4 } as RunEvent]);
    expect((await store.eventsAfter!('other', 2)).map(label)).toEqual(['node.log x']);
    await store.close?.();
  });

  it('eventsAfter refuses a seq that is not a count of events', async () => {
    const store = await make();
    await journal(store);
    for (const bad of [-1, 1.5, Number.NaN]) {
      await expect(Promise.resolve().then(() => store.eventsAfter!('r1', bad))).rejects.toThrow(/expected afterSeq to be an integer ≥ 0/);
    }
    await store.close?.();
  });

  it('getRuns gives the records of the ids that exist, in the order asked', async () => {
    const store = await make();
    await journal(store);
    expect(store.getRuns).toBeTypeOf('function');
    const ids = async (asked: string[]) => (await store.getRuns!(asked)).map((r) => r.runId);
    expect(await ids(['other', 'nope', 'r1'])).toEqual(['other', 'r1']);
    expect(await ids(['r1', 'other'])).toEqual(['r1', 'other']);
    expect(await ids(['nope'])).toEqual([]);
    expect(await ids([])).toEqual([]);
    expect(await store.getRuns!(['r1'])).toEqual([await store.getRun('r1')]);
    await store.close?.();
  });
});

describe('readEventsAfter and readRuns on a store without the narrow reads', () => {
  it('slice the whole journal, and ask getRun for each id', async () => {
    const inner = new MemoryStore();
    await journal(inner);
    const calls: string[] = [];
    const plain: RunStore = {
      createRun: () => {},
      append: () => {},
      setStatus: () => {},
      getRun: (id) => (calls.push(`getRun ${id}`), inner.getRun(id)),
      events: (id) => (calls.push(`events ${id}`), inner.events(id)),
      listRuns: () => [],
    };
    expect((await readEventsAfter(plain, 'r1', 4)).map(label)).toEqual(['node.succeeded b', 'run.finished']);
    expect((await readRuns(plain, ['r1', 'nope', 'other'])).map((r) => r.runId)).toEqual(['r1', 'other']);
    expect(calls).toEqual(['events r1', 'getRun r1', 'getRun nope', 'getRun other']);
    await expect(readEventsAfter(plain, 'r1', -2)).rejects.toMatchObject({ code: 'USAGE' });
  });
});
