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
  /** Runs another process holds (as a shared store would say): their events are refused. */
  readonly fence = new Set<string>();
  /** Runs taken back once their events are written (they wait). */
  readonly park = new Set<string>();

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
        const fenced = new Set<string>();
        for (const { record, events } of batch.created) {
          if (this.fence.has(record.runId)) fenced.add(record.runId);
          else if (this.inner.getRun(record.runId) !== undefined) conflicts.push(record.runId);
          else this.inner.createRun(record, events);
        }
        for (const e of [...batch.events, ...batch.statuses]) if (this.fence.has(e.runId)) fenced.add(e.runId);
        this.inner.append(batch.events.filter((e) => !conflicts.includes(e.runId) && !fenced.has(e.runId)));
        for (const s of batch.statuses) if (!fenced.has(s.runId)) this.inner.setStatus(s.runId, s.status, s.finishedAt);
        const parked = batch.events.filter((e) => e.type === 'run.waiting' && this.park.has(e.runId)).map((e) => e.runId);
        resolve({ conflicts, ...(fenced.size > 0 ? { fenced: [...fenced] } : {}), ...(parked.length > 0 ? { parked } : {}) });
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

/** Counts commits and what each carried; keeps what it commits in a MemoryStore. */
class CountingStore extends MemoryStore {
  override readonly durable = true;
  readonly commits: JournalBatch[] = [];
  commit(batch: JournalBatch): CommitOutcome {
    this.commits.push(batch);
    for (const { record, events } of batch.created) this.createRun(record, events);
    this.append(batch.events);
    for (const s of batch.statuses) this.setStatus(s.runId, s.status, s.finishedAt);
    return {};
  }
}

const record = (runId: string): RunRecord => ({ runId, flowName: 'f', flowHash: 'h', flowText: '{}', startedAt: 1, status: 'running' });
const started = (runId: string): RunEvent => ({ type: 'run.started', runId, at: 1, flow: { name: 'f', hash: 'h' }, params: {}, trigger: {} });
const step = (runId: string, nodeId: string): RunEvent => ({ type: 'node.started', runId, at: 2, nodeId, attempt: 1 });
const tick = () => new Promise((resolve) => setImmediate(resolve));

function host() {
  const heard = { concurrent: false, failed: [] as string[][], conflicted: [] as string[], unheard: [] as unknown[], fenced: [] as string[][], parked: [] as string[][] };
  const h: JournalHost = {
    failed: (runIds) => heard.failed.push([...runIds]),
    conflicted: (runId) => heard.conflicted.push(runId),
    unheard: (error) => heard.unheard.push(error),
    fenced: (runIds) => heard.fenced.push([...runIds]),
    parked: (runIds) => heard.parked.push([...runIds]),
    concurrent: () => heard.concurrent,
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

  it('commits within the tick on an idle store or for a run alone; after a commit, runs created or several live wait for the end of the turn', async () => {
    const store = new CountingStore();
    const { h, heard } = host();
    const writer = new JournalWriter(store, h);
    const microtasks = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    writer.create(record('a'), [started('a')]);
    await microtasks();
    expect(store.commits.length).toBe(1);
    // The store is busy now, but a run alone has nobody to wait for.
    writer.append(step('a', 'n1'));
    await microtasks();
    expect(store.commits.length).toBe(2);
    // A creation (a request) in a busy turn waits for the others the turn may bring.
    writer.create(record('b'), [started('b')]);
    await microtasks();
    expect(store.commits.length).toBe(2);
    writer.create(record('c'), [started('c')]);
    await tick();
    expect(store.commits.map((c) => c.created.map((r) => r.record.runId))).toEqual([['a'], [], ['b', 'c']]);
    // So do the steps of several live runs.
    heard.concurrent = true;
    writer.append(step('b', 'n1'));
    await microtasks();
    expect(store.commits.length).toBe(3);
    writer.append(step('c', 'n1'));
    await tick();
    expect(store.commits.length).toBe(4);
    expect(store.commits[3]!.events.map((e) => e.runId)).toEqual(['b', 'c']);
    // A turn with no commit: the store is idle again.
    await tick();
    writer.append(step('b', 'n2'));
    await microtasks();
    expect(store.commits.length).toBe(5);
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

  it('tells its host of runs a shared store fenced off or took back, and says so in the batch outcome', async () => {
    const store = new SlowStore();
    store.holding = false;
    store.fence.add('lost');
    store.fence.add('lost.child');
    store.park.add('idle');
    const { h, heard } = host();
    store.inner.createRun(record('kept'));
    const writer = new JournalWriter(store, h);
    const child = writer.create({ ...record('lost.child'), parentRunId: 'lost' }, [started('lost.child')]);
    writer.append(step('lost', 'n'));
    writer.append(step('kept', 'n'));
    writer.append({ type: 'run.waiting', runId: 'idle', at: 3, on: [] });
    await expect(child).rejects.toMatchObject({ code: 'RUN_RELEASED' });
    const outcome = await writer.outcome();
    expect(new Set(outcome.fenced)).toEqual(new Set(['lost', 'lost.child']));
    expect(outcome.parked).toEqual(['idle']);
    expect(heard.fenced.map((ids) => new Set(ids))).toEqual([new Set(['lost.child', 'lost'])]);
    expect(heard.parked).toEqual([['idle']]);
    expect(store.inner.events('kept').map((e) => e.type)).toEqual(['node.started']);
    expect(store.inner.events('lost')).toEqual([]);
  });

  it('asked after a flush, durable() rejects when that commit fails (the caller of a cancel or retry is told)', async () => {
    const store = new SlowStore();
    store.failNext = new GantryError('STORE_FAILED', 'sync failed');
    const writer = new JournalWriter(store, host().h);
    writer.append(step('x', 'n'));
    writer.flush();
    const durable = writer.durable();
    store.release();
    await expect(durable).rejects.toThrow('sync failed');
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

describe('the engine on a shared store that fences a run off or takes it back', () => {
  /** A node that waits for its abort: what a long agent call is to the engine. */
  const hang: ExecutorDefinition<never> = {
    type: 'hang',
    run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })),
  };

  it('stops a fenced run where it is, records nothing more of it, and carries the others on', async () => {
    const store = new SlowStore();
    store.holding = false;
    const engine = createEngine({ store, executors: [hang] });
    const flow = { name: 'hangs', nodes: [{ id: 'h', type: 'hang', data: {} }, { id: 'then', type: 'hang', data: {} }], edges: [{ from: 'h', to: 'then' }] };
    const lost = await engine.start(flow, { runId: 'lost' });
    const kept = await engine.start(flow, { runId: 'kept' });
    await tick();
    store.fence.add('lost');
    // Something the run records now is refused: here, a cancellation's events.
    lost.cancel();
    const result = await lost.finished;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'RUN_RELEASED' } });
    expect(engine.run('lost')).toBeUndefined();
    expect(store.inner.events('lost').map((e) => e.type)).toEqual(['run.started', 'node.started']);
    expect(engine.run('kept')?.status()).toBe('running');
    kept.cancel();
    expect((await kept.finished).status).toBe('cancelled');
  });

  it('lets go of a run the store took back once it waits, and drops a live run when asked', async () => {
    const store = new SlowStore();
    store.holding = false;
    store.park.add('w');
    const engine = createEngine({ store, executors: [hang], principals: { alice: { roles: ['lead'] } } });
    const approval: ExecutorDefinition<never> = {
      type: 'ask',
      run: async (ctx) => {
        await ctx.requestApproval({ approvers: ['lead'], required: 1, timeoutSeconds: 3600, onTimeout: 'fail', allowSelfApproval: false });
        return { output: {} };
      },
    };
    engine.registerExecutor(approval);
    const waits = await engine.start({ name: 'waits', nodes: [{ id: 'ask', type: 'ask', data: {} }] }, { runId: 'w' });
    // It comes to wait, and the store takes it back: the engine lets go of it, recording nothing more.
    expect(await waits.finished).toMatchObject({ status: 'failed', error: { code: 'RUN_RELEASED' } });
    expect(engine.run('w')).toBeUndefined();
    expect(store.inner.events('w').map((e) => e.type)).toEqual(['run.started', 'node.started', 'approval.requested', 'timer.set', 'run.waiting']);
    const run = await engine.start({ name: 'a', nodes: [{ id: 'h', type: 'hang', data: {} }] }, { runId: 'x' });
    await tick();
    expect(engine.drop('x', 'a test says so')).toBe(true);
    expect(await run.finished).toMatchObject({ status: 'failed', error: { code: 'RUN_RELEASED', message: 'run x goes on elsewhere: a test says so' } });
    expect(engine.drop('x', 'again')).toBe(false);
    expect(store.inner.events('x').map((e) => e.type)).toEqual(['run.started', 'node.started']);
  });

  it('writes a decision again where the run went when its commit was fenced off (claim, write, give back)', async () => {
    const store = new SlowStore();
    store.holding = false;
    const claims: [string, boolean][] = [];
    const releases: string[] = [];
    Object.assign(store, {
      claim: (runId: string, force: boolean) => {
        claims.push([runId, force]);
        store.fence.delete(runId);
        return true;
      },
      release: (runId: string) => void releases.push(runId),
    });
    const approval: ExecutorDefinition<never> = {
      type: 'ask',
      run: async (ctx) => {
        const outcome = await ctx.requestApproval({ approvers: ['lead'], required: 1, timeoutSeconds: 3600, onTimeout: 'fail', allowSelfApproval: false });
        return { output: { approved: outcome.approved } };
      },
    };
    const engine = createEngine({ store, executors: [approval], principals: { alice: { roles: ['lead'] } } });
    const run = await engine.start({ name: 'asks', nodes: [{ id: 'ask', type: 'ask', data: {} }] }, { runId: 'r' });
    await tick();
    expect(run.status()).toBe('waiting');
    // The run was taken by another process as this decision was written.
    store.fence.add('r');
    await engine.decide('r', 'ask', { principal: 'alice', decision: 'approve', channel: 'api' });
    expect(claims).toEqual([['r', true]]);
    expect(releases).toEqual(['r']);
    expect(engine.run('r')).toBeUndefined();
    expect(store.inner.events('r').filter((e) => e.type === 'approval.decided')).toHaveLength(1);
  });
});

describe('the engine on a store that commits at once, as SQLite does', () => {
  const pass: ExecutorDefinition<never> = { type: 'pass', run: async () => ({ output: {} }) };
  const chain = (length: number) => ({
    name: 'chain',
    nodes: Array.from({ length }, (_, i) => ({ id: `n${i}`, type: 'pass', data: {} })),
    edges: Array.from({ length: length - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  });
  /** An executor of `type` whose every call waits until `open()`. */
  const holding = (type: string) => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const hold: ExecutorDefinition<never> = { type, run: async () => (await opened, { output: {} }) };
    return { open, hold };
  };

  it('runs started from separate callbacks of one turn of the event loop (webhooks read together) share one commit; a run alone does not wait', async () => {
    const store = new CountingStore({ keepFinished: Infinity });
    const { open: release, hold } = holding('pass');
    const engine = createEngine({ store, executors: [hold] });
    const flow = chain(1);
    // Each start in a callback of its own, microtasks drained between them, as each request is.
    const starts = await Promise.all(Array.from({ length: 20 }, (_, i) => new Promise<Awaited<ReturnType<typeof engine.start>>>((resolve, reject) => setImmediate(() => engine.start(flow, { runId: `r${i}` }).then(resolve, reject)))));
    const created = store.commits.map((c) => c.created.map((r) => r.record.runId)).filter((ids) => ids.length > 0);
    // The first, alone when it came, committed within its own callback; the 19 others together.
    expect(created).toEqual([['r0'], Array.from({ length: 19 }, (_, i) => `r${i + 1}`)]);
    release();
    await Promise.all(starts.map((run) => run.finished));
  });

  it('close() commits what waits for the end of the turn: what the engine told is in the store when close returns', async () => {
    const store = new CountingStore({ keepFinished: Infinity });
    const { open: release, hold } = holding('pass');
    const engine = createEngine({ store, executors: [hold] });
    const told: RunEvent[] = [];
    engine.on('event', (e) => told.push(e));
    const runs = await Promise.all(['a', 'b', 'c'].map((runId) => engine.start(chain(2), { runId })));
    await tick();
    release();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    const committed = () => store.commits.reduce((n, c) => n + c.events.length + c.created.reduce((m, r) => m + r.events.length, 0), 0);
    // The runs went on after the release, in a turn whose commit waits for its end.
    expect(committed()).toBeLessThan(told.length);
    engine.close();
    expect(committed()).toBe(told.length);
    await Promise.all(runs.map((run) => run.finished));
  });

  it('a run that has just ended, its end not yet committed, is not ended again: a cancel waits for that commit and is refused', async () => {
    const store = new CountingStore({ keepFinished: Infinity });
    const [a, b] = [holding('holdA'), holding('holdB')];
    const engine = createEngine({ store, executors: [a.hold, b.hold, pass] });
    const flow = (type: string) => ({ name: type, nodes: [{ id: 'n', type, data: {} }], edges: [] });
    const runA = await engine.start(flow('holdA'), { runId: 'A' });
    const runB = await engine.start(flow('holdB'), { runId: 'B' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const seen: { live: boolean; stored?: string; cancel?: string } = { live: true };
    const cancelled = new Promise<void>((resolve) => {
      setTimeout(() => {
        // A commit in this turn (a new run), then B ends: its end waits for the turn's end.
        void engine.start(flow('pass'), { runId: 'C' });
        void Promise.resolve().then(() => b.open());
      }, 0);
      setTimeout(() => {
        // The same turn, before its end: B has left the engine, the store still says running.
        seen.live = engine.run('B') !== undefined;
        seen.stored = store.getRun('B')?.status;
        engine.cancel('B').then(
          () => ((seen.cancel = 'accepted'), resolve()),
          (error: GantryError) => ((seen.cancel = error.code), resolve()),
        );
      }, 0);
    });
    await cancelled;
    expect(seen).toEqual({ live: false, stored: 'running', cancel: 'RUN_FINISHED' });
    expect((await runB.finished).status).toBe('succeeded');
    expect(store.getRun('B')?.status).toBe('succeeded');
    expect(store.events('B').filter((e) => e.type === 'run.finished')).toHaveLength(1);
    a.open();
    await runA.finished;
  });

  it('100 runs in flight share their commits, their ends too: one commit per step of them all, not one per run', async () => {
    const store = new CountingStore({ keepFinished: Infinity });
    const engine = createEngine({ store, executors: [pass] });
    const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => (await engine.start(chain(10), { runId: `r${i}` })).finished));
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    // The creations, then a step of every run per commit, the last with every run's end.
    expect(store.commits.length).toBeLessThanOrEqual(12);
    const ends = store.commits.map((c) => c.events.filter((e) => e.type === 'run.finished').length);
    expect(ends.reduce((a, b) => a + b)).toBe(100);
    expect(Math.max(...ends)).toBe(100);
  });
});
