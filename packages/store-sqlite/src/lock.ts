/**
 * The writer's lock: a file beside the database (`<db>.lock`) created with O_EXCL and holding
 * the owner's pid, host and start time. One process writes to a store at a time; a lock whose
 * process is gone from this host is taken over.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { GantryError } from '@gantry/engine';
import { isPermissionError, readOnly } from './read-only.js';

/** What a lock file says about the process that owns the store. */
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** When the lock was taken (ISO 8601). */
  readonly startedAt: string;
  /** Tells this lock from a later one of the same pid. */
  readonly token: string;
}

/** A held lock. */
export interface WriteLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock file if it is still this lock's; idempotent. */
  release(): void;
}

/** A lock file just created and not yet written is given this long before it counts as abandoned. */
const UNWRITTEN_GRACE_MS = 10_000;

/** Locks still held; an exit without close() removes them (a kill -9 leaves them stale instead). */
const held = new Set<WriteLock>();
let exitHook = false;

/** Takes the write lock of the database at `dbPath`, or throws STORE_LOCKED naming the owner. */
export function acquireWriteLock(dbPath: string): WriteLock {
  const path = `${dbPath}.lock`;
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), token: randomUUID() };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(dbPath, path, owner)) return hold(path, owner);
    const found = readLock(path);
    if (found === undefined) continue; // released meanwhile
    const state = ownerState(found);
    if (state !== 'gone') throw locked(dbPath, path, found, state);
    takeOver(path, found.raw);
  }
  throw new GantryError('STORE_LOCKED', `run store ${dbPath} is contended: several processes are taking its lock ${path} at once. Try again.`);
}

function create(dbPath: string, path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    if (isPermissionError(error)) throw readOnly(dbPath, `its folder ${dirname(path)}`, (error as NodeJS.ErrnoException).code, error);
    throw new GantryError('STORE_LOCKED', `cannot create the lock file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function hold(path: string, owner: LockOwner): WriteLock {
  const lock: WriteLock = {
    path,
    owner,
    release() {
      if (!held.delete(lock)) return;
      try {
        if (readLock(path)?.owner?.token === owner.token) unlinkSync(path);
      } catch {
        // Best effort: a lock left behind is stale once this process is gone, and taken over.
      }
    },
  };
  held.add(lock);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const l of [...held]) l.release();
    });
  }
  return lock;
}

interface FoundLock {
  readonly raw: string;
  /** Undefined when the file is not (yet) a readable lock. */
  readonly owner: LockOwner | undefined;
  readonly modifiedAt: number;
}

function readLock(path: string): FoundLock | undefined {
  try {
    const raw = readFileSync(path, 'utf8');
    const modifiedAt = statSync(path).mtimeMs;
    return { raw, owner: parseOwner(raw), modifiedAt };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    if (!Number.isInteger(value.pid) || typeof value.hostname !== 'string') return undefined;
    return { pid: value.pid!, hostname: value.hostname, startedAt: String(value.startedAt ?? ''), token: String(value.token ?? '') };
  } catch {
    return undefined;
  }
}

type OwnerState = 'alive' | 'gone' | 'elsewhere' | 'unwritten';

function ownerState(found: FoundLock): OwnerState {
  const owner = found.owner;
  if (owner === undefined) return Date.now() - found.modifiedAt < UNWRITTEN_GRACE_MS ? 'unwritten' : 'gone';
  if (owner.hostname !== hostname()) return 'elsewhere';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    return 'alive'; // EPERM: it exists, under another user
  }
  return startedAfter(owner) ? 'gone' : 'alive';
}

/**
 * True when the process now holding the lock's pid started after the lock was taken: the owner
 * died and its pid was reused. Linux only (/proc); elsewhere a live pid counts as the owner.
 */
function startedAfter(owner: LockOwner): boolean {
  const taken = Date.parse(owner.startedAt);
  if (Number.isNaN(taken)) return false;
  try {
    const stat = readFileSync(`/proc/${owner.pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(boot)) return false;
    // USER_HZ is 100 on Linux; boot time has one-second precision, hence the margin.
    return boot * 1000 + ticks * 10 > taken + 5_000;
  } catch {
    return false;
  }
}

/**
 * Removes a stale lock without removing a fresh one by mistake: the file is first renamed to a
 * name of our own (an atomic step only one process wins), then checked to be the stale lock;
 * a fresh lock taken meanwhile by another process is put back.
 */
function takeOver(path: string, staleRaw: string): void {
  const aside = `${path}.${process.pid}.${randomUUID()}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleRaw) linkSync(aside, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkQuietly(aside);
  }
}

function locked(dbPath: string, lockPath: string, found: FoundLock, state: OwnerState): GantryError {
  const owner = found.owner;
  let message: string;
  if (owner === undefined) {
    message = `run store ${dbPath} is being locked by another process right now (its lock file ${lockPath} is not written yet). Try again in a moment.`;
  } else if (state === 'elsewhere') {
    message =
      `run store ${dbPath} is in use by process ${owner.pid} on host ${owner.hostname} (since ${owner.startedAt}); ` +
      `from this host Gantry cannot tell whether that process still runs. If it does not, delete ${lockPath}. ` +
      'Read-only commands (gantry runs, gantry show) work meanwhile.';
  } else {
    const self = owner.pid === process.pid ? ' (this very process: the store is open twice; close the other store first)' : '';
    message =
      `run store ${dbPath} is in use by process ${owner.pid}${self} on this host (since ${owner.startedAt}). ` +
      `One process writes to a store at a time: wait for it to finish or stop it; read-only commands (gantry runs, gantry show) work meanwhile. ` +
      `If process ${owner.pid} is not Gantry, delete ${lockPath}.`;
  }
  return new GantryError('STORE_LOCKED', message, { retryable: owner === undefined });
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
