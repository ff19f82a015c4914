/**
 * The crash-loop counts (RunStore.resumptions): kept per run, durable the moment
 * setResumptions returns (a process killed right after finds them), and a store of schema
 * version 1 is brought to version 2 with its runs intact.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './open.js';
import { SCHEMA_VERSION } from './schema.js';
import { record, runChild, runStarted, tempDir } from './test-kit.js';

/** Makes a store as schema version 1 left it: no resumptions table. */
function versionOneStore(file: string): void {
  const store = openSqliteStore(file);
  store.createRun(record('r1'));
  store.append([runStarted('r1')]);
  store.close();
  const db = new Database(file);
  db.exec('DROP TABLE resumptions');
  db.pragma('user_version = 1');
  db.close();
}

describe('resumption counts', () => {
  it('keeps, replaces and forgets a run\'s count; refuses one for a run that does not exist', () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    expect(store.resumptions('r1')).toBeUndefined();
    store.setResumptions('r1', { count: 1, progress: 4 });
    store.setResumptions('r1', { count: 2, progress: 4 });
    expect(store.resumptions('r1')).toEqual({ count: 2, progress: 4 });
    store.close();
    const again = openSqliteStore(file);
    expect(again.resumptions('r1')).toEqual({ count: 2, progress: 4 });
    again.setResumptions('r1', undefined);
    expect(again.resumptions('r1')).toBeUndefined();
    expect(() => again.setResumptions('nope', { count: 1, progress: 0 })).toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
    again.close();
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(() => reader.setResumptions('r1', { count: 1, progress: 0 })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    reader.close();
  });

  it('has a count durable when setResumptions returns: a process killed at once leaves it', async () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    store.close();
    const child = await runChild(
      `const store = openSqliteStore(args[0]);
store.setResumptions('r1', { count: 3, progress: 7 });
process.kill(process.pid, 'SIGKILL');`,
      [file],
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(reader.resumptions('r1')).toEqual({ count: 3, progress: 7 });
    reader.close();
  });

  it('reads a version 1 store as it is (no counts), and brings it to version 2 when it opens it to write', () => {
    const file = join(tempDir(), 'gantry.db');
    versionOneStore(file);
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(reader.getRun('r1')?.runId).toBe('r1');
    expect(reader.resumptions('r1')).toBeUndefined();
    reader.close();
    const writer = openSqliteStore(file);
    writer.setResumptions('r1', { count: 1, progress: 0 });
    expect(writer.resumptions('r1')).toEqual({ count: 1, progress: 0 });
    expect(writer.events('r1')).toHaveLength(1);
    writer.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });
});
