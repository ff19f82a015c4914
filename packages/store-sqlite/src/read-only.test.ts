/**
 * A store this user may not write: the file, its folder, or a read-only mount. Opening it to
 * write is refused with STORE_READ_ONLY naming the path and what to do, with nothing left behind
 * (no lock, no -wal or -shm); reading it works, also where SQLite would have had to create its
 * -wal and -shm files. The children run as another user when the tests run as root (root may
 * write anything a chmod forbids), and a read-only mount is made in a mount namespace of their own.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './open.js';
import { lines, listing, nodeStarted, record, runChild, runStarted, sha256, tempDir, type ChildOptions } from './test-kit.js';

/** Root may write whatever a chmod forbids: the children then run as nobody. */
const AS_OTHER: ChildOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/** Opens the store in `mode` and prints what it read, or the error's code and message. */
const OPEN = `const [file, mode] = args;
try {
  const store = openSqliteStore(file, { mode });
  out({ runs: store.listRuns().map((r) => r.runId).sort(), events: store.events('r1').length });
  store.close();
} catch (error) {
  out({ code: error.code, message: error.message });
}`;

/** A folder another user may enter, with a store of two runs in it, closed (its log folded in). */
function storeIn(dir: string, name = 'gantry.db'): string {
  chmodSync(dir, 0o755);
  const file = join(dir, name);
  const store = openSqliteStore(file);
  store.createRun(record('r1'));
  store.createRun(record('r2'));
  store.append([runStarted('r1'), nodeStarted('r1', 'build')]);
  store.close();
  chmodSync(file, 0o644);
  return file;
}

async function open(file: string, mode: 'write' | 'read', how: ChildOptions = AS_OTHER): Promise<Record<string, unknown>> {
  const child = await runChild(OPEN, [file, mode], undefined, how);
  expect(child.stderr).toBe('');
  return lines(child)[0] as Record<string, unknown>;
}

const cases = [
  { name: 'the file is not writable', file: 0o444, folder: 0o777, what: 'the file is not writable by this user' },
  { name: 'its folder is not writable', file: 0o644, folder: 0o555, what: 'its folder .* is not writable by this user' },
  { name: 'neither is', file: 0o444, folder: 0o555, what: 'its folder .* is not writable by this user' },
];

describe('a store this user may not write', () => {
  it.each(cases)('$name: writing is refused with STORE_READ_ONLY and nothing left behind; reading works', async ({ file: fileMode, folder: folderMode, what }) => {
    const dir = tempDir();
    const file = storeIn(dir);
    chmodSync(file, fileMode);
    chmodSync(dir, folderMode);
    const before = { files: listing(dir), hash: sha256(file), mtime: statSync(file).mtimeMs };
    const written = await open(file, 'write');
    expect(written.code).toBe('STORE_READ_ONLY');
    expect(written.message).toMatch(new RegExp(`^run store ${file} cannot be written: ${what}`));
    expect(written.message).toContain('Make it writable (chmod, chown), or point the store elsewhere (store.path in gantry.config.json)');
    expect(written.message).toContain('Nothing was written.');
    expect(await open(file, 'read')).toEqual({ runs: ['r1', 'r2'], events: 2 });
    expect({ files: listing(dir), hash: sha256(file), mtime: statSync(file).mtimeMs }).toEqual(before);
    chmodSync(dir, 0o755);
  });

  it('a store to be made under a folder this user may not write: refused, naming that folder, and nothing made', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o555);
    const file = join(dir, '.gantry', 'gantry.db');
    const written = await open(file, 'write');
    expect(written).toMatchObject({ code: 'STORE_READ_ONLY', message: expect.stringContaining(`cannot be written: its folder ${dir} is not writable`) });
    expect(listing(dir)).toEqual([]);
    // A reader of a store that is not there reads no runs and makes nothing either.
    expect(await open(file, 'read')).toEqual({ runs: [], events: 0 });
    chmodSync(dir, 0o755);
  });

  it('a log with commits beside a folder this user may not write: read through the -shm file when there is one, else refused saying why', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = join(dir, 'gantry.db');
    // A writer killed with its commits in the log: the -wal and -shm files stay.
    const killed = await runChild(
      `const store = openSqliteStore(args[0]);
store.createRun({ runId: 'r1', flowName: 'f', flowHash: 'h', flowText: '{}', startedAt: 1, status: 'running' });
process.kill(process.pid, 'SIGKILL');`,
      [file],
    );
    expect(killed.signal).toBe('SIGKILL');
    for (const f of listing(dir)) chmodSync(join(dir, f), 0o644);
    chmodSync(dir, 0o555);
    expect(await open(file, 'read')).toEqual({ runs: ['r1'], events: 0 });
    chmodSync(dir, 0o755);
    spawnSync('rm', [`${file}-shm`]);
    chmodSync(dir, 0o555);
    const refused = await open(file, 'read');
    expect(refused.code).toBe('STORE_READ_ONLY');
    expect(refused.message).toMatch(/its write-ahead log \(.*gantry\.db-wal\) holds commits, and SQLite reads them through a .*gantry\.db-shm file, which this user may not create/);
    expect(listing(dir)).toEqual(['gantry.db', 'gantry.db-wal', 'gantry.db.lock']);
    chmodSync(dir, 0o755);
  });
});

/** Whether this machine lets a child make a read-only bind mount in a mount namespace of its own. */
function mountNamespace(): readonly string[] | undefined {
  const prefix = process.getuid?.() === 0 ? ['unshare', '--mount'] : ['unshare', '--map-root-user', '--mount'];
  const probe = spawnSync(prefix[0]!, [...prefix.slice(1), 'sh', '-c', 'd=$(mktemp -d) && mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" "$d"'], { encoding: 'utf8' });
  return probe.status === 0 ? prefix : undefined;
}
const UNSHARE = mountNamespace();

describe.skipIf(UNSHARE === undefined)('a store on a read-only mount', () => {
  it('is refused to write (read-only file system) with nothing left behind, and read', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.gantry'));
    const file = storeIn(join(dir, '.gantry'));
    const before = { files: listing(join(dir, '.gantry')), hash: sha256(file) };
    const folder = join(dir, '.gantry');
    const readOnly: ChildOptions = { shell: { prefix: UNSHARE!, script: `mount --bind '${folder}' '${folder}' && mount -o remount,bind,ro '${folder}' '${folder}'` } };
    const written = await open(file, 'write', readOnly);
    expect(written.code).toBe('STORE_READ_ONLY');
    expect(written.message).toContain(`cannot be written: its folder ${folder} is on a read-only file system. `);
    expect(written.message).toContain('Mount it read-write, or point the store elsewhere');
    expect(await open(file, 'read', readOnly)).toEqual({ runs: ['r1', 'r2'], events: 2 });
    expect({ files: listing(folder), hash: sha256(file) }).toEqual(before);
  });
});
