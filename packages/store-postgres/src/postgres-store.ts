import type pg from 'pg';
import {
  checkAfterSeq,
  GantryError,
  recordOfRow,
  type CommitOutcome,
  type JournalBatch,
  type ResumptionCount,
  type RunEvent,
  type RunFilter,
  type RunRecord,
  type RunRow,
  type RunStatus,
  type RunStore,
  type StoreHealth,
  type HeadsAnswer,
  type HeadsQuery,
  type PeerInfo,
} from '@gantry/engine';
import { COMMIT_SQL, prepareBatch, rootOf } from './batch.js';
import { isTransient, sqlState, storeFailure, type Target } from './connect.js';
import { listenForWork } from './wakeups.js';
import { journalHeads } from './journal-heads.js';
import { claimRun, claimReady, listPeers, nextDueMs, releaseAll, releaseRun, renewLeases, type ReadyClaim } from './leases.js';
import type { ResolvedStoreOptions } from './options.js';
import { JOURNAL_FORMAT, SCHEMA_VERSION } from './schema.js';

/** The columns of gantry.runs a read takes: a RunRow (recordOfRow). */
const RUN_COLUMNS = 'run_id, flow_name, flow_hash, flow_text, flow_source, parent_run_id, started_at, status, finished_at';

/** What the store counts, for /metrics. */
export interface StoreStats {
  /** Runs whose events a commit refused because another process holds them now (per run and commit). */
  fencedWrites: number;
  /** Runs this process took from another that held them (its lease ran out, or a decision took it). */
  takeovers: number;
  /** Runs this process found, at a heartbeat, held by another (it had been paused or cut off). */
  lostLeases: number;
  /** Commits sent again after the database was lost. */
  commitRetries: number;
}

/** What lets go of a run this process lost (the engine: `engine.drop`). */
export interface RunDropper {
  drop(runId: string, reason: string): boolean;
}

/** How often a process removes the rows of peers silent for an hour. */
const SWEEP_EVERY_MS = 60_000;

/** How many finished top-level runs keep their epoch here, for an event that comes after run.finished. */
const ENDED_KEPT = 1024;

/**
 * A {@link RunStore} on Postgres that several processes share (DESIGN §9). Open it with
 * `openPostgresStore`. Beyond the contract of the SQLite store (a node completes once, run ids
 * are unique, run.retried reopens a run):
 * - every top-level run is held by one process at a time, at an epoch each claim bumps; every
 *   commit is fenced by it, per run, inside the transaction: a run this process no longer holds
 *   has nothing written and is reported `fenced`, the rest of the batch is written;
 * - leases are renewed by a heartbeat every `heartbeatMs`; a run found held by another process is
 *   lost, and the engine it is attached to drops it;
 * - with `park`, a top-level run that comes to wait past `parkAfterMs` is handed back in the
 *   commit that records it (`parked`): it holds no lease, and becomes claimable when its earliest
 *   timer is due, or at once when a decision is given through any process;
 * - a commit that fails because the database went away is sent again (with backoff) until it
 *   returns; the same batch number makes a repeat that had in fact been committed write nothing.
 */
export class PostgresStore implements RunStore {
  readonly durable = true;
  /** This process's id among the peers (write mode). */
  readonly peerId: string;
  readonly stats: StoreStats = { fencedWrites: 0, takeovers: 0, lostLeases: 0, commitRetries: 0 };
  /** Top-level runs this process holds, with their epoch. */
  private readonly held = new Map<string, number>();
  /** Top-level runs that finished here, with the epoch they finished at (a ring). */
  private readonly ended = new Map<string, number>();
  private batchNumber = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastRenewal = Date.now();
  private lastSweep = 0;
  private droppers = new Set<RunDropper>();
  private closed = false;
  /** Commits under way, awaited by close. */
  private readonly committing = new Set<Promise<unknown>>();
  /** The commit under way, which the next one waits for. */
  private queue: Promise<void> = Promise.resolve();
  /** The database was lost: said once, and said again when it is back. */
  private outage = false;

  /** @internal Use `openPostgresStore`. */
  constructor(
    private readonly pool: pg.Pool,
    /** Kept for connections of their own (LISTEN); never shown: it may hold a password. */
    private readonly url: string,
    readonly target: Target,
    readonly mode: 'write' | 'read',
    /** False in read mode on a database Gantry never wrote: an empty store. */
    private readonly present: boolean,
    private readonly options: ResolvedStoreOptions,
    peerId: string,
  ) {
    this.peerId = peerId;
    if (mode === 'write') this.scheduleHeartbeat();
  }

  /** Lets `dropper` (an engine) drop the runs this process loses, as a heartbeat finds them. */
  attach(dropper: RunDropper): () => void {
    this.droppers.add(dropper);
    return () => this.droppers.delete(dropper);
  }

  /** Top-level runs this process holds now. */
  heldRuns(): string[] {
    return [...this.held.keys()];
  }

  // ---- the journal ---------------------------------------------------------------------------

  async commit(batch: JournalBatch): Promise<CommitOutcome> {
    this.writable('commit');
    const prepared = prepareBatch(batch, {
      epochOf: (root) => this.held.get(root) ?? this.ended.get(root),
      parks: (until) => this.options.park && until - this.options.clock() >= this.options.parkAfterMs,
    });
    // One commit at a time, numbered in the order they are sent: a repeat is recognised by its
    // number being at most the last one recorded, which holds only if none overtakes another.
    const sending = this.queue.then(() => this.send(++this.batchNumber, prepared.args));
    this.queue = sending.then(
      () => {},
      () => {},
    );
    this.committing.add(sending);
    let raw: string | null;
    try {
      raw = await sending;
    } finally {
      this.committing.delete(sending);
    }
    const answer = raw === null ? undefined : (JSON.parse(raw) as { conflicts: string[]; fenced: string[] });
    const fencedRoots = new Set(answer?.fenced ?? []);
    for (const root of prepared.createdRoots) if (!answer?.conflicts.includes(root)) this.held.set(root, 1);
    for (const root of prepared.finishedRoots) {
      if (fencedRoots.has(root)) continue;
      const epoch = this.held.get(root);
      if (epoch !== undefined) this.remember(root, epoch);
      this.held.delete(root);
    }
    const parked = prepared.parkedRoots.filter((root) => !fencedRoots.has(root) && !answer?.conflicts.includes(root));
    for (const root of parked) this.held.delete(root);
    const fenced: string[] = [];
    for (const root of fencedRoots) {
      this.held.delete(root);
      for (const runId of prepared.runsByRoot.get(root) ?? []) fenced.push(runId);
    }
    this.stats.fencedWrites += fenced.length;
    const outcome: { conflicts?: string[]; fenced?: string[]; parked?: string[] } = {};
    if (answer !== undefined && answer.conflicts.length > 0) outcome.conflicts = answer.conflicts;
    if (fenced.length > 0) outcome.fenced = fenced;
    if (parked.length > 0) outcome.parked = parked;
    return outcome;
  }

  /** Sends a commit until it is answered: a lost database is waited for, never reported as a failure of the runs. */
  private async send(batchNumber: number, args: unknown[]): Promise<string | null> {
    let delay = this.options.retryBaseMs;
    for (;;) {
      try {
        const { rows } = await this.pool.query<{ outcome: string | null }>(COMMIT_SQL, [this.peerId, batchNumber, this.options.leaseMs, ...args]);
        if (this.outage) {
          this.outage = false;
          this.options.logger.info({ store: this.target.display }, 'the run store is back: runs carry on');
        }
        return rows[0]!.outcome;
      } catch (error) {
        if (!isTransient(error) || this.closed) throw this.failure(error);
        this.stats.commitRetries++;
        if (!this.outage) {
          this.outage = true;
          this.options.logger.warn({ err: error, store: this.target.display }, 'the run store cannot be reached: runs pause until it is back (their journal waits, nothing is lost)');
        }
        await sleep(delay);
        delay = Math.min(delay * 2, this.options.retryMaxMs);
      }
    }
  }

  private remember(root: string, epoch: number): void {
    this.ended.set(root, epoch);
    if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
  }

  /** Records a new run with its first events; a run id that exists is refused with STORE_CONFLICT. */
  async createRun(record: RunRecord, events: readonly RunEvent[] = []): Promise<void> {
    const outcome = await this.commit({ created: [{ record, events }], events: [], statuses: [] });
    if (outcome.conflicts?.includes(record.runId)) throw new GantryError('STORE_CONFLICT', `run ${record.runId} exists already in ${this.target.display}; a run id is used once`);
    if (outcome.fenced?.includes(record.runId)) throw released(record.runId);
  }

  /** Appends events in one commit; refused (RUN_RELEASED) if this process does not hold their runs. */
  async append(events: readonly RunEvent[]): Promise<void> {
    if (events.length === 0) return;
    const outcome = await this.commit({ created: [], events, statuses: [] });
    if (outcome.fenced !== undefined) throw released(outcome.fenced[0]!);
  }

  /** Marks a run's status for listing (an unknown run, or one another process holds, is left alone). */
  async setStatus(runId: string, status: RunStatus, finishedAt?: number): Promise<void> {
    await this.commit({ created: [], events: [], statuses: [finishedAt === undefined ? { runId, status } : { runId, status, finishedAt }] });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    if (!this.readable()) return undefined;
    const { rows } = await this.read(() => this.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM gantry.runs WHERE run_id = $1`, [runId]));
    return rows[0] === undefined ? undefined : recordOfRow(rows[0]);
  }

  /** The records of those of `runIds` that exist, in the order asked, in one query. */
  async getRuns(runIds: readonly string[]): Promise<RunRecord[]> {
    if (!this.readable() || runIds.length === 0) return [];
    const { rows } = await this.read(() => this.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM gantry.runs WHERE run_id = ANY ($1)`, [[...runIds]]));
    const byId = new Map(rows.map((row) => [row.run_id, row]));
    return runIds.flatMap((runId) => {
      const row = byId.get(runId);
      return row === undefined ? [] : [recordOfRow(row)];
    });
  }

  /** The run's journal in order; empty for an unknown run. */
  async events(runId: string): Promise<readonly RunEvent[]> {
    return this.eventsAfter(runId, 0);
  }

  /** The run's events after its first `afterSeq`, in order (by the primary key, run_id and seq); empty for an unknown run. */
  async eventsAfter(runId: string, afterSeq: number): Promise<readonly RunEvent[]> {
    checkAfterSeq(afterSeq);
    if (!this.readable()) return [];
    const { rows } = await this.read(() => this.pool.query<{ json: string }>('SELECT json FROM gantry.events WHERE run_id = $1 AND seq > $2::bigint ORDER BY seq', [runId, afterSeq]));
    return rows.map((row) => JSON.parse(row.json) as RunEvent);
  }

  /** Runs newest first (by start time), filtered by status and parent, at most `limit`. */
  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    if (!this.readable()) return [];
    const limit = filter.limit;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
      throw new GantryError('USAGE', `listRuns: expected limit to be an integer ≥ 0, got ${String(limit)} (${typeof limit})`);
    }
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.status !== undefined) {
      values.push(typeof filter.status === 'string' ? [filter.status] : [...filter.status]);
      where.push(`status = ANY ($${values.length})`);
    }
    if (filter.parentRunId === null) where.push('parent_run_id IS NULL');
    else if (filter.parentRunId !== undefined) {
      values.push(filter.parentRunId);
      where.push(`parent_run_id = $${values.length}`);
    }
    values.push(limit ?? null);
    const sql = `SELECT ${RUN_COLUMNS} FROM gantry.runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, n DESC LIMIT $${values.length}`;
    const { rows } = await this.read(() => this.pool.query<RunRow>(sql, values));
    return rows.map(recordOfRow);
  }

  async resumptions(runId: string): Promise<ResumptionCount | undefined> {
    if (!this.readable()) return undefined;
    const { rows } = await this.read(() => this.pool.query<{ count: number; progress: number }>('SELECT count, progress FROM gantry.resumptions WHERE run_id = $1', [runId]));
    return rows[0] === undefined ? undefined : { count: rows[0].count, progress: rows[0].progress };
  }

  async setResumptions(runId: string, count: ResumptionCount | undefined): Promise<void> {
    this.writable('setResumptions');
    try {
      if (count === undefined) await this.pool.query('DELETE FROM gantry.resumptions WHERE run_id = $1', [runId]);
      else {
        await this.pool.query('INSERT INTO gantry.resumptions (run_id, count, progress) VALUES ($1, $2, $3) ON CONFLICT (run_id) DO UPDATE SET count = excluded.count, progress = excluded.progress', [
          runId,
          count.count,
          count.progress,
        ]);
      }
    } catch (error) {
      if (sqlState(error) === '23503') throw new GantryError('RUN_NOT_FOUND', `cannot count a resumption of run ${runId}: no such run in ${this.target.display}`);
      throw this.failure(error);
    }
  }

  /** Resolves at once: a commit is durable when it resolves. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  // ---- ownership -----------------------------------------------------------------------------

  async claim(runId: string, force: boolean): Promise<boolean> {
    this.writable('claim');
    const root = rootOf(runId);
    if (this.held.has(root)) return false;
    const found = await this.read(() => claimRun(this.pool, root, this.peerId, force, this.options.leaseMs));
    if (found === undefined) throw new GantryError('RUN_NOT_FOUND', `no run ${runId} in ${this.target.display}`);
    if (found.epoch === undefined) {
      const who = found.holder === undefined ? `process ${found.previous}` : `${found.holder.kind} process ${found.holder.pid} on ${found.holder.host}`;
      throw new GantryError('RUN_HELD', `run ${runId} is carried on by ${who}, whose lease runs ${(found.remainingMs / 1000).toFixed(1)} s more (renewed while it lives); it goes on there`);
    }
    this.held.set(root, found.epoch);
    this.ended.delete(root);
    // A finished run keeps its last holder's name: claiming it (a retry) takes nothing from anyone.
    if (found.previous !== undefined && found.previous !== this.peerId && (found.status === 'running' || found.status === 'waiting')) {
      this.stats.takeovers++;
      this.options.logger.info({ runId: root, from: found.previous, epoch: found.epoch, live: found.wasLive }, `run ${root} taken over from ${found.previous}${found.wasLive ? ' (its lease was live: a decision or cancellation from here)' : ' (its lease had run out)'}`);
    }
    return true;
  }

  async release(runId: string): Promise<void> {
    await this.giveBack(rootOf(runId), 0);
  }

  /** Gives back a top-level run this process holds; any process may claim it after `delayMs`. */
  async giveBack(root: string, delayMs: number): Promise<void> {
    const epoch = this.held.get(root);
    if (epoch === undefined) return;
    this.held.delete(root);
    await this.read(() => releaseRun(this.pool, root, this.peerId, epoch, delayMs));
  }

  /** Claims up to `limit` runs that are ready for any process (a peer's claim loop). */
  async claimReady(limit: number): Promise<ReadyClaim[]> {
    this.writable('claimReady');
    const claimed = await this.read(() => claimReady(this.pool, this.peerId, limit, this.options.leaseMs, JOURNAL_FORMAT));
    for (const c of claimed) {
      this.held.set(c.runId, c.epoch);
      this.ended.delete(c.runId);
      if (c.previous !== undefined) this.stats.takeovers++;
    }
    return claimed;
  }

  /** Milliseconds until the next run becomes claimable by this process. */
  nextDueMs(): Promise<number | undefined> {
    return this.read(() => nextDueMs(this.pool, this.peerId));
  }

  /**
   * Calls `onWake` when another process says work is ready (NOTIFY), on a connection of its own
   * that reconnects when lost; returns what stops listening. A hint only (see wakeups.ts).
   */
  listen(onWake: () => void): () => Promise<void> {
    return listenForWork(this.url, this.options, onWake);
  }

  /**
   * Where the journals of some runs' trees are now (and with `startedAfter`, those of the
   * unfinished and recent top-level runs): how a peer's live streams follow what the others
   * commit. One cheap read when no process has committed since the last answer's `mark`.
   */
  heads(query: HeadsQuery): Promise<HeadsAnswer> {
    if (!this.readable()) return Promise.resolve({ mark: '', heads: [] });
    return this.read(() => journalHeads(this.pool, query));
  }

  /** The live peers (heartbeat within three leases), with the runs each holds. */
  peers(): Promise<PeerInfo[]> {
    if (!this.readable()) return Promise.resolve([]);
    return this.read(() => listPeers(this.pool, this.options.leaseMs * 3));
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = setTimeout(() => {
      this.renew().finally(() => {
        if (!this.closed) this.scheduleHeartbeat();
      });
    }, this.options.heartbeatMs);
    // The runs keep the process alive, not their leases.
    this.heartbeat.unref();
  }

  /** Renews the leases this process holds; drops the runs another process holds now. */
  async renew(): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO gantry.peers (id, kind, host, pid, version, address) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), address = excluded.address`,
        [this.peerId, this.options.kind, this.options.host, process.pid, this.options.version, this.options.address() ?? null],
      );
      const roots = [...this.held.entries()];
      if (roots.length > 0) {
        const states = await renewLeases(
          this.pool,
          this.peerId,
          roots.map(([root]) => root),
          this.options.leaseMs,
        );
        const now = new Map(states.map((s) => [s.runId, s]));
        for (const [root, epoch] of roots) {
          const state = now.get(root);
          if (this.held.get(root) !== epoch) continue; // changed meanwhile: finished, parked, released
          if (state !== undefined && (state.owner === this.peerId || state.owner === undefined) && state.epoch === epoch) continue;
          this.held.delete(root);
          this.stats.lostLeases++;
          const reason = `its lease here ran out and ${state?.owner ?? 'another process'} took it over (epoch ${state?.epoch ?? '?'}, this process had ${epoch}): was this process paused or cut off from the store?`;
          this.options.logger.warn({ runId: root, by: state?.owner, epoch: state?.epoch }, `run ${root} is lost to another process: ${reason}; nothing more of it is recorded here`);
          for (const dropper of this.droppers) dropper.drop(root, reason);
        }
      }
      this.lastRenewal = Date.now();
      // Processes that died without leaving (SIGKILL) leave their row: swept now and then by anyone.
      if (this.lastRenewal - this.lastSweep > SWEEP_EVERY_MS) {
        this.lastSweep = this.lastRenewal;
        await this.pool.query("DELETE FROM gantry.peers WHERE heartbeat_at < now() - interval '1 hour'");
      }
    } catch (error) {
      if (!isTransient(error)) this.options.logger.error({ err: error }, 'the leases of this process could not be renewed');
    }
  }

  // ---- the store as a whole ------------------------------------------------------------------

  async health(): Promise<StoreHealth> {
    const details = { database: this.target.display, peer: this.peerId, schema_version: SCHEMA_VERSION, runs_held: this.held.size };
    if (this.mode === 'read') return { kind: 'postgres', writable: false, details: { ...details, why: 'opened read-only' } };
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      return { kind: 'postgres', writable: false, details: { ...details, why: `cannot be reached: ${(error as Error).message}` } };
    }
    // Writable means its leases are being renewed: a write every heartbeat.
    const since = Date.now() - this.lastRenewal;
    if (since > this.options.leaseMs) return { kind: 'postgres', writable: false, details: { ...details, why: `no lease renewed for ${since} ms` } };
    return { kind: 'postgres', writable: true, details };
  }

  /**
   * Closes the store: commits under way are let finish, the runs this process holds are given
   * back (any other process takes them at once), it leaves the peers, and the pool ends.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.heartbeat);
    try {
      await Promise.allSettled([...this.committing]);
      if (this.mode === 'write') {
        await releaseAll(this.pool, this.peerId);
        await this.pool.query('DELETE FROM gantry.peers WHERE id = $1', [this.peerId]);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'the runs of this process could not be given back: the others take them once its leases run out');
    } finally {
      this.held.clear();
      await this.pool.end();
    }
  }

  private readable(): boolean {
    if (this.closed) throw new GantryError('USAGE', `run store ${this.target.display} is closed`);
    return this.present;
  }

  private writable(method: string): void {
    if (this.closed) throw new GantryError('USAGE', `run store ${this.target.display} is closed`);
    if (this.mode === 'read') throw new GantryError('USAGE', `${method}: run store ${this.target.display} was opened read-only (mode 'read')`);
  }

  private async read<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw this.failure(error);
    }
  }

  private failure(error: unknown): unknown {
    return storeFailure(this.target, error);
  }
}

function released(runId: string): GantryError {
  return new GantryError('RUN_RELEASED', `run ${runId}: nothing was written, another process holds it now`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
