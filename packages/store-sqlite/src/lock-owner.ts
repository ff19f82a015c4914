/**
 * Whether the process a lock file names may still hold it. Decided from what can be checked, in
 * this order, never from a guess:
 * - a file that is not a lock (empty, cut short, garbage) once its writer has had a moment: a
 *   writer fills its lock the moment it has made it, and checks it is still its own afterwards,
 *   so such a file is stale;
 * - an owner on this host, in this pid namespace: its pid is gone, a zombie, or now a process
 *   that started after the lock was taken (a reused pid, Linux) → stale; else it holds the lock;
 * - an owner whose pid cannot be checked from here (another host, another pid namespace such as
 *   another container): its holder refreshes the file's time every HEARTBEAT_MS; a lock not
 *   refreshed for STALE_MS (by this host's clock, either way) is stale.
 */
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { GantryError } from '@gantry/engine';

/** What a lock file says about the process that owns the store. */
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** When the lock was taken (ISO 8601). */
  readonly startedAt: string;
  /** Tells this lock from a later one of the same pid. */
  readonly token: string;
  /** The owner's pid namespace (Linux, `pid:[inode]`): a pid means something only inside it. */
  readonly pidNamespace?: string;
}

/** How often a holder refreshes its lock file's time. */
export const HEARTBEAT_MS = 2_000;
/** How long a lock whose owner cannot be checked from here stays valid without a refresh. */
export const STALE_MS = 20_000;

export interface FoundLock {
  readonly raw: string;
  /** Undefined when the file is not (yet) a readable lock. */
  readonly owner: LockOwner | undefined;
  readonly modifiedAt: number;
}

/** This process's pid namespace, or undefined where there is no /proc. */
export function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** The lock file as found, or undefined when there is none; a path that is not a file is refused. */
export function readLock(dbPath: string, path: string): FoundLock | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) {
      throw new GantryError('STORE_LOCKED', `run store ${dbPath} cannot be locked: ${path} is not a lock file (a directory?). Gantry did not make it and leaves it alone: move it away.`);
    }
    const raw = readFileSync(path, 'utf8');
    return { raw, owner: parseOwner(raw), modifiedAt: stat.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    if (!Number.isInteger(value.pid) || value.pid! <= 0 || typeof value.hostname !== 'string') return undefined;
    const owner = { pid: value.pid!, hostname: value.hostname, startedAt: String(value.startedAt ?? ''), token: String(value.token ?? '') };
    return typeof value.pidNamespace === 'string' ? { ...owner, pidNamespace: value.pidNamespace } : owner;
  } catch {
    return undefined;
  }
}

/** `alive`: it holds the store; `remote`: its pid cannot be checked, and it refreshed the lock lately; `gone`: stale. */
export type OwnerState = 'alive' | 'remote' | 'gone';

export function ownerState(found: FoundLock, now = Date.now()): OwnerState {
  const owner = found.owner;
  if (owner === undefined) return 'gone';
  const namespace = pidNamespace();
  const checkable = owner.hostname === hostname() && (owner.pidNamespace === undefined || namespace === undefined || owner.pidNamespace === namespace);
  if (!checkable) return Math.abs(now - found.modifiedAt) > STALE_MS ? 'gone' : 'remote';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user; whether it is the owner is for the start time to say.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  return zombie(owner.pid) || startedAfter(owner) ? 'gone' : 'alive';
}

/** A process that has died and not been reaped yet holds nothing (Linux only). */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
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

/** The STORE_LOCKED error for a lock held by a live owner: who, since when, and what to do. */
export function locked(dbPath: string, lockPath: string, found: FoundLock & { owner: LockOwner }, state: 'alive' | 'remote', now = Date.now()): GantryError {
  const owner = found.owner;
  if (state === 'remote') {
    const where = owner.hostname === hostname() ? `in another pid namespace (another container?) on host ${owner.hostname}` : `on host ${owner.hostname}`;
    const ago = Math.max(0, Math.round((now - found.modifiedAt) / 1000));
    return new GantryError(
      'STORE_LOCKED',
      `run store ${dbPath} is in use by process ${owner.pid} ${where} (since ${owner.startedAt}; its lock was refreshed ${ago} s ago). ` +
        `From here Gantry cannot see that process, so it relies on the lock's refreshes: a lock not refreshed for ${STALE_MS / 1000} s is taken over. ` +
        `If that process has stopped, try again in ${Math.max(1, Math.ceil((found.modifiedAt + STALE_MS - now) / 1000))} s, or delete ${lockPath}. Read-only commands (gantry runs, gantry show) work meanwhile.`,
      { retryable: true },
    );
  }
  const self = owner.pid === process.pid ? ' (this very process: the store is open twice; close the other store first)' : '';
  return new GantryError(
    'STORE_LOCKED',
    `run store ${dbPath} is in use by process ${owner.pid}${self} on this host (since ${owner.startedAt}). ` +
      `One process writes to a store at a time: wait for it to finish or stop it; read-only commands (gantry runs, gantry show) work meanwhile. ` +
      `If process ${owner.pid} is not Gantry, delete ${lockPath}.`,
  );
}
