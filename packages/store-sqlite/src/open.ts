import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { GantryError } from '@gantry/engine';
import { inspectStoreFile, invalid, sqliteOpenError, type FileKind } from './file-check.js';
import { acquireWriteLock, type WriteLock } from './lock.js';
import { canWriteBeside, isPermissionError, readOnly, snapshot, unreadableLog, writeProblem } from './read-only.js';
import { createSchema, migrate, missingTables } from './schema.js';
import { SqliteStore, type StoreMode } from './sqlite-store.js';

/** How to open a store. */
export interface SqliteStoreOptions {
  /**
   * `write` takes the store's lock (`<path>.lock`), creates missing parent folders and the
   * database. `read` opens the file read-only and takes no lock, so it works while another
   * process writes; a missing (or empty) file reads as a store with no runs and is not created.
   * @default 'write'
   */
  readonly mode?: StoreMode;
  /**
   * How long a statement waits for SQLite's own file lock (a checkpoint, a reader starting)
   * before it fails with SQLITE_BUSY, in milliseconds.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
}

interface ResolvedOptions {
  readonly mode: StoreMode;
  readonly busyTimeoutMs: number;
}

/**
 * Opens the run store at `path` (a file such as `.gantry/gantry.db`, resolved against the current
 * directory). A file that is not a Gantry store (not SQLite, truncated, another program's, a newer
 * schema) is refused with STORE_INVALID and left as it was; a second writer gets STORE_LOCKED.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new GantryError('CONFIG_INVALID', `openSqliteStore: expected path to be a non-empty file path, got ${JSON.stringify(path)} (${typeof path})`);
  }
  const resolved = resolveOptions(options);
  const file = resolve(path);
  return resolved.mode === 'write' ? openForWriting(file, resolved) : openForReading(file, resolved);
}

function resolveOptions(options: SqliteStoreOptions): ResolvedOptions {
  const mode = options.mode ?? 'write';
  if (mode !== 'write' && mode !== 'read') {
    throw new GantryError('CONFIG_INVALID', `openSqliteStore: expected mode to be 'write' or 'read', got ${JSON.stringify(mode)} (${typeof mode})`);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!(Number.isInteger(busyTimeoutMs) && busyTimeoutMs >= 0)) {
    throw new GantryError('CONFIG_INVALID', `openSqliteStore: expected busyTimeoutMs to be an integer ≥ 0, got ${String(busyTimeoutMs)} (${typeof busyTimeoutMs})`);
  }
  return Object.freeze({ mode, busyTimeoutMs });
}

function openForWriting(file: string, options: ResolvedOptions): SqliteStore {
  // Refused before anything is made: SQLite would open a read-only file read-only without a word,
  // then fail on the first write and leave its -wal and -shm files behind.
  const problem = writeProblem(file);
  if (problem !== undefined) throw problem;
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    if (isPermissionError(error)) throw readOnly(file, `its folder ${dirname(file)}`, (error as NodeJS.ErrnoException).code, error);
    throw error;
  }
  const lock: WriteLock = acquireWriteLock(file);
  try {
    // Checked under the lock: no other Gantry writer can change the file meanwhile.
    const kind = inspectStoreFile(file);
    const db = connect(file, kind, { timeout: options.busyTimeoutMs });
    try {
      if (kind === 'gantry') checkTables(file, db);
      // WAL: readers do not block the writer, and a commit syncs the log only. Setting WAL would
      // reset synchronous to the build's WAL default (NORMAL), so FULL is set after it.
      const journal = db.pragma('journal_mode = WAL', { simple: true });
      if (journal !== 'wal') throw invalid(file, `cannot be kept in WAL journal mode, which the store needs (SQLite kept "${String(journal)}"; a network file system may not allow WAL)`);
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      if (kind !== 'gantry') createSchema(db);
      else migrate(db);
      return new SqliteStore(db, file, 'write', lock);
    } catch (error) {
      db.close();
      throw error;
    }
  } catch (error) {
    lock.release();
    throw error instanceof GantryError ? error : sqliteOpenError(file, error);
  }
}

function openForReading(file: string, options: ResolvedOptions): SqliteStore {
  const kind = inspectStoreFile(file);
  if (kind !== 'gantry') {
    // Nothing to read, and a reader creates nothing: an empty store held in memory.
    const db = new Database(':memory:');
    createSchema(db);
    return new SqliteStore(db, file, 'read', undefined);
  }
  // SQLite reads a WAL store through -wal and -shm files beside it, which it creates when they are
  // missing: where this user may not write (or should not leave files), a snapshot is read instead,
  // unless the log holds commits that the file alone does not have.
  const logged = (sizeOf(`${file}-wal`) ?? 0) > 0;
  const beside = canWriteBeside(file);
  let db: Database.Database;
  if (!logged && !beside) db = snapshot(file);
  else {
    try {
      db = connect(file, kind, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs });
    } catch (error) {
      throw beside ? error : unreadableLog(file, error);
    }
  }
  try {
    checkTables(file, db);
    return new SqliteStore(db, file, 'read', undefined);
  } catch (error) {
    db.close();
    if (!(error instanceof GantryError) && !beside) throw unreadableLog(file, error);
    throw error instanceof GantryError ? error : sqliteOpenError(file, error);
  }
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function connect(file: string, kind: FileKind, options: Database.Options): Database.Database {
  try {
    return new Database(file, { ...options, fileMustExist: kind !== 'missing' });
  } catch (error) {
    throw sqliteOpenError(file, error);
  }
}

function checkTables(file: string, db: Database.Database): void {
  const missing = missingTables(db);
  if (missing.length > 0) throw invalid(file, `is damaged: it has Gantry's application id but no ${missing.join(', ')} table`);
}
