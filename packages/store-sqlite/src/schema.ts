import type Database from 'better-sqlite3';

/**
 * Written to the SQLite header's application_id field (offset 68): "GNTR". A file with another
 * application id belongs to another program and is never touched.
 */
export const APPLICATION_ID = 0x474e5452;

/**
 * The schema version, kept in the header's user_version field (offset 60). A file with a newer
 * version was written by a newer Gantry and is refused rather than misread. When the schema
 * changes, this goes up by one and a migration from the previous version is added here.
 */
export const SCHEMA_VERSION = 2;

/** The tables a Gantry run store has; a file with Gantry's application id but not these is damaged. */
export const TABLES = ['runs', 'events', 'completions'] as const;

// Version 2: the crash-loop count of each run being resumed (RunStore.resumptions).
const RESUMPTIONS_SQL = `
CREATE TABLE resumptions (
  run_id   TEXT PRIMARY KEY REFERENCES runs (run_id),
  count    INTEGER NOT NULL,
  progress INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`;

// A run's sub-flow runs (listRuns({ parentRunId })), as `gantry show` and `gantry logs` read a
// run's tree one run at a time: without it each look reads every run, and a for_each of sub-flows
// makes a run per item (a payload can give it thousands, DESIGN §11). An index holds no data that
// a store without it lacks (an older Gantry reads and writes the file as before), so it is made
// where missing whenever a store is opened to write, with no new schema version.
const PARENT_INDEX_SQL = 'CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;';

// STRICT tables: a value of the wrong type is an error, not silently stored. Times are epoch
// milliseconds from the engine's clock, REAL so that a fake clock's fractions are kept, not refused.
const SCHEMA_SQL = `
CREATE TABLE runs (
  run_id        TEXT PRIMARY KEY,
  flow_name     TEXT NOT NULL,
  flow_hash     TEXT NOT NULL,
  flow_text     TEXT NOT NULL,
  flow_source   TEXT,
  parent_run_id TEXT,
  started_at    REAL NOT NULL,
  status        TEXT NOT NULL,
  finished_at   REAL
) STRICT;
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_status ON runs (status, started_at);
${PARENT_INDEX_SQL}

-- The journal: one row per event, seq counting from 1 within its run.
CREATE TABLE events (
  run_id  TEXT NOT NULL REFERENCES runs (run_id),
  seq     INTEGER NOT NULL,
  type    TEXT NOT NULL,
  node_id TEXT,
  json    TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) STRICT;

-- One row per node.succeeded / node.failed: the primary key makes a second completion of the
-- same node (or for_each item, "id[3]") fail the whole append that carries it.
CREATE TABLE completions (
  run_id    TEXT NOT NULL REFERENCES runs (run_id),
  node_path TEXT NOT NULL,
  outcome   TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (run_id, node_path)
) STRICT, WITHOUT ROWID;
${RESUMPTIONS_SQL}`;

/** Creates Gantry's tables and stamps the header, in one transaction (a crash leaves an empty file). */
export function createSchema(db: Database.Database): void {
  db.transaction(() => {
    db.exec(SCHEMA_SQL);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Brings a store of an older schema version up to this one, in one transaction (a crash leaves
 * it as it was), and makes the indexes it lacks. Version 1 had no resumptions table.
 */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const indexed = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'runs_by_parent'").get() !== undefined;
  if (version >= SCHEMA_VERSION && indexed) return;
  db.transaction(() => {
    if (version < 2) db.exec(RESUMPTIONS_SQL);
    db.exec(PARENT_INDEX_SQL);
    if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** The Gantry tables the file lacks (none for a sound store). */
export function missingTables(db: Database.Database): string[] {
  const present = new Set(db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all());
  return TABLES.filter((t) => !present.has(t));
}
