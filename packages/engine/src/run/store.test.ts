import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from './events.js';
import { createEngine } from './engine.js';
import { SlotMap } from './slot-map.js';
import { EdgeSet } from './state.js';
import { MemoryStore, type RunRecord } from './store.js';

function record(runId: string): RunRecord {
  return { runId, flowName: 'f', flowHash: 'h', flowText: '{}', startedAt: 1, status: 'running' };
}

const started = (runId: string): RunEvent => ({ type: 'run.started', runId, at: 1, flow: { name: 'f', hash: 'h' }, params: {}, trigger: {} });

describe('MemoryStore', () => {
  it('keeps the last keepFinished finished runs, forgets the oldest first, and always keeps unfinished ones', () => {
    // Each step starts a run or finishes one of the unfinished runs; what is kept must be every
    // unfinished run and the last `keep` finished ones, in the order they finished.
    const steps = fc.array(fc.oneof(fc.constant('start' as const), fc.nat(50)), { maxLength: 120, size: 'max' });
    fc.assert(
      fc.property(fc.nat(6), steps, (keep, plan) => {
        const store = new MemoryStore({ keepFinished: keep });
        const unfinished: string[] = [];
        const finished: string[] = [];
        let next = 0;
        for (const step of plan) {
          if (step === 'start') {
            const id = `r${next++}`;
            store.createRun(record(id), [started(id)]);
            unfinished.push(id);
          } else if (unfinished.length > 0) {
            const [id] = unfinished.splice(step % unfinished.length, 1);
            store.setStatus(id!, 'succeeded', 2);
            finished.push(id!);
          }
        }
        const kept = store.listRuns().map((r) => r.runId).sort();
        const expected = [...unfinished, ...finished.slice(Math.max(0, finished.length - keep))].sort();
        expect(kept).toEqual(expected);
      }),
    );
  });

  it('forgets a run as it finishes with keepFinished 0, keeps every one with Infinity, refuses anything else', () => {
    const none = new MemoryStore({ keepFinished: 0 });
    none.createRun(record('a'), [started('a')]);
    none.setStatus('a', 'failed', 2);
    expect(none.getRun('a')).toBeUndefined();
    expect(none.events('a')).toEqual([]);

    const all = new MemoryStore({ keepFinished: Infinity });
    for (let i = 0; i < 50; i++) {
      all.createRun(record(`r${i}`));
      all.setStatus(`r${i}`, 'succeeded', 2);
    }
    expect(all.listRuns()).toHaveLength(50);

    for (const bad of [-1, 1.5, Number.NaN, '3']) {
      expect(() => new MemoryStore({ keepFinished: bad as number })).toThrow(/expected keepFinished to be an integer ≥ 0 \(or Infinity\)/);
      expect(() => new MemoryStore({ keepFinished: bad as number })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', retryable: false }));
    }
  });

  it('keeps its own copy of a record and of the events, not the arrays it is handed', () => {
    const store = new MemoryStore();
    const given = record('a');
    const first = [started('a')];
    store.createRun(given, first);
    first.length = 0;
    // A caller may hand its events through one array, emptied and refilled.
    const reused: RunEvent[] = [];
    for (const nodeId of ['x', 'y']) {
      reused[0] = { type: 'node.started', runId: 'a', at: 2, nodeId, attempt: 1, input: {} };
      store.append(reused);
    }
    reused.length = 0;
    store.setStatus('a', 'succeeded', 3);
    expect(store.events('a').map((e) => (e.type === 'node.started' ? e.nodeId : e.type))).toEqual(['run.started', 'x', 'y']);
    expect(store.getRun('a')).toMatchObject({ runId: 'a', status: 'succeeded', finishedAt: 3 });
    expect(given.status).toBe('running');
    expect(() => store.createRun(record('a'))).toThrow(/exists already/);
  });
});

describe('EdgeSet', () => {
  it('holds exactly the edges added, in index order, from empty and across growth', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5000), { maxLength: 200, size: 'max' }), (edges) => {
        const set = new EdgeSet();
        for (const edge of edges) set.add(edge);
        const unique = [...new Set(edges)].sort((a, b) => a - b);
        expect([...set]).toEqual(unique);
        expect(set.size).toBe(unique.length);
        for (const edge of unique) expect(set.has(edge)).toBe(true);
        expect(set.has(5001)).toBe(false);
      }),
    );
  });
});

describe('SlotMap', () => {
  it('answers as a Map would, in insertion order, while reusing the slots of deleted keys', () => {
    const op = fc.tuple(fc.constantFrom('set', 'add', 'delete'), fc.nat(12), fc.nat());
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200, size: 'max' }), (ops) => {
        const model = new Map<string, number>();
        const slots = new SlotMap<number>();
        for (const [kind, k, value] of ops) {
          const key = `r${k}`;
          if (kind === 'set') {
            expect(slots.set(key, value)).toBe(slots);
            model.set(key, value);
          } else if (kind === 'add') {
            // Sets a key that is not there; leaves one that is as it was.
            expect(slots.add(key, value)).toBe(!model.has(key));
            if (!model.has(key)) model.set(key, value);
          } else expect(slots.delete(key)).toBe(model.delete(key));
        }
        expect([...slots]).toEqual([...model]);
        expect([...slots.values()]).toEqual([...model.values()]);
        expect(slots.size).toBe(model.size);
        for (let k = 0; k <= 12; k++) {
          expect(slots.has(`r${k}`)).toBe(model.has(`r${k}`));
          expect(slots.get(`r${k}`)).toBe(model.get(`r${k}`));
        }
      }),
    );
  });
});

describe('the engine and the memory store', () => {
  const step = { type: 'step', run: async () => ({ output: {} }) };
  const flow = { name: 'two', nodes: ['a', 'b'].map((id) => ({ id, type: 'step', data: {} })), edges: [{ from: 'a', to: 'b' }] };

  // The engine skips the array for the built-in store's own append; a replaced one (a subclass
  // that observes the journal, a spy) must still see every event, in order.
  it.each([
    ['a subclass', () => new (class extends MemoryStore {
      seen: string[] = [];
      override append(events: readonly RunEvent[]): void {
        for (const e of events) this.seen.push(e.type);
        super.append(events);
      }
    })()],
    ['an instance whose append was replaced', () => {
      const store = Object.assign(new MemoryStore(), { seen: [] as string[] });
      const append = store.append.bind(store);
      store.append = (events) => {
        for (const e of events) store.seen.push(e.type);
        append(events);
      };
      return store;
    }],
  ])('calls the append of %s with every event', async (_, make) => {
    const store = make();
    const engine = createEngine({ store, executors: [step] });
    const run = await engine.start(flow);
    expect((await run.finished).status).toBe('succeeded');
    const journal = store.events(run.id).map((e) => e.type);
    expect(journal).toEqual(['run.started', 'node.started', 'node.succeeded', 'node.started', 'node.succeeded', 'run.finished']);
    // run.started comes with the run's creation; every later event through append.
    expect(store.seen).toEqual(journal.slice(1));
  });
  it('refuses a run id that is running, and the run that has it goes on untouched', async () => {
    let release: (() => void) | undefined;
    const hold = { type: 'hold', run: () => new Promise<{ output: object }>((resolve) => (release = () => resolve({ output: {} }))) };
    const store = new MemoryStore();
    const engine = createEngine({ store, executors: [hold] });
    const held = { name: 'held', nodes: [{ id: 'h', type: 'hold', data: {} }], edges: [] };
    const first = await engine.start(held, { runId: 'same' });
    const other = { ...held, name: 'other' };
    await expect(engine.start(other, { runId: 'same' })).rejects.toMatchObject({ code: 'STORE_CONFLICT', message: expect.stringContaining('running already') });
    await expect(engine.start(other, { runId: 'same' })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    release!();
    expect((await first.finished).status).toBe('succeeded');
    expect(store.events('same').map((e) => e.type)).toEqual(['run.started', 'node.started', 'node.succeeded', 'run.finished']);
    expect(store.getRun('same')?.flowName).toBe('held');
  });
});
