/**
 * The store under the real engine: a run with parallel branches, a for_each and a retry is
 * journalled as the engine emitted it, in batches, and replays to the same outcome from a
 * store reopened read-only.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, replay, type ExecutorDefinition, type JsonObject, type RunEvent } from '@gantry/engine';
import { openSqliteStore } from './open.js';
import { tempDir } from './test-kit.js';

const failedOnce = new Set<string>();

/** A `step` node: returns its input's keys; with `fail_once`, fails its first attempt (retryable). */
const step: ExecutorDefinition<JsonObject> = {
  type: 'step',
  async run(ctx, data) {
    await new Promise((r) => setTimeout(r, 1));
    if (data.fail_once === true && !failedOnce.has(ctx.runId)) {
      failedOnce.add(ctx.runId);
      throw Object.assign(new Error('flaky'), { retryable: true });
    }
    return { output: { node: ctx.nodeId, item: ctx.item?.value ?? null } };
  },
};

const flow = {
  name: 'sqlite-engine',
  nodes: [
    { id: 'a', type: 'step', data: {} },
    { id: 'b', type: 'step', data: {}, for_each: [1, 2, 3, 4], concurrency: 2 },
    { id: 'c', type: 'step', data: { fail_once: true }, retry: { max_attempts: 3, backoff: 'fixed', initial_seconds: 0.01, jitter: false } },
    { id: 'd', type: 'step', data: {} },
    { id: 'e', type: 'step', data: {} },
  ],
  edges: [
    { from: 'a', to: 'b' },
    { from: 'a', to: 'c' },
    { from: 'a', to: 'd' },
    { from: 'b', to: 'e' },
    { from: 'c', to: 'e' },
    { from: 'd', to: 'e' },
  ],
};

describe('SqliteStore under the engine', () => {
  it('journals a run with parallel branches, a for_each and a retry, in batches, and replays it after a reopen', async () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    // Each commit of the engine's journal writer: the runs it creates (with their run.started) and its events.
    const batches: number[] = [];
    // The engine writes through commit (its journal writer's batches): runs created, then events.
    const commit = store.commit.bind(store);
    store.commit = (batch) => {
      const events = batch.created.reduce((n, c) => n + c.events.length, 0) + batch.events.length;
      if (events > 0) batches.push(events);
      return commit(batch);
    };
    const engine = createEngine({ store, executors: [step as unknown as ExecutorDefinition<never>] });
    const heard: RunEvent[] = [];
    engine.on('event', (e) => heard.push(e));
    const run = await engine.start(flow);
    const result = await run.finished;
    expect(result.status).toBe('succeeded');
    await store.flush();
    store.close();

    const reader = openSqliteStore(file, { mode: 'read' });
    const journal = reader.events(run.id);
    expect(journal).toEqual(JSON.parse(JSON.stringify(heard.filter((e) => e.runId === run.id))));
    expect(journal.map((e) => e.type)).toContain('node.retrying');
    // Parallel branches share writes: fewer appends than events.
    expect(batches.reduce((a, b) => a + b, 0)).toBe(journal.length);
    expect(batches.length).toBeLessThan(journal.length);
    const state = replay(run.id, journal);
    expect(state.status).toBe('succeeded');
    expect([...state.nodes.entries()].map(([id, n]) => [id, n.status]).sort()).toEqual(['a', 'b', 'c', 'd', 'e'].map((id) => [id, 'succeeded']));
    expect(reader.getRun(run.id)).toMatchObject({ flowName: 'sqlite-engine', status: 'succeeded', finishedAt: state.finishedAt });
    reader.close();
  });
});
