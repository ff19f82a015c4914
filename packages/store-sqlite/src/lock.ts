/**
 * The writer's lock: a file beside the database (`<db>.lock`) created with O_EXCL and holding
 * the owner's pid, host, pid namespace and start time. One process writes to a store at a time.
 * The holder refreshes the file's time every HEARTBEAT_MS, so that a lock whose owner cannot be
 * checked from here (another host, another container) goes stale when it stops; how staleness is
 * decided is in lock-owner.ts. A stale lock is taken over.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { GantryError } from '@gantry/engine';
import { HEARTBEAT_MS, locked, ownerState, pidNamespace, readLock, type FoundLock, type LockOwner } from './lock-owner.js';
import { isPermissionError, readOnly } from './read-only.js';

export type { LockOwner } from './lock-owner.js';

/** A held lock. */
export interface WriteLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** True once the lock file was found to be another process's: this one must not write any more. */
  readonly lost: boolean;
  /** Removes the lock file if it is still this lock's; idempotent. */
  release(): void;
}

/** How long a lock file that is not (yet) a readable lock is watched for its writer to fill it. */
const UNWRITTEN_WAIT_MS = 1_000;

/** Locks still held; an exit without close() removes them (a kill -9 leaves them stale instead). */
const held = new Set<WriteLock>();
let exitHook = false;

/** Takes the write lock of the database at `dbPath`, or throws STORE_LOCKED naming the owner. */
export function acquireWriteLock(dbPath: string): WriteLock {
  const path = `${dbPath}.lock`;
  const namespace = pidNamespace();
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), token: randomUUID(), ...(namespace ? { pidNamespace: namespace } : {}) };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(dbPath, path, owner)) {
      // Taken over between its creation and its writing (it looked abandoned): not ours after all.
      if (readLock(dbPath, path)?.owner?.token === owner.token) return hold(dbPath, path, owner);
      continue;
    }
    const found = filled(dbPath, path);
    if (found === undefined) continue; // released meanwhile
    const state = ownerState(found);
    if (state !== 'gone') throw locked(dbPath, path, found as FoundLock & { owner: LockOwner }, state);
    takeOver(path, found.raw);
  }
  throw new GantryError('STORE_LOCKED', `run store ${dbPath} is contended: several processes are taking its lock ${path} at once. Try again.`, { retryable: true });
}

/**
 * The lock file once it holds a lock, or as it is after UNWRITTEN_WAIT_MS: a writer fills the
 * file the moment it has made it, so one still empty or unreadable by then was abandoned.
 */
function filled(dbPath: string, path: string): FoundLock | undefined {
  let found = readLock(dbPath, path);
  const until = Date.now() + UNWRITTEN_WAIT_MS;
  while (found !== undefined && found.owner === undefined && Date.now() < until) {
    sleep(20);
    found = readLock(dbPath, path);
  }
  return found;
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms);
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

function hold(dbPath: string, path: string, owner: LockOwner): WriteLock {
  // The heartbeat: the lock's time says its owner still runs, to a process that cannot check its pid.
  const heartbeat = setInterval(() => {
    try {
      if (readLock(dbPath, path)?.owner?.token !== owner.token) {
        lock.lost = true;
        clearInterval(heartbeat);
        return;
      }
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // A refresh missed (a disk hiccup): the next one may do; a lock is stale only after many.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const lock: { -readonly [K in keyof WriteLock]: WriteLock[K] } = {
    path,
    owner,
    lost: false,
    release() {
      if (!held.delete(lock)) return;
      clearInterval(heartbeat);
      try {
        if (readLock(dbPath, path)?.owner?.token === owner.token) unlinkSync(path);
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

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
