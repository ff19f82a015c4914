import { describe, expect, it } from 'vitest';
import { createEngine } from './engine.js';
import type { ExecutorContext } from './interfaces.js';
import { MemoryStore } from './store.js';

describe("an executor's context", () => {
  it('copies, lists and serialises as the attempt, without the run behind it', async () => {
    let seen: { spread: Record<string, unknown>; keys: string[]; json: string; key: string } | undefined;
    const look = {
      type: 'look',
      async run(ctx: ExecutorContext) {
        seen = { spread: { ...ctx }, keys: Object.keys(ctx), json: JSON.stringify(ctx), key: ctx.idempotencyKey };
        return { output: {} };
      },
    };
    const engine = createEngine({ store: new MemoryStore(), executors: [look] });
    const flow = { name: 'one', nodes: [{ id: 'a', type: 'start', data: {} }, { id: 'b', type: 'look', data: {} }], edges: [{ from: 'a', to: 'b' }] };
    engine.registerExecutor({ type: 'start', run: async () => ({ output: { ticket: 7 } }) });
    const run = await engine.start(flow);
    expect((await run.finished).status).toBe('succeeded');
    // What the interface names as fields is there in a copy, as plain values.
    expect(seen!.spread).toMatchObject({ runId: run.id, nodeId: 'b', attempt: 1, input: { ticket: 7 } });
    expect(seen!.key).toBe(`${run.id}:b`);
    // The run's execution (its state, journal, engine) is not: a log line of the context stays small.
    const json = JSON.parse(seen!.json) as Record<string, unknown>;
    expect(Object.keys(json)).not.toContain('execution');
    expect(seen!.json.length).toBeLessThan(2_000);
    for (const key of seen!.keys) expect(['state', 'core', 'execution', 'logger']).not.toContain(key);
  });
});
