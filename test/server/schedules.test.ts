/**
 * The server's schedules on the engine's clock (a fake one here): due times start runs whose ids
 * name them; what passed while no server ran is caught up as catch_up says (latest, all, none);
 * a new schedule does not make up for a past it never had; two servers on one store make one run
 * per due time; cron reads its time zone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileFlow, createEngine, FakeClock, scheduledRunId, type RunStore } from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import { createServer, type GantryServer } from '@gantry/server';
import { openSqliteStore, type SqliteStore } from '@gantry/store-sqlite';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const flow = (data: object) => compileFlow({ name: 'Every minute', nodes: [{ id: 'tick', type: 'schedule', data }], edges: [] });

const dirs: string[] = [];
const servers: GantryServer[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const store of stores.splice(0)) store.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sqlite(): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-schedules-'));
  dirs.push(dir);
  const store = openSqliteStore(join(dir, 'gantry.db'));
  stores.push(store);
  return store;
}

async function serveOn(store: RunStore, clock: FakeClock, data: object): Promise<GantryServer> {
  const engine = createEngine({ executors: builtinExecutors, store, clock });
  const server = createServer({ engine, flows: [flow(data)], ui: false });
  servers.push(server);
  await server.listen(0);
  return server;
}

/** The scheduled due times that have a run, in order. */
function due(store: SqliteStore): string[] {
  return store
    .listRuns({})
    .map((r) => (store.events(r.runId)[0] as { trigger: { scheduled_at: string } }).trigger.scheduled_at)
    .sort();
}

const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

describe('schedules on the engine clock', () => {
  it('starts a run at each due time; after a stop, catch_up latest starts the latest due time that passed, all starts each, none skips', async () => {
    for (const [catchUp, expected] of [
      ['latest', [at(1), at(2), at(6), at(7)]],
      ['all', [at(1), at(2), at(3), at(4), at(5), at(6), at(7)]],
      ['none', [at(1), at(2), at(7)]],
    ] as const) {
      const store = sqlite();
      const clock = new FakeClock(T0 + 1000);
      const first = await serveOn(store, clock, { interval: 60, catch_up: catchUp });
      expect(first.schedules).toEqual([{ flow: 'Every minute', node: 'tick', schedule: 'every 60 s', catchUp, next: at(1) }]);
      await clock.advance(2 * MINUTE);
      expect(due(store)).toEqual([at(1), at(2)]);
      await first.close();
      // No server for four due times, then another one starts.
      await clock.advance(T0 + 6 * MINUTE + 30_000 - clock.now());
      const second = await serveOn(store, clock, { interval: 60, catch_up: catchUp });
      await clock.advance(MINUTE);
      expect(due(store), catchUp).toEqual(expected);
      expect(second.schedules[0]!.next).toBe(at(8));
      await second.close();
    }
  });

  it('a new schedule starts from now; one with a start_at in the past catches up from there', async () => {
    const store = sqlite();
    const clock = new FakeClock(T0 + 10 * MINUTE + 1000);
    const server = await serveOn(store, clock, { interval: 60, catch_up: 'all' });
    expect(due(store)).toEqual([]);
    await server.close();
    const since = sqlite();
    await serveOn(since, clock, { interval: 60, catch_up: 'all', start_at: at(8) });
    expect(due(since)).toEqual([at(8), at(9), at(10)]);
  });

  it('at start, finds the schedule\'s last run among its last 100 due times in one read of the store', async () => {
    const store = sqlite();
    const clock = new FakeClock(T0 + 1000);
    const first = await serveOn(store, clock, { interval: 60, catch_up: 'latest' });
    await clock.advance(2 * MINUTE);
    await first.close();
    // 48 due times pass with no server; the next one finds at(2)'s run, 48 due times back.
    await clock.advance(T0 + 50 * MINUTE + 30_000 - clock.now());
    const reads: string[] = [];
    const getRun = store.getRun.bind(store);
    const getRuns = store.getRuns.bind(store);
    store.getRun = (runId) => (reads.push(`getRun ${runId}`), getRun(runId));
    store.getRuns = (runIds) => (reads.push(`getRuns of ${runIds.length}`), getRuns(runIds));
    await serveOn(store, clock, { interval: 60, catch_up: 'latest' });
    // One read for the last run; then the one due time it starts is looked for once, as any start is.
    expect(reads).toEqual(['getRuns of 100', `getRun ${scheduledRunId('Every minute', 'tick', T0 + 50 * MINUTE)}`]);
    expect(due(store)).toEqual([at(1), at(2), at(50)]);
  });

  it('two servers on one store make one run per due time', async () => {
    const store = sqlite();
    const clock = new FakeClock(T0 + 1000);
    await serveOn(store, clock, { interval: 60 });
    await serveOn(store, clock, { interval: 60 });
    await clock.advance(3 * MINUTE);
    expect(due(store)).toEqual([at(1), at(2), at(3)]);
    expect(store.listRuns({}).map((r) => r.runId).sort()).toEqual([1, 2, 3].map((m) => scheduledRunId('Every minute', 'tick', T0 + m * MINUTE)));
    expect(scheduledRunId('Every minute', 'tick', T0 + MINUTE)).toMatch(/^schedule-every-minute-tick-[0-9a-f]{8}-20260101T120100Z$/);
  });

  it('reads a cron expression in its time zone, seconds first when it has six fields', async () => {
    const store = sqlite();
    // 09:30 in Berlin is 08:30 UTC in January.
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 8, 0, 0));
    const server = await serveOn(store, clock, { cron: '30 9 * * *', timezone: 'Europe/Berlin' });
    expect(server.schedules[0]).toMatchObject({ schedule: 'cron 30 9 * * * (Europe/Berlin)', next: '2026-01-01T08:30:00.000Z' });
    await clock.advance(MINUTE * 31);
    expect(due(store)).toEqual(['2026-01-01T08:30:00.000Z']);
    await server.close();
    const seconds = sqlite();
    const every15 = await serveOn(seconds, clock, { cron: '*/15 * * * * *' });
    await clock.advance(45_000);
    expect(due(seconds)).toHaveLength(3);
    expect(every15.schedules[0]!.schedule).toBe('cron */15 * * * * * (UTC)');
  });
});
