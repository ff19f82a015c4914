/**
 * One writer per database file, across processes: the other processes here are real `node`
 * processes opening the store through the built package.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './open.js';
import { lines, nodeStarted, record, runChild, runStarted, sha256, tempDir } from './test-kit.js';

const TRY_TO_WRITE = `
try {
  const store = openSqliteStore(args[0]);
  out({ opened: true });
  store.close();
} catch (error) {
  out({ code: error.code, message: error.message });
}`;

function lockOf(file: string): { pid: number; hostname: string; startedAt: string; token: string } {
  return JSON.parse(readFileSync(`${file}.lock`, 'utf8')) as never;
}

/** A pid that was alive a moment ago and is not any more. */
async function deadPid(): Promise<number> {
  return (await runChild('')).pid;
}

describe('one writer per file', () => {
  it('refuses a second writer in another process with STORE_LOCKED naming the owner, and leaves the file intact', async () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    store.append([runStarted('r1'), nodeStarted('r1', 'build')]);
    const before = { db: sha256(file), wal: sha256(`${file}-wal`), lock: readFileSync(`${file}.lock`, 'utf8') };

    const child = await runChild(TRY_TO_WRITE, [file]);
    const [answer] = lines(child) as { code: string; message: string }[];
    expect(answer?.code).toBe('STORE_LOCKED');
    expect(answer?.message).toContain(`in use by process ${process.pid} on this host`);
    expect(answer?.message).toMatch(/wait for it to finish or stop it; read-only commands \(gantry runs, gantry show\) work meanwhile/);
    expect(answer?.message).toContain(`delete ${file}.lock`);

    expect({ db: sha256(file), wal: sha256(`${file}-wal`), lock: readFileSync(`${file}.lock`, 'utf8') }).toEqual(before);
    store.append([nodeStarted('r1', 'test')]);
    expect(store.events('r1')).toHaveLength(3);
    store.close();
  });

  it('lets a second writer in once the first closed; an owner in another process is named by its pid', async () => {
    const file = join(tempDir(), 'gantry.db');
    let refused: unknown;
    const holder = await runChild(
      `const store = openSqliteStore(args[0]);
store.createRun({ runId: 'r1', flowName: 'f', flowHash: 'h', flowText: '{}', startedAt: 1, status: 'running' });
out({ holding: process.pid });
process.stdin.once('data', () => { store.close(); out({ closed: true }); process.exit(0); });`,
      [file],
      (line, child) => {
        if (!line.includes('holding')) return;
        try {
          openSqliteStore(file);
        } catch (error) {
          refused = error;
        }
        child.stdin.write('go\n');
      },
    );
    expect(holder.code, holder.stderr).toBe(0);
    expect(refused).toMatchObject({ code: 'STORE_LOCKED', message: expect.stringContaining(`in use by process ${holder.pid} on this host`) });
    expect(existsSync(`${file}.lock`)).toBe(false);
    const store = openSqliteStore(file);
    expect(store.getRun('r1')?.runId).toBe('r1');
    store.close();
  });

  it('refuses a second writer in the same process too', () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    expect(() => openSqliteStore(file)).toThrow(/this very process: the store is open twice/);
    store.close();
  });
});

describe('stale and foreign locks', () => {
  it('takes over the lock of a process that is gone, keeping the data', async () => {
    const file = join(tempDir(), 'gantry.db');
    const first = openSqliteStore(file);
    first.createRun(record('r1'));
    first.close();
    const pid = await deadPid();
    writeFileSync(`${file}.lock`, JSON.stringify({ pid, hostname: hostname(), startedAt: new Date().toISOString(), token: 'old' }));

    const store = openSqliteStore(file);
    expect(lockOf(file)).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(lockOf(file).token).not.toBe('old');
    expect(store.getRun('r1')?.runId).toBe('r1');
    store.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it.skipIf(!existsSync('/proc/self/stat'))('takes over a lock whose pid now belongs to a process that started after it (a reused pid)', () => {
    const file = join(tempDir(), 'gantry.db');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: '2001-01-01T00:00:00.000Z', token: 'old' }));
    const store = openSqliteStore(file);
    expect(lockOf(file).token).not.toBe('old');
    store.close();
  });

  it('close does not remove a lock that is no longer its own', () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    writeFileSync(`${file}.lock`, JSON.stringify({ ...lockOf(file), token: 'someone-else' }));
    store.close();
    expect(lockOf(file).token).toBe('someone-else');
  });
});

describe('read mode beside a writer', () => {
  it('reads in another process while this one writes, takes no lock, and sees later commits', async () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    store.append([runStarted('r1'), nodeStarted('r1', 'build')]);
    const lock = readFileSync(`${file}.lock`, 'utf8');
    const read = `const store = openSqliteStore(args[0], { mode: 'read' });
out({ runs: store.listRuns().map((r) => [r.runId, r.status]), events: store.events('r1').map((e) => e.type) });
store.close();`;

    const first = await runChild(read, [file]);
    expect(first.stderr).toBe('');
    expect(lines(first)).toEqual([{ runs: [['r1', 'running']], events: ['run.started', 'node.started'] }]);

    store.append([{ type: 'run.finished', runId: 'r1', at: 2_000, status: 'succeeded' }]);
    const second = await runChild(read, [file]);
    expect(lines(second)).toEqual([{ runs: [['r1', 'succeeded']], events: ['run.started', 'node.started', 'run.finished'] }]);

    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(lock);
    store.append([nodeStarted('r1', 'late')]);
    store.close();
  });
});
