/**
 * The crash-loop guard, with process deaths simulated over one shared journal: each "process" is
 * an engine on its own clock whose writes stop reaching the journal the moment it "dies" (as a
 * SIGKILL would stop them), and which never gets to take back what it counted. The real-process
 * proof (gantry serve killed by a function, restarted) is test/crash-loop.e2e.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { createEngine, type Engine } from './engine.js';
import type { RunEvent } from './events.js';
import type { ExecutorDefinition } from './interfaces.js';
import { MemoryStore, type ResumptionCount, type RunStore } from './store.js';

/** A process's view of the shared journal: nothing it writes after its death gets there. */
class ProcessStore implements RunStore {
  dead = false;
  constructor(private readonly journal: MemoryStore) {}
  createRun(...args: Parameters<RunStore['createRun']>) {
    if (!this.dead) this.journal.createRun(...args);
  }
  append(events: readonly RunEvent[]) {
    if (!this.dead) this.journal.append(events);
  }
  setStatus(...args: Parameters<RunStore['setStatus']>) {
    if (!this.dead) this.journal.setStatus(...args);
  }
  getRun(runId: string) {
    return this.journal.getRun(runId);
  }
  events(runId: string) {
    return this.journal.events(runId);
  }
  listRuns(...args: Parameters<RunStore['listRuns']>) {
    return this.journal.listRuns(...args);
  }
  resumptions(runId: string) {
    return this.journal.resumptions(runId);
  }
  setResumptions(runId: string, count: ResumptionCount | undefined) {
    if (!this.dead) this.journal.setResumptions(runId, count);
  }
}

const SURVIVAL_MS = 1_000;

/**
 * A world of processes taking turns on one journal. A `step` node does what its data says:
 * `ok` returns; `hang` never returns (a long task); `crash` kills its process; `once` returns the
 * first time a process calls it and hangs after (one node of progress per process).
 */
function world(flowsFolder?: string) {
  const journal = new MemoryStore();
  let time = Date.UTC(2026, 0, 1);
  let current: { store: ProcessStore; clock: FakeClock; engine: Engine; calls: string[]; once: number } | undefined;
  const step: ExecutorDefinition<{ mode: string }> = {
    type: 'step',
    async run(ctx, data) {
      const proc = current!;
      proc.calls.push(ctx.nodeId);
      if (data.mode === 'crash') proc.store.dead = true;
      if (data.mode === 'approve') {
        await ctx.requestApproval({ approvers: ['lead'], required: 1, timeoutSeconds: 3600, onTimeout: 'fail', allowSelfApproval: false });
        return { output: {} };
      }
      if (data.mode.startsWith('subflow:')) {
        const outcome = await ctx.runSubflow(data.mode.slice('subflow:'.length), { params: {}, trigger: {} });
        return { output: outcome.output };
      }
      if (data.mode === 'wait') {
        await ctx.sleepUntil(Date.UTC(2026, 0, 1) + 60_000);
        return { output: {} };
      }
      if (data.mode === 'once') proc.once++;
      if (data.mode === 'ok' || (data.mode === 'once' && proc.once === 1)) return { output: { ok: true } };
      return new Promise(() => {});
    },
  };
  /** Starts a new process (the previous one is dead by now, or dies here). */
  const boot = (crashLoop: { limit?: number; survivalMs?: number } = { survivalMs: SURVIVAL_MS }, downMs = 1) => {
    if (current) {
      current.store.dead = true;
      time = current.clock.now() + downMs;
    }
    const store = new ProcessStore(journal);
    const clock = new FakeClock(time);
    const engine = createEngine({ store, clock, executors: [step as unknown as ExecutorDefinition<never>], crashLoop, ...(flowsFolder === undefined ? {} : { flowsFolder }) });
    current = { store, clock, engine, calls: [], once: 0 };
    return current;
  };
  return { journal, boot };
}

const flow = (name: string, ...modes: string[]) => ({
  name,
  nodes: modes.map((mode, i) => ({ id: i === 0 ? 'first' : `n${i}`, type: 'step', data: { mode } })),
  edges: modes.slice(1).map((_, i) => ({ from: i === 0 ? 'first' : `n${i}`, to: `n${i + 1}` })),
});

/** Lets a process work (sub-flow files are read from disk, in real time) until `done`. */
async function until(clock: FakeClock, done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) {
    await new Promise((r) => setTimeout(r, 5));
    await clock.advance(0);
  }
  expect(done()).toBe(true);
}

describe('the crash-loop guard', () => {
  it('sets a run aside after 3 crashed resumptions: failed, CRASH_LOOP, naming the running node and the count', async () => {
    const w = world();
    const p0 = w.boot();
    const run = await p0.engine.start(flow('killer', 'ok', 'crash'));
    await p0.clock.advance(0);
    expect(p0.store.dead).toBe(true);
    for (let crash = 1; crash <= 3; crash++) {
      const p = w.boot();
      const [resumed] = await p.engine.resume();
      expect(resumed?.id).toBe(run.id);
      // Counted before anything ran again.
      expect(w.journal.resumptions(run.id)?.count).toBe(crash);
      await p.clock.advance(0);
      expect(p.calls).toEqual(['n1']);
      expect(p.store.dead).toBe(true);
    }
    const last = w.boot();
    const heard: RunEvent[] = [];
    last.engine.on('event', (e) => heard.push(e));
    const [setAside] = await last.engine.resume();
    const result = await setAside!.finished;
    await last.clock.advance(0);
    expect(last.calls).toEqual([]);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'CRASH_LOOP', nodeId: 'n1' });
    expect(result.error!.message).toMatch(new RegExp(`^run ${run.id} was set aside as failed: carrying it on crashed the process 3 times in a row \\(running: node "n1"\\)`));
    expect(w.journal.getRun(run.id)?.status).toBe('failed');
    const tail = w.journal.events(run.id).slice(-2);
    expect(tail.map((e) => e.type)).toEqual(['node.failed', 'run.finished']);
    expect(tail[0]).toMatchObject({ nodeId: 'n1', error: { code: 'CRASH_LOOP' } });
    expect(heard.map((e) => e.type)).toEqual(['node.failed', 'run.finished']);
    expect(w.journal.resumptions(run.id)).toBeUndefined();
    // Set aside for good: a later start finds nothing to resume.
    expect(await w.boot().engine.resume()).toEqual([]);
  });

  it('takes the limit from crashLoop.limit, and counts nothing with Infinity', async () => {
    const w = world();
    const p0 = w.boot({ limit: 1, survivalMs: SURVIVAL_MS });
    const run = await p0.engine.start(flow('killer', 'crash'));
    await p0.clock.advance(0);
    await w.boot({ limit: 1, survivalMs: SURVIVAL_MS }).clock.advance(0);
    await w.boot({ limit: 1, survivalMs: SURVIVAL_MS }).engine.resume();
    await w.boot({ limit: 1 }).clock.advance(0);
    expect(w.journal.getRun(run.id)?.status).toBe('running');
    const off = world();
    const q0 = off.boot({ limit: Infinity });
    const other = await q0.engine.start(flow('killer', 'crash'));
    await q0.clock.advance(0);
    for (let i = 0; i < 5; i++) {
      const p = off.boot({ limit: Infinity });
      await p.engine.resume();
      await p.clock.advance(0);
      expect(off.journal.resumptions(other.id)).toBeUndefined();
    }
    expect(off.journal.getRun(other.id)?.status).toBe('running');
  });

  it('ends on the first resumption with limit 1', async () => {
    const w = world();
    const p0 = w.boot({ limit: 1 });
    const run = await p0.engine.start(flow('killer', 'crash'));
    await p0.clock.advance(0);
    const p1 = w.boot({ limit: 1 });
    await p1.engine.resume();
    await p1.clock.advance(0);
    expect(p1.store.dead).toBe(true);
    const [ended] = await w.boot({ limit: 1 }).engine.resume();
    expect((await ended!.finished).error?.message).toMatch(/crashed the process 1 time in a row/);
    expect(w.journal.getRun(run.id)?.status).toBe('failed');
  });

  it('starts the count again when the run made progress: a run that gets further each time is never set aside', async () => {
    const w = world();
    const p0 = w.boot();
    const run = await p0.engine.start(flow('long', 'ok', 'once', 'once', 'once', 'once', 'once', 'once', 'once', 'once'));
    await p0.clock.advance(0);
    // Each process gets one node further, then dies: six crashes, never three without progress.
    for (let i = 0; i < 6; i++) {
      const p = w.boot();
      await p.engine.resume();
      await p.clock.advance(0);
      expect(w.journal.resumptions(run.id)?.count).toBe(1);
    }
    const p = w.boot();
    const [done] = await p.engine.resume();
    await p.clock.advance(0);
    expect((await done!.finished).status).toBe('succeeded');
    expect(w.journal.resumptions(run.id)).toBeUndefined();
  });

  it('takes a resumption back when the process lived survivalMs after it, or stopped in good order (close)', async () => {
    const w = world();
    const p0 = w.boot();
    const run = await p0.engine.start(flow('long', 'ok', 'hang'));
    await p0.clock.advance(0);
    for (let i = 0; i < 5; i++) {
      const p = w.boot();
      await p.engine.resume();
      await p.clock.advance(SURVIVAL_MS - 1);
      expect(w.journal.resumptions(run.id)?.count).toBe(1);
      await p.clock.advance(1);
      expect(w.journal.resumptions(run.id)).toBeUndefined();
    }
    for (let i = 0; i < 5; i++) {
      const p = w.boot();
      await p.engine.resume();
      await p.clock.advance(0);
      p.engine.close();
      expect(w.journal.resumptions(run.id)).toBeUndefined();
    }
    expect(w.journal.getRun(run.id)?.status).toBe('running');
  });

  it('does not count a run that only waits with nothing due, and counts one whose timer is due', async () => {
    const w = world();
    const p0 = w.boot();
    const run = await p0.engine.start(flow('waits', 'ok', 'approve', 'wait', 'crash'));
    await p0.clock.advance(0);
    expect(run.status()).toBe('waiting');
    for (let i = 0; i < 5; i++) {
      const p = w.boot();
      const [resumed] = await p.engine.resume();
      await p.clock.advance(0);
      expect(resumed!.status()).toBe('waiting');
      expect(w.journal.resumptions(run.id)).toBeUndefined();
    }
    // Approved from another process: the decision is due work, so the next resumption counts.
    const p1 = w.boot();
    p1.engine.decide(run.id, 'n1', { principal: 'lead', decision: 'approve' });
    await p1.engine.resume();
    expect(w.journal.resumptions(run.id)?.count).toBe(1);
    await p1.clock.advance(0);
    expect(run.status()).toBe('waiting');
    // The process dies while the run waits for its timer, which is due when the next one starts:
    // that resumption runs the next node at once, so it counts (from 1: the approval was progress).
    const p2 = w.boot(undefined, 61_000);
    await p2.engine.resume();
    expect(w.journal.resumptions(run.id)?.count).toBe(1);
    await p2.clock.advance(0);
    expect(p2.calls).toEqual(['n2', 'n3']);
    expect(p2.store.dead).toBe(true);
  });

  it('charges the crash to the run that causes it, not to a run carried on beside it', async () => {
    const w = world();
    const p0 = w.boot();
    const innocent = await p0.engine.start(flow('long task', 'ok', 'hang'));
    await p0.clock.advance(10);
    const culprit = await p0.engine.start(flow('killer', 'ok', 'crash'));
    await p0.clock.advance(0);
    expect(p0.store.dead).toBe(true);

    // Both are carried on and counted; the culprit kills the process.
    const p1 = w.boot();
    expect((await p1.engine.resume()).map((r) => r.id)).toEqual([innocent.id, culprit.id]);
    await p1.clock.advance(0);
    expect(p1.store.dead).toBe(true);
    expect([w.journal.resumptions(innocent.id)?.count, w.journal.resumptions(culprit.id)?.count]).toEqual([1, 1]);

    // Both are suspects: one at a time. The innocent one lives survivalMs alone, which takes that
    // resumption back; then the culprit goes, and kills the process.
    const p2 = w.boot();
    const [first, held] = await p2.engine.resume();
    await p2.clock.advance(0);
    expect(p2.calls).toEqual(['n1']);
    expect(held!.status()).toBe('running');
    expect(w.journal.resumptions(culprit.id)?.count).toBe(1);
    expect(first!.id).toBe(innocent.id);
    expect(w.journal.resumptions(innocent.id)?.count).toBe(2);
    await p2.clock.advance(SURVIVAL_MS);
    expect(w.journal.resumptions(innocent.id)?.count).toBe(1);
    expect(p2.store.dead).toBe(true);
    expect(w.journal.resumptions(culprit.id)?.count).toBe(2);

    // Again one at a time, in the order asked: the innocent one lives, the culprit kills again.
    const p3 = w.boot();
    await p3.engine.resume();
    await p3.clock.advance(0);
    expect(p3.calls).toEqual(['n1']);
    await p3.clock.advance(SURVIVAL_MS);
    expect(p3.calls).toEqual(['n1', 'n1']);
    expect(p3.store.dead).toBe(true);
    expect([w.journal.resumptions(innocent.id)?.count, w.journal.resumptions(culprit.id)?.count]).toEqual([1, 3]);

    // The culprit is set aside; the innocent run goes on probation alone and lives.
    const p4 = w.boot();
    const runs = await p4.engine.resume();
    await p4.clock.advance(SURVIVAL_MS);
    expect(p4.store.dead).toBe(false);
    expect(w.journal.getRun(culprit.id)?.status).toBe('failed');
    expect((await runs.find((r) => r.id === culprit.id)!.finished).error?.code).toBe('CRASH_LOOP');
    expect(w.journal.getRun(innocent.id)?.status).toBe('running');
    expect(w.journal.resumptions(innocent.id)?.count).toBe(1);
    expect(p4.calls).toEqual(['n1']);
  });

  it('sets a run aside with its sub-flow run, naming the node running there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-crash-loop-'));
    writeFileSync(join(dir, 'killer.json'), JSON.stringify(flow('child', 'ok', 'crash')));
    const w = world(dir);
    const p0 = w.boot();
    const run = await p0.engine.start(flow('parent', 'subflow:killer.json'));
    await until(p0.clock, () => p0.store.dead);
    const child = `${run.id}.first`;
    expect(w.journal.getRun(child)?.parentRunId).toBe(run.id);
    for (let crash = 1; crash <= 3; crash++) {
      const p = w.boot();
      await p.engine.resume();
      await until(p.clock, () => p.store.dead);
      expect(p.calls).toEqual(['first', 'n1']);
    }
    const last = w.boot();
    const [ended] = await last.engine.resume();
    const result = await ended!.finished;
    expect(result.error?.code).toBe('CRASH_LOOP');
    expect(result.error?.message).toContain(`crashed the process 3 times in a row (running: nodes "first", "n1" (sub-flow run ${child}))`);
    expect(w.journal.getRun(child)?.status).toBe('failed');
    expect(w.journal.events(child).at(-1)).toMatchObject({ type: 'run.finished', status: 'failed', error: { code: 'CRASH_LOOP', nodeId: 'n1' } });
  });

  it("counts a sub-flow run's progress as the run's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-crash-loop-'));
    writeFileSync(join(dir, 'slow.json'), JSON.stringify(flow('child', 'once', 'once', 'once', 'once', 'once', 'once', 'once', 'once')));
    const w = world(dir);
    const p0 = w.boot();
    const run = await p0.engine.start(flow('parent', 'subflow:slow.json'));
    await until(p0.clock, () => w.journal.events(`${run.id}.first`).some((e) => e.type === 'node.succeeded'));
    // Each process gets the sub-flow one node further, then dies: the parent's journal never moves.
    for (let i = 0; i < 5; i++) {
      const before = w.journal.events(`${run.id}.first`).length;
      const p = w.boot();
      await p.engine.resume();
      await until(p.clock, () => w.journal.events(`${run.id}.first`).filter((e) => e.type === 'node.succeeded').length > i + 1);
      expect(w.journal.events(`${run.id}.first`).length).toBeGreaterThan(before);
      expect(w.journal.resumptions(run.id)?.count).toBe(1);
    }
    expect(w.journal.getRun(run.id)?.status).toBe('running');
  });

  it('lets a held run be cancelled while it waits its turn', async () => {
    const w = world();
    const p0 = w.boot();
    const a = await p0.engine.start(flow('a', 'hang'));
    const b = await p0.engine.start(flow('b', 'hang'));
    await p0.clock.advance(0);
    for (const id of [a.id, b.id]) w.journal.setResumptions(id, { count: 1, progress: 0 });
    const p1 = w.boot();
    const [, held] = await p1.engine.resume();
    expect(p1.engine.run(held!.id)).toBeUndefined();
    held!.cancel();
    expect((await held!.finished).status).toBe('cancelled');
    expect(w.journal.getRun(held!.id)?.status).toBe('cancelled');
  });
});
