/**
 * DESIGN §12, schedules, for real: a schedule every second for five seconds, served by `gantry
 * serve` (the built CLI, a child process) that is killed with SIGKILL after its second run and
 * started again a moment later, makes five runs: the due time that passed while no server ran is
 * caught up (catch_up: all), none is lost and none is run twice. `gantry schedules` says what the
 * store holds.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '@gantry/store-sqlite';
import { BIN, exited, startServe, type ServeProcess } from './serve-process.js';

const dirs: string[] = [];
const servers: ServeProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

/** The scheduled runs in the store, by id, with their trigger and how often each started. */
function scheduledRuns(dir: string) {
  const store = openSqliteStore(join(dir, '.gantry', 'gantry.db'), { mode: 'read' });
  try {
    return store
      .listRuns({ parentRunId: null })
      .filter((r) => r.runId.startsWith('schedule-'))
      .map((r) => {
        const events = store.events(r.runId);
        const started = events.filter((e) => e.type === 'run.started');
        return { id: r.runId, status: r.status, starts: started.length, trigger: started[0]?.type === 'run.started' ? (started[0].trigger as Record<string, unknown>) : undefined };
      })
      .sort((a, b) => a.id.localeCompare(b.id));
  } finally {
    store.close();
  }
}

describe('schedules on gantry serve', () => {
  it('every second for five seconds: five runs across a SIGKILL and a restart, none lost, none twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-schedules-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'flows'));
    // Far enough ahead for the first server to be listening on a loaded machine; had it not, the
    // due times since start_at would be caught up all the same.
    const t0 = Math.ceil(Date.now() / 1000) * 1000 + 4000;
    const iso = (t: number) => new Date(t).toISOString();
    writeFileSync(
      join(dir, 'flows', 'tick.json'),
      JSON.stringify({
        name: 'Tick',
        nodes: [
          { id: 'every_second', type: 'schedule', data: { interval: 1, catch_up: 'all', start_at: iso(t0), end_at: iso(t0 + 4000) } },
          { id: 'pause', type: 'wait', data: { seconds: 0 } },
        ],
        edges: [{ from: 'every_second', to: 'pause' }],
      }),
    );
    writeFileSync(join(dir, 'gantry.config.json'), '{}');
    const dues = [0, 1, 2, 3, 4].map((i) => t0 + i * 1000);
    const prefix = "schedule-tick-every_second-";

    const first = await startServe(dir, {});
    servers.push(first);
    // Killed outright once the second due time has its run.
    for (;;) {
      if (scheduledRuns(dir).length >= 2) break;
      if (Date.now() > t0 + 30_000) throw new Error(`no second run: ${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.process.kill('SIGKILL');
    await exited(first.process);
    const atKill = scheduledRuns(dir).length;
    // Down over the next due time at least: that one passes unattended.
    await sleepUntil(dues[atKill]! + 300);

    const second = await startServe(dir, {});
    servers.push(second);
    for (;;) {
      const runs = scheduledRuns(dir);
      if (runs.length >= 5 && runs.every((r) => r.status === 'succeeded')) break;
      if (Date.now() > dues[4]! + 30_000) throw new Error(`runs: ${JSON.stringify(runs)}\n${second.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A moment past the window's end: nothing more comes.
    await sleepUntil(dues[4]! + 1500);
    const runs = scheduledRuns(dir);
    expect(runs.map((r) => r.trigger?.scheduled_at)).toEqual(dues.map(iso));
    expect(runs.every((r) => r.id.startsWith(prefix) && r.starts === 1 && r.status === 'succeeded')).toBe(true);
    expect(runs.map((r) => r.id.slice(-16))).toEqual(dues.map((t) => iso(t).replace(/[-:]/g, '').replace('.000Z', 'Z')));
    // The due time that passed while no server ran was caught up by the second one.
    expect(runs[atKill]!.trigger).toMatchObject({ schedule: 'every_second', caught_up: true });
    expect(runs.slice(0, atKill).every((r) => r.trigger?.caught_up === undefined)).toBe(true);

    await second.stop();
    const listed = spawnSync(process.execPath, [BIN, 'schedules', '--json'], { cwd: dir, encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      {
        flow: 'Tick',
        node: 'every_second',
        schedule: `every 1 s from ${iso(t0)} until ${iso(t0 + 4000)}`,
        catch_up: 'all',
        next: null,
        last_run: { run_id: runs[4]!.id, due: iso(dues[4]!), status: 'succeeded', missed_since: 0 },
      },
    ]);
  }, 90_000);
});
