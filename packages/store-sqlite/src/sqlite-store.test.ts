import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@gantry/engine';
import { openSqliteStore } from './open.js';
import { APPLICATION_ID, SCHEMA_VERSION } from './schema.js';
import { listing, nodeFailed, nodeStarted, nodeSucceeded, record, runStarted, tempDir } from './test-kit.js';

/** The rows of a table, read through a connection of our own. */
function rows(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe('openSqliteStore (write mode)', () => {
  it('creates the parent folders and a WAL database with synchronous=FULL, foreign keys and Gantry\'s header', () => {
    const dir = tempDir();
    const file = join(dir, '.gantry', 'gantry.db');
    const store = openSqliteStore(file);
    expect(store.path).toBe(file);
    expect(store.mode).toBe('write');
    expect(listing(join(dir, '.gantry'))).toContain('gantry.db.lock');
    const db = (store as unknown as { db: Database.Database }).db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    store.close();
    expect(listing(join(dir, '.gantry'))).not.toContain('gantry.db.lock');
  });

  it('validates its options with messages that say what was expected and found', () => {
    const file = join(tempDir(), 'x.db');
    expect(() => openSqliteStore('')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => openSqliteStore(file, { mode: 'append' as never })).toThrow(/expected mode to be 'write' or 'read', got "append" \(string\)/);
    expect(() => openSqliteStore(file, { busyTimeoutMs: -1 })).toThrow(/expected busyTimeoutMs to be an integer ≥ 0, got -1 \(number\)/);
    expect(existsSync(file)).toBe(false);
  });
});

describe('SqliteStore round trip', () => {
  it('keeps runs and journals across a reopen: records, events in order, listing and status filter', () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1', { startedAt: 1_000, flowSource: 'flows/deploy.json' }));
    store.createRun(record('r2', { startedAt: 3_000, parentRunId: 'r1' }));
    store.createRun(record('r3', { startedAt: 2_000 }));
    // One batch spanning two runs, as the engine writes a tick's events.
    const batch: RunEvent[] = [runStarted('r1'), runStarted('r2'), nodeStarted('r1', 'build'), nodeStarted('r2', 'each', { item: 0 }), nodeSucceeded('r1', 'build')];
    store.append(batch);
    store.append([nodeSucceeded('r2', 'each', { item: 0 }), { type: 'run.finished', runId: 'r1', at: 5_000, status: 'succeeded', output: { ok: true } }]);
    store.setStatus('r3', 'waiting');
    store.close();

    const again = openSqliteStore(file);
    expect(again.getRun('r1')).toEqual({ ...record('r1', { startedAt: 1_000, flowSource: 'flows/deploy.json' }), status: 'succeeded', finishedAt: 5_000 });
    expect(again.getRun('r2')).toEqual(record('r2', { startedAt: 3_000, parentRunId: 'r1' }));
    expect(again.getRun('nope')).toBeUndefined();
    expect(again.events('r1')).toEqual([batch[0], batch[2], batch[4], { type: 'run.finished', runId: 'r1', at: 5_000, status: 'succeeded', output: { ok: true } }]);
    expect(again.events('r2')).toEqual([batch[1], batch[3], nodeSucceeded('r2', 'each', { item: 0 })]);
    expect(again.events('nope')).toEqual([]);
    expect(rows(file, "SELECT seq, type, node_id FROM events WHERE run_id = 'r1' ORDER BY seq")).toEqual([
      { seq: 1, type: 'run.started', node_id: null },
      { seq: 2, type: 'node.started', node_id: 'build' },
      { seq: 3, type: 'node.succeeded', node_id: 'build' },
      { seq: 4, type: 'run.finished', node_id: null },
    ]);

    expect(again.listRuns().map((r) => r.runId)).toEqual(['r2', 'r3', 'r1']);
    expect(again.listRuns({ limit: 2 }).map((r) => r.runId)).toEqual(['r2', 'r3']);
    expect(again.listRuns({ limit: 0 })).toEqual([]);
    expect(again.listRuns({ status: 'running' }).map((r) => r.runId)).toEqual(['r2']);
    expect(again.listRuns({ status: 'waiting' }).map((r) => r.runId)).toEqual(['r3']);
    expect(again.listRuns({ status: 'failed' })).toEqual([]);
    expect(() => again.listRuns({ limit: 1.5 })).toThrow(/expected limit to be an integer ≥ 0, got 1.5 \(number\)/);

    // Appends after a reopen go on counting from the journal's end.
    again.append([nodeStarted('r2', 'each', { item: 1 })]);
    expect(rows(file, "SELECT max(seq) AS seq FROM events WHERE run_id = 'r2'")).toEqual([{ seq: 4 }]);
    again.close();
  });

  it('sets statuses: a final status with its time, a later status without a time keeps it; unknown runs are ignored', () => {
    const store = openSqliteStore(join(tempDir(), 'gantry.db'));
    store.createRun(record('r1'));
    store.setStatus('r1', 'failed', 9_000);
    expect(store.getRun('r1')).toMatchObject({ status: 'failed', finishedAt: 9_000 });
    store.setStatus('r1', 'rolled_back');
    expect(store.getRun('r1')).toMatchObject({ status: 'rolled_back', finishedAt: 9_000 });
    store.setStatus('ghost', 'failed', 1);
    expect(store.getRun('ghost')).toBeUndefined();
    store.append([runStarted('r1'), { type: 'run.waiting', runId: 'r1', at: 9_500, on: [] }]);
    expect(store.getRun('r1')?.status).toBe('waiting');
    // An event after run.finished still takes the next seq.
    store.append([{ type: 'run.finished', runId: 'r1', at: 9_900, status: 'cancelled' }]);
    store.append([{ type: 'notification.sent', runId: 'r1', at: 9_901, severity: 'normal', message: 'late' }]);
    expect(store.getRun('r1')).toMatchObject({ status: 'cancelled', finishedAt: 9_900 });
    expect(rows(store.path, "SELECT seq, type FROM events WHERE run_id = 'r1' ORDER BY seq")).toEqual([
      { seq: 1, type: 'run.started' },
      { seq: 2, type: 'run.waiting' },
      { seq: 3, type: 'run.finished' },
      { seq: 4, type: 'notification.sent' },
    ]);
    store.close();
  });

  it('refuses a run id that exists, also after a reopen', () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    expect(() => store.createRun(record('r1', { flowName: 'other' }))).toThrow(expect.objectContaining({ code: 'STORE_CONFLICT', message: expect.stringContaining('run r1 exists already') }));
    store.close();
    const again = openSqliteStore(file);
    expect(() => again.createRun(record('r1'))).toThrow(expect.objectContaining({ code: 'STORE_CONFLICT' }));
    expect(again.getRun('r1')?.flowName).toBe('deploy');
    again.close();
  });
});

describe('the completion constraint', () => {
  function journalled(): { store: ReturnType<typeof openSqliteStore>; file: string; before: readonly RunEvent[] } {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    store.append([runStarted('r1'), nodeStarted('r1', 'build')]);
    store.append([nodeSucceeded('r1', 'build'), nodeStarted('r1', 'each', { item: 0 }), nodeSucceeded('r1', 'each', { item: 0 }), nodeFailed('r1', 'each', { item: 1 })]);
    return { store, file, before: store.events('r1') };
  }

  it('refuses a second node.succeeded of a node: the whole append fails and the earlier journal stays as it was', () => {
    const { store, file, before } = journalled();
    const second = () => store.append([nodeStarted('r1', 'deploy'), nodeSucceeded('r1', 'build', { at: 7_000 })]);
    expect(second).toThrow(expect.objectContaining({ code: 'STORE_CONFLICT', nodeId: 'build', message: expect.stringMatching(/node build already succeeded \(event 3\); a second node.succeeded for it was refused, and nothing of this write \(2 events\) was recorded/) }));
    expect(store.events('r1')).toEqual(before);
    expect(rows(file, "SELECT node_path, outcome, seq FROM completions WHERE run_id = 'r1' ORDER BY seq")).toEqual([
      { node_path: 'build', outcome: 'succeeded', seq: 3 },
      { node_path: 'each[0]', outcome: 'succeeded', seq: 5 },
      { node_path: 'each[1]', outcome: 'failed', seq: 6 },
    ]);
    // The store goes on: the next append gets the next seq, as if the refused one never was.
    store.append([nodeStarted('r1', 'deploy')]);
    expect(store.events('r1')).toHaveLength(before.length + 1);
    expect(rows(file, "SELECT max(seq) AS seq FROM events WHERE run_id = 'r1'")).toEqual([{ seq: 7 }]);
    store.close();
  });

  it('counts a node.failed as a completion, and each for_each item apart from the node as a whole', () => {
    const { store, before } = journalled();
    expect(() => store.append([nodeFailed('r1', 'build')])).toThrow(expect.objectContaining({ code: 'STORE_CONFLICT' }));
    expect(() => store.append([nodeSucceeded('r1', 'each', { item: 1 })])).toThrow(/node each\[1\] already failed/);
    expect(store.events('r1')).toEqual(before);
    store.append([nodeSucceeded('r1', 'each', { item: 2 }), nodeFailed('r1', 'each')]);
    expect(store.events('r1')).toHaveLength(before.length + 2);
    store.close();
  });

  it('refuses two completions of one node inside one batch, and a completion in another run is its own', () => {
    const { store, before } = journalled();
    expect(() => store.append([nodeSucceeded('r1', 'lint'), nodeSucceeded('r1', 'lint')])).toThrow(/node lint already succeeded/);
    expect(store.events('r1')).toEqual(before);
    store.createRun(record('r2'));
    store.append([nodeSucceeded('r2', 'build')]);
    expect(store.events('r2')).toHaveLength(1);
    store.close();
  });
});

describe('a batch is atomic', () => {
  it('writes nothing of a batch whose last event names a run never created, and says so', () => {
    const file = join(tempDir(), 'gantry.db');
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    store.createRun(record('r2'));
    store.append([runStarted('r1')]);
    const batch = [nodeStarted('r1', 'a'), runStarted('r2'), nodeSucceeded('r1', 'a'), runStarted('ghost')];
    expect(() => store.append(batch)).toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND', message: expect.stringContaining('cannot append run.started to run ghost') }));
    expect(store.events('r1')).toEqual([runStarted('r1')]);
    expect(store.events('r2')).toEqual([]);
    expect(rows(file, 'SELECT count(*) AS n FROM completions')).toEqual([{ n: 0 }]);
    // Without the bad event the same batch goes in, with seqs that continue the journals.
    store.append(batch.slice(0, 3));
    expect(rows(file, 'SELECT run_id, seq FROM events ORDER BY run_id, seq')).toEqual([
      { run_id: 'r1', seq: 1 },
      { run_id: 'r1', seq: 2 },
      { run_id: 'r1', seq: 3 },
      { run_id: 'r2', seq: 1 },
    ]);
    store.append([]);
    store.close();
  });

  it('a failed batch leaves a run.finished in it unapplied to the runs table', () => {
    const store = openSqliteStore(join(tempDir(), 'gantry.db'));
    store.createRun(record('r1'));
    store.append([nodeSucceeded('r1', 'a')]);
    expect(() => store.append([{ type: 'run.finished', runId: 'r1', at: 2, status: 'succeeded' }, nodeSucceeded('r1', 'a')])).toThrow(/already succeeded/);
    expect(store.getRun('r1')).toMatchObject({ status: 'running' });
    expect(store.getRun('r1')).not.toHaveProperty('finishedAt');
    store.close();
  });
});

describe('modes and lifecycle', () => {
  it('read mode refuses writes; a closed store refuses everything; close is idempotent; flush resolves', async () => {
    const file = join(tempDir(), 'gantry.db');
    const writer = openSqliteStore(file);
    writer.createRun(record('r1'));
    await expect(writer.flush()).resolves.toBeUndefined();
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(reader.mode).toBe('read');
    expect(() => reader.createRun(record('r2'))).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining("opened read-only (mode 'read')") }));
    expect(() => reader.append([runStarted('r1')])).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => reader.setStatus('r1', 'failed')).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(reader.getRun('r1')?.runId).toBe('r1');
    // A reader sees what the writer commits after the reader opened.
    writer.append([runStarted('r1')]);
    expect(reader.events('r1')).toEqual([runStarted('r1')]);
    reader.close();
    writer.close();
    writer.close();
    expect(() => writer.getRun('r1')).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('is closed') }));
    expect(() => writer.append([runStarted('r1')])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('read mode of a missing file is an empty store that creates nothing, not even its folder', () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir, '.gantry', 'gantry.db'), { mode: 'read' });
    expect(store.listRuns()).toEqual([]);
    expect(store.getRun('r1')).toBeUndefined();
    expect(store.events('r1')).toEqual([]);
    store.close();
    expect(listing(dir)).toEqual([]);
  });
});
