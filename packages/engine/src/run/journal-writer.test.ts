import { describe, expect, it } from 'vitest';
import { createEngine } from './engine.js';
import { GantryError } from '../errors.js';
import type { ExecutorDefinition } from './interfaces.js';
import type { RunEvent } from './events.js';
import { JournalWriter, type JournalHost } from './journal-writer.js';
import { MemoryStore, type CommitOutcome, type JournalBatch, type RunRecord, type RunStore } from './store.js';

/**
 * A store that lasts and answers later, as Postgres does: each commit is held until `release()`,
 * so a test sees what goes into which commit. It keeps what it commits in a MemoryStore.
 */
class SlowStore implements RunStore {
  readonly durable = true;
  readonly inner = new MemoryStore({ keepFinished: Infinity });
  readonly commits: JournalBatch[] = [];
  private waiting: (() => void)[] = [];
  holding = true;
  failNext: Error | undefined;

  commit(batch: JournalBatch): Promise<CommitOutcome> {
    this.commits.push(batch);
    return new Promise((resolve, reject) => {
      const done = () => {
        if (this.failNext !== undefined) {
          const error = this.failNext;
          this.failNext = undefined;
          return reject(error);
        }
        const conflicts: string[] = [];
        for (const { record, events } of batch.created) {
          if (this.inner.getRun(record.runId) !== undefined) conflicts.push(record.runId);
          else this.inner.createRun(record, events);
        }
        this.inner.append(batch.events.filter((e) => !conflicts.includes(e.runId)));
        for (const s of batch.statuses) this.inner.setStatus(s.runId, s.status, s.finishedAt);
        resolve({ conflicts });
      };
      if (this.holding) this.waiting.push(done);
      else setImmediate(done);
    });
  }

  /** Lets the commits held so far finish. */
  release(): void {
    const held = this.waiting;
    this.waiting = [];
    for (const done of held) done();
  }

  createRun(record: RunRecord, events?: readonly RunEvent[]) {
    return this.inner.createRun(record, events);
  }
  append(events: readonly RunEvent[]) {
    return this.inner.append(events);
  }
  setStatus(runId: string, status: RunRecord['status'], finishedAt?: number) {
    return this.inner.setStatus(runId, status, finishedAt);
  }
  async getRun(runId: string) {
    return this.inner.getRun(runId);
  }
  async events(runId: string) {
    return this.inner.events(runId);
  }
  async listRuns(filter?: Parameters<RunStore['listRuns']>[0]) {
    return this.inner.listRuns(filter);
  }
}

const record = (runId: string): RunRecord => ({ runId, flowName: 'f', flowHash: 'h', flowText: '{}', startedAt: 1, status: 'running' });
const started = (runId: string): RunEvent => ({ type: 'run.started', runId, at: 1, flow: { name: 'f', hash: 'h' }, params: {}, trigger: {} });
const step = (runId: string, nodeId: string): RunEvent => ({ type: 'node.started', runId, at: 2, nodeId, attempt: 1 });
const tick = () => new Promise((resolve) => setImmediate(resolve));

function host() {
  const heard = { failed: [] as string[][], conflicted: [] as string[], unheard: [] as unknown[] };
  const h: JournalHost = {
    failed: (runIds) => heard.failed.push([...runIds]),
    conflicted: (runId) => heard.conflicted.push(runId),
    unheard: (error) => heard.unheard.push(error),
  };
  return { h, heard };
}

describe('JournalWriter', () => {
  it('what arrives while a commit is under way goes into the next commit together (group commit)', async () => {
    const store = new SlowStore();
    const writer = new JournalWriter(store, host().h);
    const first = writer.create(record('a'), [started('a')]);
    await tick();
    expect(store.commits.length).toBe(1);
    // Three requests and two runs' steps arrive while the first commit is held.
    const more = [writer.create(record('b'), [started('b')]), writer.create(record('c'), [started('c')])];
    writer.append(step('a', 'n1'));
    writer.append(step('a', 'n2'));
    const second = writer.durable();
    await tick();
    expect(store.commits.length).toBe(1);
    store.release();
    await first;
    await tick();
    expect(store.commits.length).toBe(2);
    expect(store.commits[1]!.created.map((c) => c.record.runId)).toEqual(['b', 'c']);
    expect(store.commits[1]!.events.map((e) => (e as { nodeId: string }).nodeId)).toEqual(['n1', 'n2']);
    let durable = false;
    void second.then(() => (durable = true));
    await tick();
    expect(durable).toBe(false);
    store.release();
    await Promise.all([...more, second]);
    expect(store.inner.events('a').map((e) => e.type)).toEqual(['run.started', 'node.started', 'node.started']);
  });

  it('a run id that exists is refused alone: its creation rejects STORE_CONFLICT, the batch is written', async () => {
    const store = new SlowStore();
    store.holding = false;
    store.inner.createRun(record('taken'), [started('taken')]);
    const { h, heard } = host();
    const writer = new JournalWriter(store, h);
    const taken = writer.create(record('taken'), [started('taken')]);
    const fresh = writer.create(record('fresh'), [started('fresh')]);
    writer.append(step('taken', 'sneaky'));
    writer.append(step('fresh', 'n'));
    await expect(taken).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await fresh;
    expect(heard.conflicted).toEqual(['taken']);
    expect(store.inner.events('taken').map((e) => e.type)).toEqual(['run.started']);
    expect(store.inner.events('fresh').map((e) => e.type)).toEqual(['run.started', 'node.started']);
  });

  it('a commit that fails stops the runs it carried and rejects whoever waits for it', async () => {
    const store = new SlowStore();
    store.holding = false;
    store.failNext = new GantryError('STORE_FAILED', 'disk full');
    const { h, heard } = host();
    const writer = new JournalWriter(store, h);
    writer.append(step('x', 'n'));
    writer.append(step('y', 'n'));
    await expect(writer.durable()).rejects.toThrow('disk full');
    expect(heard.failed).toEqual([['x', 'y']]);
  });

  it('with a store that answers at once, a flush commits now and throws its failure to the caller', () => {
    const store = new MemoryStore();
    const failing: RunStore = Object.assign(Object.create(store) as RunStore, {
      durable: true,
      append: () => {
        throw new GantryError('STORE_FAILED', 'read-only');
      },
    });
    const { h, heard } = host();
    const writer = new JournalWriter(failing, h);
    writer.append(step('z', 'n'));
    expect(() => writer.flush()).toThrow('read-only');
    expect(heard.failed).toEqual([['z']]);
  });
});

describe('the engine on a store that answers later', () => {
  it('runs a flow to the end; each executor starts only once its node.started is committed; the end resolves once durable', async () => {
    const store = new SlowStore();
    store.holding = false;
    const seenCommitted: boolean[] = [];
    const probe: ExecutorDefinition<never> = {
      type: 'probe',
      async run(ctx) {
        const journal = store.inner.events(ctx.runId);
        seenCommitted.push(journal.some((e) => e.type === 'node.started' && e.nodeId === ctx.nodeId));
        return { output: { [ctx.nodeId]: true } };
      },
    };
    const engine = createEngine({ store, executors: [probe] });
    const flow = {
      name: 'chain',
      nodes: ['a', 'b', 'c'].map((id) => ({ id, type: 'probe', data: {} })),
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    };
    const run = await engine.start(flow, { runId: 'r' });
    // start resolved once the run's creation was committed.
    expect(store.inner.getRun('r')).toBeDefined();
    const result = await run.finished;
    expect(result.status).toBe('succeeded');
    expect(seenCommitted).toEqual([true, true, true]);
    // finished resolved once run.finished was durable.
    expect(store.inner.events('r').at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
    expect(store.inner.getRun('r')?.status).toBe('succeeded');
    // A second start under the same id, from "another process", is refused.
    const other = createEngine({ store, executors: [probe] });
    await expect(other.start(flow, { runId: 'r' })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(store.inner.events('r').filter((e) => e.type === 'run.started').length).toBe(1);
  });
});
