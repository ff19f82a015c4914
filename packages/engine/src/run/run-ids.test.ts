import { describe, expect, it } from 'vitest';
import { createEngine } from './engine.js';
import type { ExecutorDefinition } from './interfaces.js';
import { MemoryStore } from './store.js';

const step: ExecutorDefinition<never> = { type: 'step', run: async () => ({ output: {} }) };
const flow = { name: 'one', nodes: [{ id: 'a', type: 'step', data: {} }], edges: [] };

describe('top-level run ids', () => {
  it('refuses a given run id with a ".", which names a sub-flow run, before anything is stored', async () => {
    const store = new MemoryStore();
    const engine = createEngine({ store, executors: [step] });
    await expect(engine.start(flow, { runId: 'zz9.child' })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining(`expected a run id to be a non-empty string without "." (it separates a sub-flow's run from its parent's), got "zz9.child"`),
    });
    await expect(engine.start(flow, { runId: '' })).rejects.toMatchObject({ code: 'USAGE' });
    expect(store.listRuns()).toEqual([]);
    const run = await engine.start(flow, { runId: 'zz9-child' });
    expect((await run.finished).status).toBe('succeeded');
  });

  it('refuses one from a custom ids function too', async () => {
    const engine = createEngine({ executors: [step], ids: () => 'a.b' });
    await expect(engine.start(flow)).rejects.toMatchObject({ code: 'USAGE' });
  });
});
