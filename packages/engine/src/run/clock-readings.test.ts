import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { createEngine } from './engine.js';
import type { RunEvent } from './events.js';

/** `s`'s only edge is never taken, so `f` is skipped and then `g`, in one cascade in which no executor runs. */
const SKIPS = {
  name: 'skips',
  nodes: [
    { id: 's', type: 'step', data: {} },
    { id: 'f', type: 'step', data: {} },
    { id: 'g', type: 'step', data: {} },
  ],
  edges: [
    { from: 's', to: 'f', condition: '{% false %}' },
    { from: 'f', to: 'g' },
  ],
};

/** An engine on a clock that moves on by 1 ms at each reading, so that every reading is told apart. */
function setup() {
  let time = Date.UTC(2026, 0, 1);
  const clock: Clock = { now: () => time++, at: () => () => {} };
  const engine = createEngine({ clock, executors: [{ type: 'step', run: async () => ({ output: {} }) }] });
  const skippedAt = (events: readonly RunEvent[], nodeId: string) => events.find((e) => e.type === 'node.skipped' && e.nodeId === nodeId)!.at;
  return { engine, skippedAt, later: (ms: number) => (time += ms) };
}

describe('the clock readings of a cascade', () => {
  it('share one reading while only the engine runs', async () => {
    const { engine, skippedAt } = setup();
    const run = await engine.start(SKIPS);
    expect((await run.finished).status).toBe('succeeded');
    const events = engine.options.store.events(run.id);
    expect(skippedAt(events, 'g')).toBe(skippedAt(events, 'f'));
  });

  it('read the clock afresh after a listener ran, as it may have taken time', async () => {
    const { engine, skippedAt, later } = setup();
    engine.on('node.skipped', (e) => {
      if (e.nodeId === 'f') later(5000);
    });
    const run = await engine.start(SKIPS);
    await run.finished;
    const events = engine.options.store.events(run.id);
    expect(skippedAt(events, 'g') - skippedAt(events, 'f')).toBeGreaterThan(5000);
  });

  it('read it afresh also when the listener that ran unsubscribed itself, the last one', async () => {
    const { engine, skippedAt, later } = setup();
    const off = engine.on('node.skipped', (e) => {
      if (e.nodeId !== 'f') return;
      later(5000);
      off();
    });
    const run = await engine.start(SKIPS);
    await run.finished;
    const events = engine.options.store.events(run.id);
    expect(skippedAt(events, 'g') - skippedAt(events, 'f')).toBeGreaterThan(5000);
  });
});
