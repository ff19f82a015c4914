import { describe, expect, it } from 'vitest';
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
});
