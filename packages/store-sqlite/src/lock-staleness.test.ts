/**
 * A lock file left behind never blocks a store for ever, and a live owner's lock is never taken:
 * empty or garbage files, dead and zombie owners, owners on another host or in another pid
 * namespace (another container), each with real processes where a process is involved.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_MS, STALE_MS } from './lock-owner.js';
import { openSqliteStore } from './open.js';
import { DIST, lines, record, runChild, runStarted, tempDir } from './test-kit.js';

const TRY_TO_WRITE = `
const started = Date.now();
try {
  const store = openSqliteStore(args[0]);
  out({ opened: true, runs: store.listRuns().map((r) => r.runId), ms: Date.now() - started });
  store.close();
} catch (error) {
  out({ code: error.code, retryable: error.retryable, message: error.message });
}`;

function lockOf(file: string): { pid: number; hostname: string; token: string; pidNamespace?: string } {
  return JSON.parse(readFileSync(`${file}.lock`, 'utf8')) as never;
}

/** A store with one run, closed: its lock is gone, and the test lays one of its own. */
function storeWithRun(): string {
  const file = join(tempDir(), 'gantry.db');
  const store = openSqliteStore(file);
  store.createRun(record('r1'));
  store.append([runStarted('r1')]);
  store.close();
  return file;
}

async function tryToWrite(file: string): Promise<Record<string, unknown>> {
  const child = await runChild(TRY_TO_WRITE, [file]);
  expect(child.stderr).toBe('');
  return lines(child)[0] as Record<string, unknown>;
}

function age(path: string, ms: number): void {
  const when = new Date(Date.now() - ms);
  utimesSync(path, when, when);
}

describe('a lock file that is not a lock', () => {
  const hour = 3_600_000;
  it.each([
    ['empty', '', 0],
    ['empty, dated an hour ahead (another clock, a copy)', '', -hour],
    ['empty, a day old', '', 24 * hour],
    ['cut short', '{"pid": 12', 0],
    ['garbage', 'GARBAGE\u0000\u0001\u0002', 0],
    ['an object without an owner', '{}', 0],
    ['pid 0, which names no process', JSON.stringify({ pid: 0, hostname: hostname(), startedAt: '', token: 't' }), 0],
  ])('%s: another process takes it over after a moment, with the data kept', async (_name, content, ageMs) => {
    const file = storeWithRun();
    writeFileSync(`${file}.lock`, content);
    age(`${file}.lock`, ageMs as number);
    const answer = await tryToWrite(file);
    expect(answer).toMatchObject({ opened: true, runs: ['r1'] });
    expect(answer.ms as number).toBeLessThan(10_000);
  });

  it('is waited for while its writer fills it: a live owner that wrote it a moment later keeps it', async () => {
    const file = storeWithRun();
    let refused: unknown;
    const holder = await runChild(
      `import { openSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
const fd = openSync(args[0] + '.lock', 'wx');
out({ created: true });
setTimeout(() => {
  writeSync(fd, JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), token: 'filled-late' }));
  closeSync(fd);
  process.stdin.once('data', () => process.exit(0));
}, 300);`,
      [file],
      (line, child) => {
        if (!line.includes('created')) return;
        // Synchronous: this process watches the empty file while the holder fills it.
        try {
          openSqliteStore(file).close();
        } catch (error) {
          refused = error;
        }
        child.stdin.write('go\n');
      },
    );
    expect(holder.code, holder.stderr).toBe(0);
    expect(refused).toMatchObject({ code: 'STORE_LOCKED', message: expect.stringContaining(`in use by process ${holder.pid} on this host`) });
    expect(lockOf(file).token).toBe('filled-late');
  });

  it('is refused, not removed, when it is a directory', async () => {
    const file = storeWithRun();
    spawnSync('mkdir', [`${file}.lock`]);
    expect(await tryToWrite(file)).toMatchObject({ code: 'STORE_LOCKED', message: expect.stringContaining('is not a lock file (a directory?)') });
    expect(statSync(`${file}.lock`).isDirectory()).toBe(true);
  });
});

describe('an owner that is gone', () => {
  it.skipIf(!statSync('/proc/self/stat', { throwIfNoEntry: false }))('a zombie (dead, not yet reaped by its parent) holds nothing: its lock is taken over', async () => {
    const file = storeWithRun();
    // The holder's parent is `sleep`, which never reaps it: killed, it stays a zombie.
    const script = `import { openSqliteStore } from ${JSON.stringify(pathToFileURL(DIST).href)};
openSqliteStore(process.argv[1]);
process.stdout.write(JSON.stringify({ pid: process.pid }) + '\\n', () => process.kill(process.pid, 'SIGKILL'));`;
    const shell = spawn('sh', ['-c', `"${process.execPath}" --input-type=module -e "$0" "$1" & exec sleep 60`, script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = await new Promise<number>((resolve) => shell.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { pid: number }).pid)));
      for (let i = 0; i < 100 && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toContain(') Z');
      expect(lockOf(file).pid).toBe(pid);
      expect(await tryToWrite(file)).toMatchObject({ opened: true, runs: ['r1'] });
    } finally {
      shell.kill('SIGKILL');
    }
  });
});

describe('an owner whose pid cannot be checked from here', () => {
  it('on another host: refused while its lock is refreshed (retryable, saying when it goes stale), taken over once not refreshed for STALE_MS', async () => {
    const file = storeWithRun();
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 4242, hostname: 'build-agent-7', startedAt: '2030-01-01T00:00:00.000Z', token: 't' }));
    age(`${file}.lock`, 5_000);
    const refused = await tryToWrite(file);
    expect(refused).toMatchObject({ code: 'STORE_LOCKED', retryable: true });
    expect(refused.message).toMatch(
      new RegExp(`in use by process 4242 on host build-agent-7 \\(since 2030-01-01T00:00:00.000Z; its lock was refreshed [4-6] s ago\\)\\. .*a lock not refreshed for ${STALE_MS / 1000} s is taken over\\. If that process has stopped, try again in 1[4-6] s, or delete .*gantry\\.db\\.lock`),
    );
    expect(lockOf(file).token).toBe('t');
    age(`${file}.lock`, STALE_MS + 1_000);
    expect(await tryToWrite(file)).toMatchObject({ opened: true, runs: ['r1'] });
    // A lock dated ahead of this host's clock by more than that is no refresh either.
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 4242, hostname: 'build-agent-7', startedAt: '', token: 't' }));
    age(`${file}.lock`, -(STALE_MS + 60_000));
    expect(await tryToWrite(file)).toMatchObject({ opened: true });
  });

  it('a holder refreshes its lock, and notices when the lock was taken from it: it writes nothing more', async () => {
    const file = storeWithRun();
    const store = openSqliteStore(file);
    age(`${file}.lock`, 10_000);
    const before = statSync(`${file}.lock`).mtimeMs;
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 500));
    expect(statSync(`${file}.lock`).mtimeMs).toBeGreaterThan(before + 5_000);
    writeFileSync(`${file}.lock`, JSON.stringify({ ...lockOf(file), token: 'taken-over' }));
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 500));
    expect(() => store.append([runStarted('r1')])).toThrow(expect.objectContaining({ code: 'STORE_LOCKED', message: expect.stringContaining('was taken over by another process') }));
    expect(store.events('r1')).toHaveLength(1);
    store.close();
    expect(lockOf(file).token).toBe('taken-over');
  });

  const pidNamespaces = spawnSync('unshare', [...(process.getuid?.() === 0 ? [] : ['--map-root-user']), '--pid', '--fork', 'true']).status === 0;
  it.skipIf(!pidNamespaces || !statSync('/proc/self/ns/pid', { throwIfNoEntry: false }))(
    'in another pid namespace on this host (another container): its live lock is kept, and judged by its refreshes once it is gone',
    async () => {
      const file = storeWithRun();
      const script = `import { openSqliteStore } from ${JSON.stringify(pathToFileURL(DIST).href)};
const store = openSqliteStore(process.argv[1]);
process.stdout.write(JSON.stringify({ pid: process.pid }) + '\\n');
setInterval(() => {}, 1000);`;
      const holder = spawn('unshare', [...(process.getuid?.() === 0 ? [] : ['--map-root-user']), '--pid', '--fork', '--kill-child', process.execPath, '--input-type=module', '-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const inside = await new Promise<number>((resolve) => holder.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { pid: number }).pid)));
        // Its pid means something only in its own namespace (1 there: this host's init here).
        expect(inside).toBe(1);
        expect(lockOf(file).pidNamespace).toMatch(/^pid:\[\d+\]$/);
        expect(lockOf(file).pidNamespace).not.toBe(readlinkSync('/proc/self/ns/pid'));
        const refused = await tryToWrite(file);
        expect(refused).toMatchObject({ code: 'STORE_LOCKED', retryable: true });
        expect(refused.message).toMatch(/in use by process 1 in another pid namespace \(another container\?\) on host /);
        holder.kill('SIGKILL');
        await new Promise((r) => holder.once('close', r));
        // Dead, but refreshed a moment ago: still held until it has gone unrefreshed for STALE_MS.
        expect(await tryToWrite(file)).toMatchObject({ code: 'STORE_LOCKED' });
        age(`${file}.lock`, STALE_MS + 1_000);
        expect(await tryToWrite(file)).toMatchObject({ opened: true, runs: ['r1'] });
      } finally {
        holder.kill('SIGKILL');
      }
    },
  );
});
