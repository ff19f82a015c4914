import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { createEngine } from './engine.js';

describe('createEngine options, validated once', () => {
  it('refuses an unknown option, naming it, suggesting the near one and listing the known', () => {
    expect(() => createEngine({ concurency: 3 } as never)).toThrow(/createEngine: unknown option "concurency" — did you mean "concurrency"\? \(expected one of store, executors, .*notifier\)/);
    expect(() => createEngine({ executor: [] } as never)).toThrow(/unknown option "executor" — did you mean "executors"/);
  });

  it('says what was expected and what was found for a wrong type', () => {
    expect(() => createEngine({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => createEngine({ executors: {} as never })).toThrow(/executors/);
    expect(() => createEngine({ notifier: 'slack' as never })).toThrow(/notifier/);
  });

  it('takes every documented option', () => {
    expect(() => createEngine({ concurrency: 2, executors: [], functions: {}, agents: {}, connectors: [], principals: {}, random: Math.random, ids: () => 'x' })).not.toThrow();
  });

  it('makes time-ordered run ids from the clock, also when called without the start time', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const engine = createEngine({ clock, executors: [{ type: 'step', run: async () => ({ output: {} }) }] });
    const run = await engine.start({ name: 'one', nodes: [{ id: 'a', type: 'step', data: {} }], edges: [] });
    expect(run.id).toMatch(/^20260101-120000-[0-9a-f]{6}$/);
    const next = engine.options.ids();
    expect(next).toMatch(/^20260101-120000-[0-9a-f]{6}$/);
    expect(next > run.id).toBe(true);
  });
});
