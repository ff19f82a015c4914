/**
 * All time a run can reach goes through the engine's clock: the shipped pipeline, with the local
 * agent pack doing real work, runs on a time-skipping clock (test/support/skipping-clock.mjs) and
 * its five 300 s bakes take no real time. The engine and the pack run in a child process on the
 * built packages (build first: `npx tsc -b`), in a fresh folder.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLES, Folder, ROOT, survivors, type Finished } from './support.js';

const DRIVER = join(ROOT, 'test/deploy/fast-clock-driver.mjs');

interface Report {
  status: string;
  error: { message: string } | null;
  realMs: number;
  skippedMs: number;
  bakes: { runId: string; nodeId: string; ms: number }[];
  fired: number;
  windows: { runId: string; requests: number; error_rate_percent: number }[];
  shortWaits: number;
}

const folders: Folder[] = [];
afterEach(() => {
  for (const f of folders.splice(0)) f.remove();
});

function drive(folder: Folder, trigger: string): Promise<Finished> {
  if (!existsSync(join(ROOT, 'packages/cli/dist/setup.js'))) throw new Error('the packages are not built: npx tsc -b first');
  const started = Date.now();
  // 40 requests of evidence per step (10 by default): each metrics check waits for traffic, a
  // second or so of it, on the engine's clock.
  const env = { PATH: process.env.PATH ?? '', HOME: folder.dir, NO_COLOR: '1', GANTRY_LOCAL_MIN_REQUESTS: '40', ...folder.env };
  const child = spawn(process.execPath, [DRIVER, trigger], { cwd: folder.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

describe('the complete deployment pipeline on a time-skipping clock', () => {
  it('bakes 300 s at each of the five traffic steps in seconds of real time, the pack\'s own waits included', { timeout: 180_000 }, async () => {
    const folder = new Folder();
    folders.push(folder);
    const finished = await drive(folder, join(EXAMPLES, 'release.json'));
    expect(finished.code, `${finished.stderr}\n${finished.stdout}`).toBe(0);
    const report = JSON.parse(finished.stdout.trim().split('\n').at(-1)!) as Report;
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'succeeded' });

    // The journal holds every bake at its full length (the clock runs in real time while the wait
    // is set: its timer.set may be stamped a few ms after the wait read the clock), each timer fired...
    expect(report.bakes.map((b) => `${b.nodeId} ${Math.round(b.ms / 1000)} s`)).toEqual(Array(5).fill('bake 300 s'));
    expect(report.fired).toBe(5);
    // ...and the clock skipped them, while the work between them took real time.
    expect(report.skippedMs).toBeGreaterThan(5 * 300_000 - report.realMs);
    expect(report.realMs).toBeLessThan(120_000);
    // check_deployment_metrics waited for real traffic to judge green by, on the engine's clock.
    expect(report.windows).toHaveLength(5);
    for (const window of report.windows) expect(window).toMatchObject({ requests: expect.any(Number), error_rate_percent: 0 });
    expect(Math.min(...report.windows.map((w) => w.requests))).toBeGreaterThanOrEqual(40);
    expect(report.shortWaits).toBeGreaterThan(0);

    expect(await survivors(folder.pids())).toEqual([]);
  });
});
