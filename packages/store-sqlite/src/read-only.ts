/**
 * A store that cannot be written (the file or its folder not writable by this user, a read-only
 * mount) is refused with STORE_READ_ONLY before SQLite is let near it: SQLite would open it
 * read-only without a word, fail on the first write with its own message, and leave the -wal and
 * -shm files it created beside the file. Readers get a snapshot instead where SQLite would have
 * to create those files.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GantryError } from '@gantry/engine';

const PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Whether a file-system error says the path may not be written (rather than that it is missing). */
export function isPermissionError(error: unknown): boolean {
  return PERMISSION.has(String((error as NodeJS.ErrnoException | undefined)?.code));
}

/** The errno code of `access(path, mode)`, or undefined when it is allowed. */
function denied(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
}

function user(): string {
  return typeof process.getuid === 'function' ? `this user (uid ${process.getuid()})` : 'this user';
}

/**
 * The STORE_READ_ONLY error: the store's path, what cannot be written and why (`code`: EROFS
 * for a read-only mount), and what to do.
 */
export function readOnly(store: string, what: string, code: string | undefined, cause?: unknown): GantryError {
  const why = code === 'EROFS' ? `${what} is on a read-only file system` : code === undefined ? `${what} is not writable` : `${what} is not writable by ${user()}`;
  const fix = code === 'EROFS' ? 'Mount it read-write' : 'Make it writable (chmod, chown)';
  return new GantryError(
    'STORE_READ_ONLY',
    `run store ${store} cannot be written: ${why}. Gantry writes the file and, beside it, its lock (.lock) and SQLite's -wal and -shm files. ` +
      `${fix}, or point the store elsewhere (store.path in gantry.config.json). Read-only commands (gantry runs, gantry show) still work. Nothing was written.`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Why the store at `file` cannot be opened to write, or undefined: its folder (or, when that is
 * still to be made, the nearest folder that exists) must let this user create files, and the
 * file and its -wal and -shm, where they exist, must be writable.
 */
export function writeProblem(file: string): GantryError | undefined {
  let folder = dirname(file);
  while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
  const folderCode = denied(folder, constants.W_OK | constants.X_OK);
  if (folderCode !== undefined) return readOnly(file, `its folder ${folder}`, folderCode);
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(path)) continue;
    const code = denied(path, constants.R_OK | constants.W_OK);
    if (code !== undefined) return readOnly(file, path === file ? 'the file' : path, code);
  }
  return undefined;
}

/** Whether SQLite may create and write its -wal and -shm files beside `file` as this user. */
export function canWriteBeside(file: string): boolean {
  return denied(file, constants.W_OK) === undefined && denied(dirname(file), constants.W_OK | constants.X_OK) === undefined;
}

/** The largest file read whole into memory as a snapshot. */
const SNAPSHOT_LIMIT = 512 * 1024 * 1024;

/**
 * The store read whole into memory, for a reader that SQLite could not serve without creating
 * files beside it. Only when the write-ahead log holds nothing: the file is then the whole store.
 */
export function snapshot(file: string): Database.Database {
  const size = statSync(file).size;
  if (size > SNAPSHOT_LIMIT) {
    throw new GantryError(
      'STORE_READ_ONLY',
      `run store ${file} cannot be read here without writing beside it (this user may not write the file or its folder), and at ${size} bytes it is too large to read into memory (over ${SNAPSHOT_LIMIT}). Copy it to a folder of your own and read the copy.`,
    );
  }
  const bytes = readFileSync(file);
  // In memory there is no log: bytes 18 and 19 say "rollback journal", not "WAL" (2).
  bytes[18] = 1;
  bytes[19] = 1;
  return new Database(bytes, { readonly: true });
}

/** A reader's STORE_READ_ONLY: the log holds commits that only a -shm file, which it may not create, would let SQLite read. */
export function unreadableLog(file: string, cause: unknown): GantryError {
  return new GantryError(
    'STORE_READ_ONLY',
    `run store ${file} cannot be read by ${user()}: its write-ahead log (${file}-wal) holds commits, and SQLite reads them through a ${file}-shm file, which this user may not create in ${dirname(file)}. ` +
      'Read it as the user that writes the store, or have that user open it once (gantry runs) so that the log is folded into the file. Nothing was written.',
    { cause },
  );
}
