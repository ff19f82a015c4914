/**
 * Decides, before SQLite is allowed near a file, whether it is a Gantry run store, an empty file
 * that may become one, or something to refuse. Whenever the header can tell (no write-ahead log
 * with content beside the file), the decision is taken from the file's first page read as plain
 * bytes, so that SQLite never opens, recovers or creates side files for somebody else's file.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { GantryError } from '@gantry/engine';
import { canWriteBeside, readOnly, unreadableLog } from './read-only.js';
import { APPLICATION_ID, SCHEMA_VERSION } from './schema.js';

/** What a file is: absent, empty (nothing to lose: it may be initialised), or a Gantry store. */
export type FileKind = 'missing' | 'empty' | 'gantry';

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const HEADER_BYTES = 100;

/** What the checks need to know about a database, however it was read. */
interface Facts {
  readonly applicationId: number;
  readonly userVersion: number;
  /** How many entries sqlite_schema holds (tables, indexes, …). */
  readonly schemaObjects: number;
}

/** Inspects `path` without modifying anything; throws STORE_INVALID for a file to refuse. */
export function inspectStoreFile(path: string): FileKind {
  const size = sizeOf(path);
  if (size === undefined) return 'missing';
  const walHasContent = (sizeOf(`${path}-wal`) ?? 0) > 0;
  if (walHasContent) {
    // The header on disk may be older than the log's last commit: only SQLite can tell.
    return classify(path, factsFromSqlite(path, size));
  }
  if (size === 0) return 'empty';
  return classify(path, factsFromHeader(path, size));
}

function sizeOf(path: string): number | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw invalid(path, 'is not a regular file (a directory?)');
    return stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (error instanceof GantryError) throw error;
    throw invalid(path, `cannot be read (${(error as Error).message})`, error);
  }
}

function factsFromHeader(path: string, size: number): Facts {
  const head = Buffer.alloc(Math.min(size, HEADER_BYTES + 8));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const prefix = head.subarray(0, MAGIC.length);
  if (!prefix.equals(MAGIC.subarray(0, prefix.length))) {
    throw invalid(path, 'is not an SQLite database (its first bytes are not the SQLite header)');
  }
  if (head.length < HEADER_BYTES + 8) throw invalid(path, `is truncated: ${size} bytes, shorter than one SQLite header`);
  const raw = head.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw invalid(path, `is damaged: its header gives a page size of ${raw}`);
  // The page count at offset 28 is valid when the "version valid for" number matches the change counter.
  const pageCount = head.readUInt32BE(24) === head.readUInt32BE(92) ? head.readUInt32BE(28) : 0;
  if (pageCount > 0 ? size < pageCount * pageSize : size % pageSize !== 0) {
    const expected = pageCount > 0 ? ` (its header says ${pageCount * pageSize})` : '';
    throw invalid(path, `is truncated: it holds ${size} bytes${expected}`);
  }
  // Page 1 is the root of sqlite_schema; its b-tree header follows the file header.
  const pageType = head[HEADER_BYTES]!;
  const cells = head.readUInt16BE(HEADER_BYTES + 3);
  return { applicationId: head.readInt32BE(68) >>> 0, userVersion: head.readInt32BE(60), schemaObjects: pageType === 0x0d ? cells : Infinity };
}

function factsFromSqlite(path: string, size: number): Facts {
  if (size > 0 && size < MAGIC.length) throw invalid(path, 'is not an SQLite database (too short for the SQLite header)');
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return {
      applicationId: (db.pragma('application_id', { simple: true }) as number) >>> 0,
      userVersion: db.pragma('user_version', { simple: true }) as number,
      schemaObjects: db.prepare<[], number>('SELECT count(*) FROM sqlite_schema').pluck().get() ?? 0,
    };
  } catch (error) {
    // A log with commits, beside a folder this user may not write: SQLite cannot make its -shm.
    throw canWriteBeside(path) ? sqliteOpenError(path, error) : unreadableLog(path, error);
  } finally {
    db?.close();
  }
}

function classify(path: string, facts: Facts): FileKind {
  if (facts.applicationId === APPLICATION_ID) {
    if (facts.userVersion > SCHEMA_VERSION) {
      throw invalid(path, `was written by a newer Gantry (schema version ${facts.userVersion}; this one reads up to ${SCHEMA_VERSION}): upgrade Gantry to use it`);
    }
    if (facts.userVersion < 1) throw invalid(path, `is damaged: it has Gantry's application id but schema version ${facts.userVersion}`);
    return 'gantry';
  }
  if (facts.applicationId !== 0) {
    throw invalid(path, `is another program's SQLite database (application id 0x${facts.applicationId.toString(16).padStart(8, '0')}), not a Gantry run store`);
  }
  if (facts.schemaObjects === 0 && facts.userVersion === 0) return 'empty';
  throw invalid(path, 'is an SQLite database that is not a Gantry run store (it has tables of its own and no Gantry application id)');
}

/** A STORE_INVALID error from SQLite's own verdict on a file. */
export function sqliteOpenError(path: string, error: unknown): GantryError {
  if (error instanceof GantryError) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  if (code.startsWith('SQLITE_READONLY')) return readOnly(path, code === 'SQLITE_READONLY_DIRECTORY' ? 'its folder' : 'the file', undefined, error);
  if (code === 'SQLITE_NOTADB') return invalid(path, 'is not an SQLite database', error);
  if (code.startsWith('SQLITE_CORRUPT')) return invalid(path, 'is damaged (SQLite reports a malformed database: truncated or overwritten?)', error);
  return invalid(path, `cannot be opened (${(error as Error).message ?? code})`, error);
}

/**
 * The STORE_INVALID error: names the file, says what is wrong, and that nothing was changed.
 */
export function invalid(path: string, problem: string, cause?: unknown): GantryError {
  const message = `run store ${path} ${problem}. Gantry left the file untouched; point the store at another path, or move the file away to start a new store.`;
  return new GantryError('STORE_INVALID', message, cause === undefined ? {} : { cause });
}
