/**
 * Issue 15, item 2: a run whose resumption kills the process must not keep a server down for
 * ever. Real processes, a real SQLite store: a registered function kills its process
 * (SIGKILL, or abort()) for one input; `gantry serve` (or `gantry resume`) started again and
 * again in that folder dies a few times, then ends that run `failed` with CRASH_LOOP and goes
 * on — the server listens and answers /health — with the folder's other runs as they were.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '@gantry/store-sqlite';
import type { RunEvent } from '@gantry/engine';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const SURVIVAL_MS = 1_500;
const TOKEN = 'lead-token-for-the-runs-api';

const FUNCTIONS = `export function work(input) {
  if (input.mode === 'sigkill') process.kill(process.pid, 'SIGKILL');
  if (input.mode === 'abort') process.abort();
  if (input.mode === 'slow') return new Promise((resolve) => setTimeout(() => resolve({ slow: true }), 600000));
  return { done: input.mode };
}
`;
const WORK = { name: 'work', nodes: [{ id: 'hook', type: 'webhook', data: {} }, { id: 'work', type: 'function', data: { function: 'work' } }], edges: [{ from: 'hook', to: 'work' }] };
const APPROVAL = {
  name: 'approval',
  nodes: [{ id: 'hook', type: 'webhook', data: {} }, { id: 'approve', type: 'human_approval', data: { approvers: ['lead'], timeout: 86400 } }],
  edges: [{ from: 'hook', to: 'approve' }],
};

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -b)`);
});

/** A folder with the flows, the function module and a configuration with a short survival time. */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-crash-loop-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'work.json'), JSON.stringify(WORK));
  writeFileSync(join(dir, 'flows', 'approval.json'), JSON.stringify(APPROVAL));
  writeFileSync(join(dir, 'fns.mjs'), FUNCTIONS);
  const config = {
    functions: { work: { module: './fns.mjs' } },
    crash_loop: { survival_ms: SURVIVAL_MS },
    principals: { lead: { roles: ['lead'], token_sha256: createHash('sha256').update(TOKEN).digest('hex') } },
  };
  writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify(config));
  for (const mode of ['ok', 'slow', 'sigkill', 'abort']) writeFileSync(join(dir, `${mode}.json`), JSON.stringify({ mode }));
  return dir;
}

function gantry(dir: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `gantry run … --json` and kills it (SIGKILL) once node `work` has started: a run left running. */
function runKilledMidNode(dir: string, input: string): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', 'flows/work.json', '--input', input, '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let runId: string | undefined;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const started = out.split('\n').find((l) => l.includes('"node.started"') && l.includes('"work"'));
      if (started && runId === undefined) {
        runId = (JSON.parse(started) as RunEvent).runId;
        child.kill('SIGKILL');
      }
    });
    // Dead and reaped: its pid no longer holds the store's lock.
    child.on('close', (code) => (runId === undefined ? reject(new Error(`gantry run ended (${code}) before node work started:\n${out}`)) : resolveRun(runId)));
  });
}

interface Start {
  /** How the process ended, if it did within the wait. */
  readonly ended?: { code: number | null; signal: NodeJS.Signals | null };
  readonly url?: string;
  readonly proc: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** Starts `gantry serve` and resolves when it has died, or has listened and lived `liveMs` since. */
function serve(dir: string, liveMs: number): Promise<Start> {
  return new Promise((resolveStart) => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let out = '';
    let err = '';
    let url: string | undefined;
    const view = { proc, stdout: () => out, stderr: () => err };
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match && url === undefined) {
        url = match[1]!;
        setTimeout(() => resolveStart({ ...view, url }), liveMs);
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    proc.on('close', (code, signal) => resolveStart({ ...view, ended: { code, signal }, ...(url ? { url } : {}) }));
  });
}

function stored(dir: string) {
  const store = openSqliteStore(join(dir, '.gantry', 'gantry.db'), { mode: 'read' });
  try {
    const all = store.listRuns();
    const runs = new Map(all.map((r) => [r.runId, { status: r.status, events: store.events(r.runId) }]));
    const counts = new Map(all.map((r) => [r.runId, store.resumptions(r.runId)?.count ?? 0]));
    return { runs, counts };
  } finally {
    store.close();
  }
}

describe('a run that crashes the process whenever it is carried on', () => {
  it('gantry serve dies three times, then ends it failed (CRASH_LOOP), listens, and leaves the other runs as they were', { timeout: 120_000 }, async () => {
    const dir = folder();
    // The folder's other runs: one finished, one waiting for a human, one left in a long node.
    const done = gantry(dir, ['run', 'flows/work.json', '--input', 'ok.json', '--json']);
    expect(done.code, done.stderr).toBe(0);
    const waiting = gantry(dir, ['run', 'flows/approval.json', '--json']);
    expect(waiting.code, waiting.stderr).toBe(4);
    const slow = await runKilledMidNode(dir, 'slow.json');
    // The poisoned run: its first process dies in node work.
    const poisoned = gantry(dir, ['run', 'flows/work.json', '--input', 'sigkill.json', '--json']);
    expect(poisoned.signal, poisoned.stdout + poisoned.stderr).toBe('SIGKILL');
    const before = stored(dir);
    const poisonId = [...before.runs].find(([, r]) => r.status === 'running' && r.events.some((e) => e.type === 'run.started' && (e.trigger as { mode?: string }).mode === 'sigkill'))![0];
    const finished = [...before.runs].filter(([, r]) => r.status !== 'running' && r.status !== 'waiting');
    expect(finished).toHaveLength(1);
    const waitingId = [...before.runs].find(([, r]) => r.status === 'waiting')![0];

    const deaths: string[] = [];
    let up: Start | undefined;
    for (let start = 1; start <= 6 && up === undefined; start++) {
      // Lives long enough after listening for a held suspect to be let go and to kill it.
      const s = await serve(dir, SURVIVAL_MS * 5);
      if (s.ended === undefined) up = s;
      else deaths.push(`${s.ended.signal ?? s.ended.code}${s.url ? ' after listening' : ''}`);
    }
    expect(deaths).toHaveLength(3);
    expect(deaths.every((d) => d.startsWith('SIGKILL')), deaths.join(', ')).toBe(true);
    expect(up, 'a fourth gantry serve stays up').toBeDefined();
    const health = await fetch(`${up!.url}/health`);
    expect(health.status).toBe(200);
    const answer = await fetch(`${up!.url}/runs/${poisonId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const run = (await answer.json()) as { status: string; error?: { code: string; message: string } };
    expect(answer.status, JSON.stringify(run)).toBe(200);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('CRASH_LOOP');
    expect(run.error?.message).toMatch(/carrying it on crashed the process 3 times in a row \(running: node "work"\)/);
    expect(up!.stderr()).toContain('CRASH_LOOP');

    // Stopped in good order: the slow run's resumption in this process is taken back.
    up!.proc.kill('SIGTERM');
    await new Promise((r) => up!.proc.once('close', r));
    expect(up!.proc.exitCode).toBe(0);
    const after = stored(dir);
    expect(after.runs.get(poisonId)?.status).toBe('failed');
    expect(after.runs.get(slow)?.status).toBe('running');
    expect(after.runs.get(slow)?.events.filter((e) => e.type === 'node.started').length).toBeGreaterThan(1);
    expect(after.counts.get(slow)).toBeLessThan(3);
    for (const [id, r] of finished) expect(after.runs.get(id), id).toEqual(r);
    expect(after.runs.get(waitingId)?.status).toBe('waiting');
    expect(after.runs.get(waitingId)?.events.some((e) => e.type === 'node.failed' || e.type === 'run.finished')).toBe(false);
    expect(after.counts.get(waitingId)).toBe(0);
  });

  it('gantry resume dies three times (abort()), then ends it failed and carries the other runs on', { timeout: 120_000 }, async () => {
    const dir = folder();
    const poisoned = gantry(dir, ['run', 'flows/work.json', '--input', 'abort.json', '--json']);
    expect(poisoned.signal).toBe('SIGABRT');
    const waiting = gantry(dir, ['run', 'flows/approval.json', '--json']);
    expect(waiting.code).toBe(4);
    const outcomes: string[] = [];
    let last: ReturnType<typeof gantry> | undefined;
    for (let i = 0; i < 4; i++) {
      last = gantry(dir, ['resume', '--json']);
      outcomes.push(String(last.signal ?? last.code));
    }
    expect(outcomes).toEqual(['SIGABRT', 'SIGABRT', 'SIGABRT', '1']);
    const events = last!.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
    const end = events.find((e) => e.type === 'run.finished' && e.status === 'failed') as Extract<RunEvent, { type: 'run.finished' }>;
    expect(end.error).toMatchObject({ code: 'CRASH_LOOP', nodeId: 'work' });
    // The waiting run was carried on beside it, and waits still; a fifth resume has nothing to set aside.
    expect(events.some((e) => e.type === 'run.waiting')).toBe(true);
    const fifth = gantry(dir, ['resume']);
    expect(fifth.code, fifth.stderr).toBe(4);
  });
});
