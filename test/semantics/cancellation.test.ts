/**
 * DESIGN §3.4 (last paragraph) Cancellation: cancelling aborts every running executor through
 * its AbortSignal and the run ends `cancelled`; every node still ends terminal, and nothing runs
 * or is recorded for a node after the run finished.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GantryError, type JsonObject, type RunEvent } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { eventsOf, expectInvariants, expectRunInvariants, finish, flow, harness, probe, statuses, untilAborted, until, storedRecord, type Harness, type HarnessOptions } from './harness.js';

interface CancelRow {
  readonly name: string;
  readonly flow: object;
  readonly harness?: (signals: AbortSignal[]) => HarnessOptions;
  /** Milliseconds after the start at which the run is cancelled. */
  readonly cancelAt: number;
  readonly viaEngine?: boolean;
  /** How many executor signals must have been seen (and aborted) by then. */
  readonly signals: number;
  readonly check?: (ctx: { h: Harness; runId: string; events: RunEvent[]; signals: AbortSignal[] }) => void | Promise<void>;
}

/** Signals the probe saw plus the ones the row's agents, functions and connectors saw. */
async function checkCancel(row: CancelRow): Promise<void> {
  const extra: AbortSignal[] = [];
  const h = harness(row.harness?.(extra));
  const run = await h.start(row.flow);
  const t0 = run.state().startedAt;
  await h.clock.advance(row.cancelAt);
  expect(run.status(), 'the run is still going when it is cancelled').toMatch(/^(running|waiting)$/);
  const signals = [...h.calls.map((c) => c.signal), ...extra];
  expect(signals.length, 'executors running when cancelled').toBe(row.signals);
  expect(signals.some((s) => s.aborted)).toBe(false);
  if (row.viaEngine) await h.engine.cancel(run.id);
  else run.cancel();
  const result = await finish(h.clock, run);
  expect(result.status).toBe('cancelled');
  for (const signal of signals) {
    expect(signal.aborted).toBe(true);
    expect((signal.reason as GantryError).code).toBe('CANCELLED');
  }
  const events = h.events.filter((e) => e.runId === run.id);
  const finished = eventsOf(events, 'run.finished');
  expect(finished.map((e) => [e.status, e.at - t0])).toEqual([['cancelled', row.cancelAt]]);
  // Time goes on: nothing more happens to the run.
  const count = events.length;
  await h.clock.advance(7 * 24 * 3_600_000);
  expect(h.events.filter((e) => e.runId === run.id).length).toBe(count);
  expect(Object.values(statuses(run)).every((s) => ['succeeded', 'failed', 'skipped'].includes(s))).toBe(true);
  await row.check?.({ h, runId: run.id, events, signals });
  expectInvariants({ run, result, events, journal: await h.engine.options.store.events(run.id) });
}

const rows: CancelRow[] = [
  {
    name: 'two running nodes are both aborted; the pending node after them is skipped',
    flow: flow([probe('a', { hang: true }), probe('b', { hang: true }), probe('after')], [{ from: 'a', to: 'after' }, { from: 'b', to: 'after' }]),
    cancelAt: 1_000,
    signals: 2,
    check: ({ h }) => expect(h.calls.map((c) => c.nodeId)).toEqual(['a', 'b']),
  },
  {
    name: 'every kind of running executor hears the abort: probe, agent, parallel agents, function, connector',
    flow: flow([
      probe('p', { hang: true }),
      { id: 'ag', type: 'agent', data: { agent: 'slow', task: 'work' } },
      { id: 'par', type: 'parallel', data: { agents: [{ agent: 'slow', task: 'one' }, { agent: 'slow2', task: 'two' }] } },
      { id: 'fn', type: 'function', data: { function: 'slow_fn' } },
      { id: 'api', type: 'external_api', data: { service: 'svc', action: 'hang' } },
    ]),
    harness: (signals) => {
      const slow = moduleAgent((_inputs, _task, signal) => {
        signals.push(signal);
        return untilAborted(signal);
      });
      // One agent under two names: a parallel node lists each agent once (DUPLICATE_AGENT).
      return {
        agents: { slow, slow2: slow },
        functions: {
          slow_fn: (_input, _params, ctx) => {
            signals.push(ctx.signal);
            return untilAborted(ctx.signal);
          },
        },
        connectors: [
          {
            service: 'svc',
            call: (_action, _params, ctx) => {
              signals.push(ctx.signal);
              return untilAborted(ctx.signal);
            },
          },
        ],
      };
    },
    cancelAt: 500,
    signals: 6,
  },
  {
    name: 'cancelled through engine.cancel(runId)',
    flow: flow([probe('a', { hang: true })]),
    cancelAt: 10,
    viaEngine: true,
    signals: 1,
  },
  {
    name: 'a node sleeping on a wait timer is aborted and its timer never fires',
    flow: flow([{ id: 'bake', type: 'wait', data: { seconds: 600 } }, probe('after')], [{ from: 'bake', to: 'after' }]),
    cancelAt: 60_000,
    signals: 0,
    check: ({ events, h }) => {
      expect(eventsOf(events, 'timer.fired')).toEqual([]);
      expect(h.calls).toEqual([]);
    },
  },
  {
    name: 'a node waiting between retries is not attempted again',
    flow: flow([probe('flaky', { fail: { retryable: true } }, { retry: { max_attempts: 5, backoff: 'fixed', initial_seconds: 10, jitter: false } })]),
    cancelAt: 5_000,
    signals: 1,
    check: ({ h, events }) => {
      expect(h.calls).toHaveLength(1);
      expect(eventsOf(events, 'timer.fired')).toEqual([]);
    },
  },
  {
    name: 'the items of a for_each in flight are aborted and no later item starts',
    flow: flow([probe('each', { hang: true }, { for_each: [1, 2, 3, 4], concurrency: 2 })]),
    cancelAt: 100,
    signals: 2,
    check: ({ h }) => expect(h.calls.map((c) => c.item?.index)).toEqual([0, 1]),
  },
  {
    name: 'a result that arrives after the cancel is ignored and its successor never starts',
    flow: flow([probe('stubborn'), probe('after')], [{ from: 'stubborn', to: 'after' }]),
    harness: () => ({
      behaviours: {
        stubborn: async (ctx) => {
          // Ignores its signal and answers later anyway.
          await new Promise<void>((resolve) => ctx.clock.at(ctx.clock.now() + 5_000, resolve));
          return { done: true };
        },
      },
    }),
    cancelAt: 1_000,
    signals: 1,
    check: ({ events, h }) => {
      expect(eventsOf(events, 'node.succeeded')).toEqual([]);
      expect(h.calls.map((c) => c.nodeId)).toEqual(['stubborn']);
    },
  },
];

describe('DESIGN §3.4 cancellation', () => {
  for (const row of rows) it(row.name, () => checkCancel(row));

  it('a run waiting for an approval is cancelled; a decision afterwards is refused and the deadline never fires', async () => {
    const h = harness();
    const run = await h.start(flow([{ id: 'approve', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 60 } }, probe('deploy')], [{ from: 'approve', to: 'deploy' }]));
    await h.clock.advance(1_000);
    expect(run.status()).toBe('waiting');
    run.cancel();
    const result = await finish(h.clock, run);
    expect(result.status).toBe('cancelled');
    expect(statuses(run)).toEqual({ approve: 'skipped', deploy: 'skipped' });
    expect(() => run.decide('approve', { principal: 'tech-lead', decision: 'approve' })).toThrow(expect.objectContaining({ code: 'APPROVAL_NOT_WAITING' }));
    await h.clock.advance(120_000);
    expect(eventsOf(h.events, 'timer.fired')).toEqual([]);
    expect(h.calls).toEqual([]);
    await expectRunInvariants(h, run, result);
  });

  it('cancelling a parent cancels its running sub-flow, whose executors are aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-semantics-'));
    const child = join(dir, 'child.json');
    writeFileSync(child, JSON.stringify({ name: 'child', nodes: [{ id: 'inner', type: 'probe', data: { hang: true } }] }));
    // A flow built in code takes its references from the engine's flows folder.
    const h = harness({ flowsFolder: dir });
    const run = await h.start(flow([{ id: 'sub', type: 'subflow', data: { flow: 'child.json' } }]));
    await until(h.clock, () => h.calls.some((c) => c.nodeId === 'inner'), 'the sub-flow starting');
    await h.clock.advance(1_000);
    const inner = h.calls.find((c) => c.nodeId === 'inner');
    expect(inner?.signal.aborted).toBe(false);
    run.cancel();
    const result = await finish(h.clock, run);
    await h.clock.advance(0);
    expect(result.status).toBe('cancelled');
    expect(inner?.signal.aborted).toBe(true);
    const childFinished = h.events.find((e): e is Extract<RunEvent, { type: 'run.finished' }> => e.type === 'run.finished' && e.runId === `${run.id}.sub`);
    expect(childFinished?.status).toBe('cancelled');
    expect((await storedRecord(h, `${run.id}.sub`))?.status).toBe('cancelled');
    await expectRunInvariants(h, run, result);
    const journal = await h.engine.options.store.events(`${run.id}.sub`);
    expect(eventsOf(journal, 'node.skipped').map((e) => [e.nodeId, e.reason])).toEqual([['inner', 'aborted']]);
  });

  it('cancelling a finished run changes nothing; cancelling twice records one run.finished', async () => {
    const h = harness();
    const done = await h.run(flow([probe('a')]));
    done.run.cancel();
    expect(done.run.status()).toBe('succeeded');
    await expect(h.engine.cancel(done.run.id)).rejects.toThrow(expect.objectContaining({ code: 'RUN_FINISHED' }));

    const run = await h.start(flow([probe('b', { hang: true })]));
    await h.clock.advance(10);
    run.cancel();
    run.cancel();
    await expectRunInvariants(h, run, await finish(h.clock, run));
    expect(eventsOf(h.events, 'run.finished').filter((e) => e.runId === run.id).map((e) => e.status)).toEqual(['cancelled']);
    const skipped: JsonObject[] = eventsOf(h.events, 'node.skipped', 'b').map((e) => ({ reason: e.reason }));
    expect(skipped).toEqual([{ reason: 'aborted' }]);
  });
});
