/**
 * The statements of run ownership (DESIGN §9). A top-level run's row says which peer holds it,
 * at which epoch, and from when any peer may claim it (`lease_until`); a claim bumps the epoch,
 * which every commit checks, so a process that lost a run can record nothing more for it.
 * Lease times are the database's (now()), never a peer's clock.
 */
import type pg from 'pg';
import type { PeerInfo } from '@gantry/engine';
import { WORK_CHANNEL } from './schema.js';

/** What a claim of one run found and did. */
export interface ClaimResult {
  /** The epoch this peer now holds the run at; undefined when refused (another live peer holds it). */
  readonly epoch: number | undefined;
  /** Who held it before (a peer id), if anyone. */
  readonly previous: string | undefined;
  /** Whether the previous holder's lease was still running. */
  readonly wasLive: boolean;
  /** The holder's host and pid, and how long its lease still runs, for a refusal's message. */
  readonly holder: { readonly host: string; readonly pid: number; readonly kind: string } | undefined;
  readonly remainingMs: number;
  readonly status: string;
}

/** Claims one top-level run: refused while another peer's lease runs, unless `force`. Undefined when there is no such run. */
export async function claimRun(db: pg.Pool, root: string, peer: string, force: boolean, leaseMs: number): Promise<ClaimResult | undefined> {
  const { rows } = await db.query<{ owner: string | null; status: string; remaining_ms: number | null; epoch: string | null; host: string | null; pid: number | null; kind: string | null }>(
    `WITH cur AS (
       SELECT run_id, owner, status, lease_until FROM gantry.runs WHERE run_id = $1 AND parent_run_id IS NULL FOR UPDATE
     ), up AS (
       UPDATE gantry.runs r SET owner = $2, epoch = r.epoch + 1,
         lease_until = CASE WHEN r.status IN ('running', 'waiting') THEN now() + $4::double precision * interval '1 millisecond' END
       FROM cur WHERE r.run_id = cur.run_id AND ($3 OR cur.owner IS NULL OR cur.owner = $2 OR cur.lease_until IS NULL OR cur.lease_until <= now())
       RETURNING r.epoch
     )
     SELECT cur.owner, cur.status, extract(epoch FROM cur.lease_until - now()) * 1000 AS remaining_ms, (SELECT epoch FROM up) AS epoch, p.host, p.pid, p.kind
     FROM cur LEFT JOIN gantry.peers p ON p.id = cur.owner`,
    [root, peer, force, leaseMs],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const remainingMs = Math.max(0, row.remaining_ms ?? 0);
  const wasLive = row.owner !== null && row.owner !== peer && remainingMs > 0;
  return {
    epoch: row.epoch === null ? undefined : Number(row.epoch),
    previous: row.owner ?? undefined,
    wasLive,
    holder: row.host === null ? undefined : { host: row.host, pid: row.pid ?? 0, kind: row.kind ?? 'peer' },
    remainingMs,
    status: row.status,
  };
}

/** A run claimed from the ready ones. */
export interface ReadyClaim {
  readonly runId: string;
  readonly epoch: number;
  /** Who held it before (its lease ran out), if anyone. */
  readonly previous: string | undefined;
  /** How long it had been claimable when it was claimed, in ms. */
  readonly waitedMs: number;
}

/**
 * Claims up to `limit` top-level runs that any peer may take (a lease ran out, a run handed back,
 * a waiting run's timer due), oldest first; rows another peer is claiming are skipped, not waited for.
 */
export async function claimReady(db: pg.Pool, peer: string, limit: number, leaseMs: number, format: number): Promise<ReadyClaim[]> {
  const { rows } = await db.query<{ run_id: string; epoch: string; previous: string | null; waited_ms: number }>(
    `WITH c AS (
       SELECT run_id, owner, lease_until FROM gantry.runs
       WHERE parent_run_id IS NULL AND lease_until IS NOT NULL AND lease_until <= now() AND (owner IS NULL OR owner <> $1) AND format <= $4
       ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED
     )
     UPDATE gantry.runs r SET owner = $1, epoch = r.epoch + 1, lease_until = now() + $3::double precision * interval '1 millisecond'
     FROM c WHERE r.run_id = c.run_id
     RETURNING r.run_id, r.epoch, c.owner AS previous, greatest(0, extract(epoch FROM now() - c.lease_until) * 1000) AS waited_ms`,
    [peer, limit, leaseMs, format],
  );
  return rows.map((row) => ({ runId: row.run_id, epoch: Number(row.epoch), previous: row.previous ?? undefined, waitedMs: Number(row.waited_ms) }));
}

/** Milliseconds until the next run another peer does not hold becomes claimable (undefined: none). */
export async function nextDueMs(db: pg.Pool, peer: string): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>(
    `SELECT extract(epoch FROM min(lease_until) - now()) * 1000 AS ms FROM gantry.runs
     WHERE parent_run_id IS NULL AND lease_until IS NOT NULL AND (owner IS NULL OR owner <> $1)`,
    [peer],
  );
  const ms = rows[0]?.ms;
  return ms === null || ms === undefined ? undefined : Math.max(0, Number(ms));
}

/** Gives a run back (any peer may claim it after `delayMs`), if this peer still holds it at `epoch`; wakes the peers. */
export async function releaseRun(db: pg.Pool, root: string, peer: string, epoch: number, delayMs: number): Promise<boolean> {
  const { rows } = await db.query(
    `WITH u AS (
       UPDATE gantry.runs SET owner = NULL,
         lease_until = CASE WHEN status IN ('running', 'waiting') THEN now() + $4::double precision * interval '1 millisecond' END
       WHERE run_id = $1 AND owner = $2 AND epoch = $3 RETURNING run_id
     ) SELECT pg_notify('${WORK_CHANNEL}', run_id) FROM u`,
    [root, peer, epoch, delayMs],
  );
  return rows.length > 0;
}

/** Gives back every run this peer holds (it stops): the others take them at once. */
export async function releaseAll(db: pg.Pool, peer: string): Promise<number> {
  const { rows } = await db.query(
    `WITH u AS (
       UPDATE gantry.runs SET owner = NULL, lease_until = now()
       WHERE owner = $1 AND lease_until IS NOT NULL RETURNING run_id
     ) SELECT pg_notify('${WORK_CHANNEL}', run_id) FROM u`,
    [peer],
  );
  return rows.length;
}

/** What a heartbeat found of the runs this peer believed it held. */
export interface HeldState {
  readonly runId: string;
  readonly owner: string | undefined;
  readonly epoch: number;
}

/**
 * Renews this peer's leases on `roots` (those it still holds) and says who holds each now: a
 * run another peer holds, or at another epoch, was lost (this peer was paused or cut off for
 * longer than its lease). Rows are locked in run id order, as commits lock them.
 */
export async function renewLeases(db: pg.Pool, peer: string, roots: readonly string[], leaseMs: number): Promise<HeldState[]> {
  const { rows } = await db.query<{ run_id: string; owner: string | null; epoch: string }>(
    `WITH mine AS (
       SELECT run_id FROM gantry.runs WHERE run_id = ANY ($2) AND owner = $1 AND lease_until IS NOT NULL ORDER BY run_id FOR UPDATE
     ), up AS (
       UPDATE gantry.runs r SET lease_until = now() + $3::double precision * interval '1 millisecond' FROM mine WHERE r.run_id = mine.run_id RETURNING r.run_id
     )
     SELECT run_id, owner, epoch FROM gantry.runs WHERE run_id = ANY ($2)`,
    [peer, roots, leaseMs],
  );
  return rows.map((row) => ({ runId: row.run_id, owner: row.owner ?? undefined, epoch: Number(row.epoch) }));
}

/** The peers whose heartbeat is recent (within `withinMs`), with the runs each holds. */
export async function listPeers(db: pg.Pool, withinMs: number): Promise<PeerInfo[]> {
  const { rows } = await db.query<{ id: string; kind: string; host: string; pid: number; version: string; address: string | null; started_at: Date; heartbeat_at: Date; runs: string[]; run_count: string }>(
    `SELECT p.id, p.kind, p.host, p.pid, p.version, p.address, p.started_at, p.heartbeat_at,
       ARRAY(SELECT run_id FROM gantry.runs r WHERE r.owner = p.id AND r.lease_until IS NOT NULL ORDER BY r.run_id LIMIT 100) AS runs,
       (SELECT count(*) FROM gantry.runs r WHERE r.owner = p.id AND r.lease_until IS NOT NULL) AS run_count
     FROM gantry.peers p WHERE p.heartbeat_at > now() - $1::double precision * interval '1 millisecond' ORDER BY p.started_at, p.id`,
    [withinMs],
  );
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    host: row.host,
    pid: row.pid,
    version: row.version,
    address: row.address ?? undefined,
    startedAt: row.started_at.toISOString(),
    heartbeatAt: row.heartbeat_at.toISOString(),
    runs: row.runs,
    runCount: Number(row.run_count),
  }));
}
