/**
 * A run's sub-flow runs (listRuns({ parentRunId })) are found through an index, not by reading
 * every run: `gantry show` and `gantry logs` ask once per run of a tree, and a for_each of
 * sub-flows makes a run per item. A store made before the index gets it when opened to write.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './open.js';
import { SCHEMA_VERSION } from './schema.js';
import { record, tempDir } from './test-kit.js';

/** How SQLite would answer listRuns({ parentRunId }): its query, as sqlite-store.ts builds it. */
function plan(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const steps = db.prepare('EXPLAIN QUERY PLAN SELECT * FROM runs WHERE parent_run_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?').all('r1', -1) as { detail: string }[];
    return steps.map((s) => s.detail).join('; ');
  } finally {
    db.close();
  }
}

function storeWithTree(file: string): void {
  const store = openSqliteStore(file);
  store.createRun(record('r1'));
  for (let i = 0; i < 3; i++) store.createRun(record(`r1.each[${i}]`, { parentRunId: 'r1', startedAt: 1_000 + i }));
  store.createRun(record('r2'));
  store.close();
}

describe("a run's sub-flow runs", () => {
  it('are looked up by their parent through an index, in a new store', () => {
    const file = join(tempDir(), 'gantry.db');
    storeWithTree(file);
    expect(plan(file)).toMatch(/USING INDEX runs_by_parent/);
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(reader.listRuns({ parentRunId: 'r1' }).map((r) => r.runId)).toEqual(['r1.each[2]', 'r1.each[1]', 'r1.each[0]']);
    expect(reader.listRuns({ parentRunId: 'r2' })).toEqual([]);
    reader.close();
  });

  it('a store made without the index is read as it is, and gets it, its runs intact, when opened to write', () => {
    const file = join(tempDir(), 'gantry.db');
    storeWithTree(file);
    const db = new Database(file);
    db.exec('DROP INDEX runs_by_parent');
    db.close();
    expect(plan(file)).toMatch(/SCAN runs/);
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(reader.listRuns({ parentRunId: 'r1' })).toHaveLength(3);
    reader.close();
    expect(plan(file)).not.toMatch(/runs_by_parent/);
    openSqliteStore(file).close();
    expect(plan(file)).toMatch(/USING INDEX runs_by_parent/);
    const again = openSqliteStore(file, { mode: 'read' });
    expect(again.listRuns({ parentRunId: 'r1' })).toHaveLength(3);
    again.close();
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });
});
