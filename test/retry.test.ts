/**
 * DESIGN §12, retry (redrive): a failed, rolled-back or cancelled run carries on in its own
 * journal; the nodes whose failure ended it (or `from`) and every node after them run again as
 * their next attempts with the same idempotency keys; every other node keeps its output; a
 * compensation already made is not made again; a running, waiting, succeeded or blocked run, and
 * a sub-flow's run, are refused. On the in-memory store and on a real SQLite file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, FakeClock, GantryError, MemoryStore, replay, type Engine, type JsonObject, type RunEvent, type RunStore } from '@gantry/engine';
import { builtinExecutors, moduleAgent } from '@gantry/executors';
import { openSqliteStore } from '@gantry/store-sqlite';

interface Call {
  readonly task: string;
  readonly key: string;
  readonly attempt: number;
}

/** An agent whose tasks succeed unless listed in `broken` (failing retryably if `retryable`), or hang if listed in `hanging`. */
function world() {
  const calls: Call[] = [];
  const broken = new Set<string>();
  const hanging = new Set<string>();
  let retryable = false;
  const agent = moduleAgent((inputs: JsonObject, task) => {
    calls.push({ task: task.task, key: task.task_id, attempt: task.attempt });
    if (hanging.has(task.task)) return new Promise(() => {});
    if (broken.has(task.task)) return { status: 'failed', error: { message: `${task.task} is broken`, retryable } };
    return { [task.task]: `done (attempt ${task.attempt})` };
  });
  return { calls, broken, hanging, agent, setRetryable: (r: boolean) => (retryable = r) };
}

const step = (id: string, extra: object = {}) => ({ id, type: 'agent', data: { agent: 'worker', task: id }, ...extra });
const chain = (...ids: string[]) => ids.slice(1).map((to, i) => ({ from: ids[i]!, to }));

function engineOn(store: RunStore, w: ReturnType<typeof world>, clock = new FakeClock(), extra: object = {}): Engine {
  return createEngine({ executors: builtinExecutors, store, clock, random: () => 0.5, agents: { worker: w.agent, ...extra }, notifier: () => {} });
}

const types = (events: readonly RunEvent[]) => events.map((e) => ('nodeId' in e && e.nodeId ? `${e.type} ${e.nodeId}` : e.type));

describe('retry of a finished run', () => {
  it('a failed run retried after its cause is fixed carries on from the failure and succeeds', async () => {
    const w = world();
    const store = new MemoryStore();
    const engine = engineOn(store, w);
    w.broken.add('b');
    const flow = { name: 'three', nodes: [step('a'), step('b'), step('c')], edges: chain('a', 'b', 'c') };
    const first = await engine.start(flow, { runId: 'r1' });
    expect((await first.finished).status).toBe('failed');

    w.broken.clear();
    const again = await engine.retry('r1', { by: 'alice' });
    const result = await again.finished;
    expect(result.status).toBe('succeeded');
    expect(w.calls).toEqual([
      { task: 'a', key: 'r1:a', attempt: 1 },
      { task: 'b', key: 'r1:b', attempt: 1 },
      { task: 'b', key: 'r1:b', attempt: 2 },
      { task: 'c', key: 'r1:c', attempt: 1 },
    ]);
    const journal = store.events('r1');
    const retried = journal.find((e) => e.type === 'run.retried');
    expect(retried).toMatchObject({ nodes: ['b', 'c'], by: 'alice' });
    expect(types(journal.slice(journal.indexOf(retried!)))).toEqual(['run.retried', 'node.started b', 'node.succeeded b', 'node.started c', 'node.succeeded c', 'run.finished']);
    // a kept its output: c's input is a's and b's outputs merged along the chain.
    expect(again.state().nodes.get('a')?.output).toEqual({ a: 'done (attempt 1)' });
    expect(again.state().nodes.get('b')).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(store.getRun('r1')?.status).toBe('succeeded');
    // The journal alone rebuilds the retried run.
    const rebuilt = replay('r1', journal);
    expect([...rebuilt.nodes].map(([id, n]) => [id, n.status, n.attempt])).toEqual([...again.state().nodes].map(([id, n]) => [id, n.status, n.attempt]));
    expect(rebuilt.outputs).toEqual(again.state().outputs);
  });

  it('a rolled-back run retried runs again from the failure; a compensation already made is not made again', async () => {
    const w = world();
    const undone: string[] = [];
    const ops = moduleAgent((_inputs: JsonObject, task) => {
      undone.push(task.task);
      return { undone: task.task };
    });
    const store = new MemoryStore();
    const engine = engineOn(store, w, new FakeClock(), { ops });
    w.broken.add('b');
    const flow = {
      name: 'undoable',
      nodes: [step('a', { compensate: { agent: 'ops', task: 'undo_a' } }), step('b')],
      edges: chain('a', 'b'),
      error_handlers: [{ stage: 'b', action: 'rollback' }],
    };
    expect((await (await engine.start(flow, { runId: 'r2' })).finished).status).toBe('rolled_back');
    expect(undone).toEqual(['undo_a']);
    // Still broken: it fails and rolls back again, but a was undone already.
    expect((await (await engine.retry('r2')).finished).status).toBe('rolled_back');
    expect(undone).toEqual(['undo_a']);
    w.broken.clear();
    expect((await (await engine.retry('r2')).finished).status).toBe('succeeded');
    expect(w.calls.filter((c) => c.task === 'b').map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(w.calls.filter((c) => c.task === 'a').length).toBe(1);
  });

  it('a cancelled run retried runs its aborted nodes again', async () => {
    const w = world();
    const store = new MemoryStore();
    const clock = new FakeClock();
    const engine = engineOn(store, w, clock);
    w.hanging.add('b');
    const run = await engine.start({ name: 'stuck', nodes: [step('a'), step('b'), step('c')], edges: chain('a', 'b', 'c') }, { runId: 'r3' });
    await clock.advance(0);
    run.cancel();
    expect((await run.finished).status).toBe('cancelled');
    w.hanging.clear();
    const again = await engine.retry('r3');
    expect((await again.finished).status).toBe('succeeded');
    expect(again.state().nodes.get('b')).toMatchObject({ status: 'succeeded', attempt: 2 });
  });

  it('--from reruns that node and every node after it, succeeded ones included', async () => {
    const w = world();
    const store = new MemoryStore();
    const engine = engineOn(store, w);
    w.broken.add('c');
    await (await engine.start({ name: 'three', nodes: [step('a'), step('b'), step('c')], edges: chain('a', 'b', 'c') }, { runId: 'r4' })).finished;
    w.broken.clear();
    expect((await (await engine.retry('r4', { from: 'a' })).finished).status).toBe('succeeded');
    expect(w.calls.map((c) => `${c.task}${c.attempt}`)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
    expect(store.events('r4').find((e) => e.type === 'run.retried')).toMatchObject({ from: 'a', nodes: ['a', 'b', 'c'] });
  });

  it('a node’s retry policy counts its attempts from the retry of the run', async () => {
    const w = world();
    const store = new MemoryStore();
    const clock = new FakeClock();
    const engine = engineOn(store, w, clock);
    w.broken.add('a');
    w.setRetryable(true);
    const flow = { name: 'flaky', nodes: [step('a', { retry: { max_attempts: 2, initial_seconds: 1, jitter: false } })], edges: [] };
    const run = await engine.start(flow, { runId: 'r5' });
    await clock.runAll();
    expect((await run.finished).status).toBe('failed');
    const again = await engine.retry('r5');
    await clock.runAll();
    expect((await again.finished).status).toBe('failed');
    expect(w.calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a running, waiting, succeeded or blocked run, a sub-flow’s run, an unknown node and an unknown run', async () => {
    const w = world();
    const store = new MemoryStore();
    const clock = new FakeClock();
    const engine = engineOn(store, w, clock);
    const code = (fn: () => Promise<unknown>) =>
      fn().then(
        () => 'accepted',
        (error: GantryError) => `${error.code}: ${error.message}`,
      );
    await (await engine.start({ name: 'fine', nodes: [step('a')], edges: [] }, { runId: 'ok' })).finished;
    expect(await code(() => engine.retry('ok'))).toBe('RUN_NOT_RETRYABLE: run ok is succeeded: only a failed, rolled-back or cancelled run can be retried');
    const waiting = await engine.start(
      { name: 'gate', nodes: [{ id: 'approve', type: 'human_approval', data: { approvers: ['lead'], timeout: 60 } }], edges: [] },
      { runId: 'waits' },
    );
    await clock.advance(0);
    expect(await code(() => engine.retry('waits'))).toBe('RUN_NOT_RETRYABLE: run waits is waiting: only a failed, rolled-back or cancelled run can be retried');
    waiting.cancel();
    w.broken.add('a');
    await (await engine.start({ name: 'three', nodes: [step('a'), step('b')], edges: chain('a', 'b') }, { runId: 'bad' })).finished;
    expect(await code(() => engine.retry('bad', { from: 'bb' }))).toBe('USAGE: run bad\'s flow "three" has no node "bb" — did you mean "b"?');
    expect(await code(() => engine.retry('nope'))).toMatch(/^RUN_NOT_FOUND/);
    expect(store.events('bad').some((e) => e.type === 'run.retried')).toBe(false);
  });

  it('a failed sub-flow is run again as a new child run; its failed one stays as it ended', async () => {
    const w = world();
    const folder = mkdtempSync(join(tmpdir(), 'gantry-retry-'));
    writeFileSync(join(folder, 'child.json'), JSON.stringify({ name: 'child', nodes: [step('inner')], edges: [] }));
    writeFileSync(join(folder, 'parent.json'), JSON.stringify({ name: 'parent', nodes: [{ id: 'sub', type: 'subflow', data: { flow: 'child.json' } }, step('after')], edges: chain('sub', 'after') }));
    const store = new MemoryStore();
    const engine = engineOn(store, w);
    w.broken.add('inner');
    const parent = await engine.loadFlow(join(folder, 'parent.json'));
    expect((await (await engine.start(parent, { runId: 'p' })).finished).status).toBe('failed');
    expect(await code(engine, 'p.sub')).toBe('RUN_NOT_RETRYABLE');
    w.broken.clear();
    expect((await (await engine.retry('p')).finished).status).toBe('succeeded');
    expect(store.getRun('p.sub')?.status).toBe('failed');
    expect(store.getRun('p.sub~2')?.status).toBe('succeeded');
  });

  it('on a SQLite file: the nodes that run again complete again, and the run is listed running then succeeded', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gantry-retry-db-'));
    const path = join(folder, 'gantry.db');
    const w = world();
    w.broken.add('b');
    const flow = { name: 'three', nodes: [step('a'), step('b'), step('c')], edges: chain('a', 'b', 'c') };
    let store = openSqliteStore(path);
    await (await engineOn(store, w).start(flow, { runId: 'db' })).finished;
    store.close();
    // Another process, after the fix.
    w.broken.clear();
    store = openSqliteStore(path);
    const again = await engineOn(store, w).retry('db');
    expect(store.getRun('db')?.status).toBe('running');
    expect(store.getRun('db')?.finishedAt).toBeUndefined();
    expect((await again.finished).status).toBe('succeeded');
    expect(store.getRun('db')?.status).toBe('succeeded');
    const journal = store.events('db');
    expect(journal.filter((e) => e.type === 'node.failed' || e.type === 'node.succeeded').map((e) => `${e.type} ${(e as { nodeId: string }).nodeId}`)).toEqual([
      'node.succeeded a',
      'node.failed b',
      'node.succeeded b',
      'node.succeeded c',
    ]);
    store.close();
  });
});

function code(engine: Engine, runId: string): Promise<string> {
  return engine.retry(runId).then(
    () => 'accepted',
    (error: GantryError) => error.code,
  );
}
