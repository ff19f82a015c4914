import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, FakeClock, GantryError, MemoryStore, type Engine, type JsonObject, type RunEvent, type RunStore } from '@gantry/engine';
import { builtinExecutors, moduleAgent } from '@gantry/executors';

/**
 * A store shared by two engines, the first of which "crashes": from crash() on, nothing it
 * writes reaches the journal, as if its process had died at that moment.
 */
class CrashableStore implements RunStore {
  crashed = false;
  constructor(readonly inner: MemoryStore) {}
  createRun(...args: Parameters<RunStore['createRun']>) {
    if (!this.crashed) this.inner.createRun(...args);
  }
  append(events: readonly RunEvent[]) {
    if (!this.crashed) this.inner.append(events);
  }
  setStatus(...args: Parameters<RunStore['setStatus']>) {
    if (!this.crashed) this.inner.setStatus(...args);
  }
  getRun(runId: string) {
    return this.inner.getRun(runId);
  }
  events(runId: string) {
    return this.inner.events(runId);
  }
  listRuns(...args: Parameters<RunStore['listRuns']>) {
    return this.inner.listRuns(...args);
  }
}

interface Call {
  task: string;
  key: string;
  attempt: number;
}

function world(calls: Call[], hang: Set<string>) {
  return moduleAgent((inputs: JsonObject, task) => {
    calls.push({ task: task.task, key: task.task_id, attempt: task.attempt });
    if (hang.has(task.task)) return new Promise(() => {});
    return { done: task.task, ...inputs };
  });
}

/**
 * Two processes on one journal: `before` writes through a store that dies at `crash()`, `after`
 * (the restarted process) through the journal itself.
 */
function processes(hang = new Set<string>(), flowAgents: Record<string, Record<string, string>> = {}) {
  const journal = new MemoryStore();
  const dying = new CrashableStore(journal);
  const calls: Call[] = [];
  const agents = { worker: world(calls, hang), undoer: world(calls, new Set()), ...Object.fromEntries(Object.entries(flowAgents).map(([name, flows]) => [name, { flows }])) };
  const engine = (store: RunStore, clock: FakeClock): Engine => createEngine({ executors: builtinExecutors, store, clock, random: () => 0.5, agents });
  return {
    calls,
    journal,
    before: (clock: FakeClock) => engine(dying, clock),
    crash: () => (dying.crashed = true),
    after: (clock: FakeClock) => engine(journal, clock),
  };
}

const step = (id: string, extra: object = {}) => ({ id, type: 'agent', data: { agent: 'worker', task: id }, ...extra });

/** Waits in real time (a sub-flow's file is read from disk) until `condition` holds. */
async function until(condition: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function settle(clock: FakeClock) {
  await clock.advance(0);
}

describe('resume after a crash (DESIGN §3.6)', () => {
  it('never runs a succeeded node again; a started one runs again with the same key and the next attempt', async () => {
    const hang = new Set(['deploy']);
    const p = processes(hang);
    const clockA = new FakeClock();
    const flow = { name: 'f', nodes: [step('build'), step('deploy'), step('verify')], edges: [{ from: 'build', to: 'deploy' }, { from: 'deploy', to: 'verify' }] };
    await p.before(clockA).start(flow, { runId: 'r1' });
    await settle(clockA);
    expect(p.calls.map((c) => c.task)).toEqual(['build', 'deploy']);
    p.crash();
    hang.clear();
    const clockB = new FakeClock(clockA.now() + 5_000);
    const [resumed] = await p.after(clockB).resume('r1');
    await settle(clockB);
    expect((await resumed!.finished).status).toBe('succeeded');
    expect(p.calls.map((c) => c.task)).toEqual(['build', 'deploy', 'deploy', 'verify']);
    const deploys = p.calls.filter((c) => c.task === 'deploy');
    expect(deploys[1]!.key).toBe(deploys[0]!.key);
    expect(deploys.map((c) => c.attempt)).toEqual([1, 2]);
    const completions = p.journal.events('r1').filter((e) => e.type === 'node.succeeded').map((e) => (e as { nodeId: string }).nodeId);
    expect(completions).toEqual(['build', 'deploy', 'verify']);
  });

  it('an agent task performed by a flow resumes its child run: the child’s succeeded steps are not run again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-resume-flow-agent-'));
    const phase = join(dir, 'phase.json');
    writeFileSync(phase, JSON.stringify({ name: 'phase', params: { version: { type: 'string' } }, nodes: [step('build'), step('deploy', { data: { agent: 'worker', task: 'deploy', inputs: { version: '{% $params.version %}' } } })], edges: [{ from: 'build', to: 'deploy' }] }));
    const hang = new Set(['deploy']);
    const p = processes(hang, { ops: { release: phase } });
    const clockA = new FakeClock();
    const flow = { name: 'top', params: { version: { type: 'string', default: 'v2' } }, nodes: [{ id: 'release', type: 'agent', data: { agent: 'ops', task: 'release' } }, step('announce')], edges: [{ from: 'release', to: 'announce' }] };
    await p.before(clockA).start(flow, { runId: 'rf' });
    await until(() => p.calls.some((c) => c.task === 'deploy'));
    p.crash();
    hang.clear();
    const clockB = new FakeClock(clockA.now() + 5_000);
    const [resumed] = await p.after(clockB).resume('rf');
    const result = await resumed!.finished;
    expect(result.status).toBe('succeeded');
    expect(p.calls.map((c) => c.task)).toEqual(['build', 'deploy', 'deploy', 'announce']);
    const deploys = p.calls.filter((c) => c.task === 'deploy');
    expect(deploys.map((c) => c.key)).toEqual(['rf.release:deploy', 'rf.release:deploy']);
    expect(p.journal.listRuns({ parentRunId: 'rf' }).map((r) => [r.runId, r.status])).toEqual([['rf.release', 'succeeded']]);
    expect(resumed!.state().outputs.release).toMatchObject({ done: 'deploy', version: 'v2', run_id: 'rf.release' });
  });

  it('a wait keeps its absolute time across a restart and fires once', async () => {
    const p = processes();
    const clockA = new FakeClock();
    const flow = { name: 'bake', nodes: [step('shift'), { id: 'bake', type: 'wait', data: { seconds: 300 } }, step('check')], edges: [{ from: 'shift', to: 'bake' }, { from: 'bake', to: 'check' }] };
    await p.before(clockA).start(flow, { runId: 'r2' });
    await clockA.advance(100_000);
    p.crash();
    const startedAt = p.journal.events('r2')[0]!.at;
    const clockB = new FakeClock(clockA.now() + 60_000);
    const [run] = await p.after(clockB).resume('r2');
    await clockB.advance(139_000);
    expect(p.calls.map((c) => c.task)).toEqual(['shift']);
    await clockB.advance(1_000);
    expect((await run!.finished).status).toBe('succeeded');
    expect(p.calls.map((c) => c.task)).toEqual(['shift', 'check']);
    const fired = p.journal.events('r2').filter((e) => e.type === 'timer.fired');
    expect(fired).toHaveLength(1);
    expect(fired[0]!.at - startedAt).toBe(300_000);
  });

  it('an approval decided from another process while the run was down is honoured on resume', async () => {
    const p = processes();
    const clockA = new FakeClock();
    const flow = {
      name: 'approve',
      nodes: [step('stage'), { id: 'ok', type: 'human_approval', data: { approvers: ['tech-lead', 'product-manager'], timeout: 3600 } }, step('ship')],
      edges: [{ from: 'stage', to: 'ok' }, { from: 'ok', to: 'ship' }],
    };
    const a = p.before(clockA);
    const run = await a.start(flow, { runId: 'r3' });
    await settle(clockA);
    expect(run.status()).toBe('waiting');
    await a.decide('r3', 'ok', { principal: 'tech-lead', decision: 'approve', channel: 'cli' });
    p.crash();
    const clockB = new FakeClock(clockA.now() + 60_000);
    const other = p.after(clockB);
    await other.decide('r3', 'ok', { principal: 'product-manager', decision: 'approve', channel: 'cli' });
    await expect(other.decide('r3', 'ok', { principal: 'product-manager', decision: 'approve' })).rejects.toThrow(expect.objectContaining({ code: 'APPROVAL_ALREADY_DECIDED' }));
    await expect(other.decide('r3', 'ok', { principal: 'mallory', decision: 'approve' })).rejects.toThrow(expect.objectContaining({ code: 'APPROVAL_FORBIDDEN' }));
    const [resumed] = await p.after(clockB).resume('r3');
    await settle(clockB);
    expect((await resumed!.finished).status).toBe('succeeded');
    expect(p.calls.map((c) => c.task)).toEqual(['stage', 'ship']);
    const decided = p.journal.events('r3').filter((e) => e.type === 'approval.decided');
    expect(decided.map((e) => (e as { principal: string }).principal)).toEqual(['tech-lead', 'product-manager']);
  });

  it('an approval deadline that passed while the run was down fires once, on resume', async () => {
    const p = processes();
    const clockA = new FakeClock();
    const flow = { name: 'late', nodes: [{ id: 'ok', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 60 } }, step('ship')], edges: [{ from: 'ok', to: 'ship' }] };
    await p.before(clockA).start(flow, { runId: 'r4' });
    await settle(clockA);
    p.crash();
    const clockB = new FakeClock(clockA.now() + 3_600_000);
    await expect(p.after(clockB).decide('r4', 'ok', { principal: 'tech-lead', decision: 'approve' })).rejects.toThrow(expect.objectContaining({ code: 'APPROVAL_EXPIRED' }));
    const [run] = await p.after(clockB).resume('r4');
    await clockB.advance(0);
    const result = await run!.finished;
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('APPROVAL_TIMEOUT');
    expect(p.journal.events('r4').filter((e) => e.type === 'timer.fired')).toHaveLength(1);
  });

  it('a for_each keeps the items that succeeded before the restart', async () => {
    const regions: unknown[] = [];
    let stuck = true;
    const agent = moduleAgent((inputs: JsonObject) => {
      regions.push(inputs.region);
      if (inputs.region === 'c' && stuck) return new Promise(() => {});
      return { region: inputs.region };
    });
    const journal = new MemoryStore();
    const dying = new CrashableStore(journal);
    const make = (store: RunStore, clock: FakeClock) => createEngine({ executors: builtinExecutors, store, clock, agents: { worker: agent } });
    const clockA = new FakeClock();
    const flow = { name: 'regions', nodes: [{ id: 'deploy', type: 'agent', for_each: ['a', 'b', 'c', 'd'], data: { agent: 'worker', task: 'deploy', inputs: { region: '{% $item %}' } } }] };
    await make(dying, clockA).start(flow, { runId: 'r5' });
    await settle(clockA);
    expect(regions).toEqual(['a', 'b', 'c']);
    dying.crashed = true;
    stuck = false;
    const clockB = new FakeClock(clockA.now() + 1);
    const [run] = await make(journal, clockB).resume('r5');
    await settle(clockB);
    const result = await run!.finished;
    expect(result.status).toBe('succeeded');
    expect(regions).toEqual(['a', 'b', 'c', 'c', 'd']);
    expect(result.output).toEqual({ items: [{ region: 'a' }, { region: 'b' }, { region: 'c' }, { region: 'd' }] });
  });

  it('a rollback interrupted by the crash finishes without undoing anything twice', async () => {
    const calls: string[] = [];
    let stall = true;
    const undo = moduleAgent((_inputs: JsonObject, task) => {
      calls.push(task.task);
      if (task.task === 'undo_b' && stall) return new Promise(() => {});
      return {};
    });
    const fail = moduleAgent((_inputs: JsonObject, task) => {
      calls.push(task.task);
      if (task.task === 'c') throw Object.assign(new Error('boom'), { retryable: false });
      return {};
    });
    const journal = new MemoryStore();
    const dying = new CrashableStore(journal);
    const make = (store: RunStore, clock: FakeClock) => createEngine({ executors: builtinExecutors, store, clock, agents: { worker: fail, undoer: undo } });
    const node = (id: string) => ({ id, type: 'agent', data: { agent: 'worker', task: id }, compensate: { agent: 'undoer', task: `undo_${id}` } });
    const flow = {
      name: 'rb',
      nodes: [node('a'), node('b'), { id: 'c', type: 'agent', data: { agent: 'worker', task: 'c' } }],
      edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }],
      error_handlers: [{ stage: 'c', action: 'rollback' }],
    };
    const clockA = new FakeClock();
    await make(dying, clockA).start(flow, { runId: 'r6' });
    await settle(clockA);
    expect(calls).toEqual(['a', 'b', 'c', 'undo_b']);
    dying.crashed = true;
    stall = false;
    const clockB = new FakeClock(clockA.now() + 1);
    const [run] = await make(journal, clockB).resume('r6');
    await settle(clockB);
    expect((await run!.finished).status).toBe('rolled_back');
    expect(calls).toEqual(['a', 'b', 'c', 'undo_b', 'undo_b', 'undo_a']);
  });

  it('a finished run resumes as finished; cancelling a stored run ends it in its journal', async () => {
    const p = processes(new Set(['deploy']));
    const clock = new FakeClock();
    const done = await p.before(clock).start({ name: 'x', nodes: [step('build')] }, { runId: 'r7' });
    await settle(clock);
    expect((await done.finished).status).toBe('succeeded');
    const [again] = await p.after(clock).resume('r7');
    expect((await again!.finished).status).toBe('succeeded');
    await p.before(clock).start({ name: 'y', nodes: [step('deploy')] }, { runId: 'r8' });
    await settle(clock);
    p.crash();
    await p.after(clock).cancel('r8');
    expect(p.journal.getRun('r8')?.status).toBe('cancelled');
    expect(p.journal.events('r8').at(-1)).toMatchObject({ type: 'run.finished', status: 'cancelled' });
    await expect(p.after(clock).resume('nope')).rejects.toThrow(GantryError);
  });
});

describe('a store that fails to write', () => {
  it('stops the runs of the failed write: their executors are aborted and they end failed with the store error', async () => {
    const journal = new MemoryStore();
    let broken = false;
    const store: RunStore = Object.assign(Object.create(journal) as MemoryStore, {
      append(events: readonly RunEvent[]) {
        if (broken) throw new GantryError('STORE_FAILED', 'disk full');
        journal.append(events);
      },
    });
    let aborted = false;
    const agent = moduleAgent((_inputs: JsonObject, task, signal) => {
      if (task.task === 'slow') return new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(signal.reason))));
      return {};
    });
    const clock = new FakeClock();
    const engine = createEngine({ executors: builtinExecutors, store, clock, agents: { worker: agent } });
    const flow = { name: 'disk', nodes: [step('fast'), step('slow'), step('after')], edges: [{ from: 'fast', to: 'after' }] };
    const run = await engine.start(flow, { runId: 'r9' });
    broken = true;
    await settle(clock);
    const result = await run.finished;
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'STORE_FAILED' });
    expect(result.error?.message).toContain('disk full');
    expect(aborted).toBe(true);
    expect(journal.events('r9').map((e) => e.type)).toEqual(['run.started', 'node.started', 'node.started']);
  });

  it('creates a run with its start in one write: a run id used twice is refused and nothing of the second is kept', async () => {
    const journal = new MemoryStore();
    const clock = new FakeClock();
    const engine = createEngine({ executors: builtinExecutors, store: journal, clock, agents: { worker: moduleAgent(() => ({})) } });
    await (await engine.start({ name: 'once', nodes: [step('a')] }, { runId: 'same' })).finished;
    await expect(engine.start({ name: 'twice', nodes: [step('b')] }, { runId: 'same' })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(journal.getRun('same')?.flowName).toBe('once');
    expect(journal.events('same').filter((e) => e.type === 'run.started')).toHaveLength(1);
  });
});
