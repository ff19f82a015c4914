import type Database from 'better-sqlite3';
import { checkAfterSeq, GantryError, recordOfRow, type CommitOutcome, type RunRow, type JournalBatch, type ResumptionCount, type RunEvent, type RunFilter, type RunRecord, type RunStatus, type RunStore, type StoreHealth } from '@gantry/engine';
import { sqliteOpenError } from './file-check.js';
import type { WriteLock } from './lock.js';

/** `write`: the one process that appends to the store; `read`: a read-only view beside it. */
export type StoreMode = 'write' | 'read';

/** Every statement the store runs, prepared once when it opens. */
function prepare(db: Database.Database) {
  return {
    insertRun: db.prepare<[string, string, string, string, string | null, string | null, number, string, number | null]>(
      'INSERT INTO runs (run_id, flow_name, flow_hash, flow_text, flow_source, parent_run_id, started_at, status, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    // Writes only when something changes, so that repeating what append already recorded costs no commit.
    setStatus: db.prepare<{ status: string; finishedAt: number | null; runId: string }>(
      'UPDATE runs SET status = @status, finished_at = coalesce(@finishedAt, finished_at) WHERE run_id = @runId AND (status IS NOT @status OR finished_at IS NOT coalesce(@finishedAt, finished_at))',
    ),
    getRun: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE run_id = ?'),
    runExists: db.prepare<[string], number>('SELECT 1 FROM runs WHERE run_id = ?').pluck(),
    listRuns: db.prepare<[number], RunRow>('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?'),
    listByStatus: db.prepare<[string, number], RunRow>('SELECT * FROM runs WHERE status = ? ORDER BY started_at DESC, rowid DESC LIMIT ?'),
    lastSeq: db.prepare<[string], number>('SELECT coalesce(max(seq), 0) FROM events WHERE run_id = ?').pluck(),
    insertEvent: db.prepare<[string, number, string, string | null, string]>('INSERT INTO events (run_id, seq, type, node_id, json) VALUES (?, ?, ?, ?, ?)'),
    insertCompletion: db.prepare<[string, string, string, number]>('INSERT INTO completions (run_id, node_path, outcome, seq) VALUES (?, ?, ?, ?)'),
    completion: db.prepare<[string, string], { outcome: string; seq: number }>('SELECT outcome, seq FROM completions WHERE run_id = ? AND node_path = ?'),
    deleteCompletion: db.prepare<[string, string]>('DELETE FROM completions WHERE run_id = ? AND node_path = ?'),
    reopenRun: db.prepare<[string]>("UPDATE runs SET status = 'running', finished_at = NULL WHERE run_id = ?"),
    events: db.prepare<[string], string>('SELECT json FROM events WHERE run_id = ? ORDER BY seq').pluck(),
    // By the primary key (run_id, seq): a follower reads what is new, not the journal again.
    eventsAfter: db.prepare<[string, number], string>('SELECT json FROM events WHERE run_id = ? AND seq > ? ORDER BY seq').pluck(),
    // The ids as one JSON array: one statement whatever their number, each looked up by the primary key.
    getRuns: db.prepare<[string], RunRow>('SELECT runs.* FROM json_each(?) AS ids JOIN runs ON runs.run_id = ids.value ORDER BY ids.key'),
  };
}

/** The crash-loop counts' statements: prepared on first use (a store of schema version 1 read in read mode has no such table). */
function prepareResumptions(db: Database.Database) {
  const present = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'resumptions'").get() !== undefined;
  if (!present) return undefined;
  return {
    get: db.prepare<[string], { count: number; progress: number }>('SELECT count, progress FROM resumptions WHERE run_id = ?'),
    set: db.prepare<[string, number, number]>('INSERT INTO resumptions (run_id, count, progress) VALUES (?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET count = excluded.count, progress = excluded.progress'),
    forget: db.prepare<[string]>('DELETE FROM resumptions WHERE run_id = ?'),
  };
}

/**
 * A durable {@link RunStore} on one SQLite file (DESIGN §3.6). Open it with `openSqliteStore`.
 *
 * Every write is a transaction committed with `synchronous=FULL` in WAL mode: when `append`,
 * `createRun` or `setStatus` returns, what it wrote is on disk. One `append` is one transaction
 * and one sync of the log, so the engine's batching of a tick's events makes parallel branches
 * share a commit. Beyond the contract:
 * - `append` refuses a second `node.succeeded`/`node.failed` of one node path (the node id, or
 *   `id[3]` for a for_each item) with STORE_CONFLICT, and events of a run never created with
 *   RUN_NOT_FOUND; either way nothing of that batch is written.
 * - `append` records a `run.finished` event's status and time, and `run.waiting`, in the runs
 *   table in the same transaction, so the engine's `setStatus` that follows costs no commit. A
 *   `run.retried` reopens the run and removes the completions of the nodes that run again.
 * - `createRun` refuses an existing id with STORE_CONFLICT.
 * - In read mode the write methods throw USAGE; a closed store throws USAGE on every method.
 */
export class SqliteStore implements RunStore {
  /** The database file, as an absolute path. */
  readonly path: string;
  /** How the store was opened. */
  readonly mode: StoreMode;
  private readonly db: Database.Database;
  private readonly lock: WriteLock | undefined;
  private readonly statements: ReturnType<typeof prepare>;
  /** The last seq of each unfinished run this process wrote to (only the writer appends, so it stays right). */
  private readonly lastSeq = new Map<string, number>();
  private readonly appendBatch: (events: readonly RunEvent[], seqs: Map<string, number>) => void;
  private readonly createBatch: (record: RunRecord, events: readonly RunEvent[], seqs: Map<string, number>) => void;
  private readonly commitBatch: (batch: JournalBatch, seqs: Map<string, number>, conflicts: Set<string>) => void;
  private closed = false;
  private counts: ReturnType<typeof prepareResumptions> | null = null;

  /** @internal Use `openSqliteStore`: it validates the file and takes the lock first. */
  constructor(db: Database.Database, path: string, mode: StoreMode, lock: WriteLock | undefined) {
    this.db = db;
    this.path = path;
    this.mode = mode;
    this.lock = lock;
    this.statements = prepare(db);
    this.appendBatch = db.transaction((events: readonly RunEvent[], seqs: Map<string, number>) => {
      for (const event of events) this.appendOne(event, seqs, events.length);
    }).immediate;
    this.createBatch = db.transaction((record: RunRecord, events: readonly RunEvent[], seqs: Map<string, number>) => {
      this.insertRun(record);
      for (const event of events) this.appendOne(event, seqs, events.length);
    }).immediate;
    this.commitBatch = db.transaction((batch: JournalBatch, seqs: Map<string, number>, conflicts: Set<string>) => {
      const size = batch.events.length;
      for (const { record, events } of batch.created) {
        // A run id that exists is another process's run: nothing of this one is written.
        if (this.statements.runExists.get(record.runId) !== undefined) {
          conflicts.add(record.runId);
          continue;
        }
        this.insertRun(record);
        for (const event of events) this.appendOne(event, seqs, size);
      }
      for (const event of batch.events) if (!conflicts.has(event.runId)) this.appendOne(event, seqs, size);
      for (const { runId, status, finishedAt } of batch.statuses) {
        if (!conflicts.has(runId)) this.statements.setStatus.run({ status, finishedAt: finishedAt ?? null, runId });
      }
    }).immediate;
  }

  /**
   * Writes the engine's batch in one transaction: the runs created (a run id that exists is
   * reported as a conflict, and nothing of that run written), the events, the statuses. One sync
   * of the log for all the runs and requests of the batch.
   */
  commit(batch: JournalBatch): CommitOutcome {
    this.writable('commit');
    const seqs = new Map<string, number>();
    const conflicts = new Set<string>();
    try {
      this.commitBatch(batch, seqs, conflicts);
    } catch (error) {
      throw this.failure(error);
    }
    for (const [runId, seq] of seqs) this.lastSeq.set(runId, seq);
    for (const event of batch.events) if (event.type === 'run.finished') this.lastSeq.delete(event.runId);
    return conflicts.size === 0 ? {} : { conflicts: [...conflicts] };
  }

  /** Records a new run with its first events, in one transaction; a run id that exists is refused with STORE_CONFLICT. */
  createRun(record: RunRecord, events: readonly RunEvent[] = []): void {
    this.writable('createRun');
    const seqs = new Map<string, number>();
    try {
      this.createBatch(record, events, seqs);
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new GantryError('STORE_CONFLICT', `run ${record.runId} exists already in ${this.path}; a run id is used once`, { cause: error });
      }
      throw this.failure(error);
    }
    for (const [runId, seq] of seqs) this.lastSeq.set(runId, seq);
  }

  private insertRun(record: RunRecord): void {
    this.statements.insertRun.run(
      record.runId,
      record.flowName,
      record.flowHash,
      record.flowText,
      record.flowSource ?? null,
      record.parentRunId ?? null,
      record.startedAt,
      record.status,
      record.finishedAt ?? null,
    );
  }

  /** Appends the events in one transaction: all of them are durable when this returns, or none is written. */
  append(events: readonly RunEvent[]): void {
    this.writable('append');
    if (events.length === 0) return;
    const seqs = new Map<string, number>();
    try {
      this.appendBatch(events, seqs);
    } catch (error) {
      throw this.failure(error);
    }
    for (const [runId, seq] of seqs) this.lastSeq.set(runId, seq);
    // A finished run is forgotten here (a late event looks its seq up again): the map stays small.
    for (const event of events) if (event.type === 'run.finished') this.lastSeq.delete(event.runId);
  }

  private appendOne(event: RunEvent, seqs: Map<string, number>, batchSize: number): void {
    const { runId, type } = event;
    const seq = (seqs.get(runId) ?? this.lastSeq.get(runId) ?? this.statements.lastSeq.get(runId) ?? 0) + 1;
    seqs.set(runId, seq);
    const nodeId = 'nodeId' in event && event.nodeId !== undefined ? event.nodeId : null;
    try {
      this.statements.insertEvent.run(runId, seq, type, nodeId, JSON.stringify(event));
    } catch (error) {
      const code = sqliteCode(error);
      if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new GantryError('RUN_NOT_FOUND', `cannot append ${type} to run ${runId}: no such run was created in ${this.path}; nothing of this write (${batchSize} events) was recorded`);
      }
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new GantryError('STORE_CONFLICT', `event ${seq} of run ${runId} is taken: something else wrote to ${this.path}; nothing of this write (${batchSize} events) was recorded`);
      }
      throw error;
    }
    if (type === 'node.succeeded' || type === 'node.failed') {
      const path = event.item === undefined ? event.nodeId : `${event.nodeId}[${event.item}]`;
      const outcome = type === 'node.succeeded' ? 'succeeded' : 'failed';
      try {
        this.statements.insertCompletion.run(runId, path, outcome, seq);
      } catch (error) {
        if (sqliteCode(error) !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
        const earlier = this.statements.completion.get(runId, path);
        throw new GantryError(
          'STORE_CONFLICT',
          `run ${runId}: node ${path} already ${earlier?.outcome ?? 'completed'} (event ${earlier?.seq ?? '?'}); a second ${type} for it was refused, and nothing of this write (${batchSize} events) was recorded`,
          { nodeId: event.nodeId },
        );
      }
    } else if (type === 'run.finished') {
      this.statements.setStatus.run({ status: event.status, finishedAt: event.at, runId });
    } else if (type === 'run.waiting') {
      this.statements.setStatus.run({ status: 'waiting', finishedAt: null, runId });
    } else if (type === 'run.retried') {
      // The nodes that run again complete again: their completions go, the run is unfinished again.
      for (const nodeId of event.nodes) this.statements.deleteCompletion.run(runId, nodeId);
      this.statements.reopenRun.run(runId);
    }
  }

  /** Marks a run's status for listing (an unknown run id is ignored, as by MemoryStore). */
  setStatus(runId: string, status: RunStatus, finishedAt?: number): void {
    this.writable('setStatus');
    try {
      this.statements.setStatus.run({ status, finishedAt: finishedAt ?? null, runId });
    } catch (error) {
      throw this.failure(error);
    }
  }

  getRun(runId: string): RunRecord | undefined {
    this.usable();
    const row = this.read(() => this.statements.getRun.get(runId));
    return row === undefined ? undefined : recordOfRow(row);
  }

  /** The records of those of `runIds` that exist, in the order asked, in one query. */
  getRuns(runIds: readonly string[]): RunRecord[] {
    this.usable();
    return this.read(() => this.statements.getRuns.all(JSON.stringify(runIds))).map(recordOfRow);
  }

  /** The run's journal in order; empty for an unknown run. */
  events(runId: string): readonly RunEvent[] {
    this.usable();
    return this.read(() => this.statements.events.all(runId)).map((json) => JSON.parse(json) as RunEvent);
  }

  /** The run's events after its first `afterSeq`, in order; empty for an unknown run. */
  eventsAfter(runId: string, afterSeq: number): readonly RunEvent[] {
    this.usable();
    checkAfterSeq(afterSeq);
    return this.read(() => this.statements.eventsAfter.all(runId, afterSeq)).map((json) => JSON.parse(json) as RunEvent);
  }

  /** Runs newest first (by start time), optionally of one status, at most `limit` of them. */
  listRuns(filter: RunFilter = {}): RunRecord[] {
    this.usable();
    const limit = filter.limit ?? -1;
    if (filter.limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
      throw new GantryError('USAGE', `listRuns: expected limit to be an integer ≥ 0, got ${String(filter.limit)} (${typeof filter.limit})`);
    }
    const simple = filter.parentRunId === undefined && (filter.status === undefined || typeof filter.status === 'string');
    if (simple) {
      const status = filter.status as RunStatus | undefined;
      const rows = this.read(() => (status === undefined ? this.statements.listRuns.all(limit) : this.statements.listByStatus.all(status, limit)));
      return rows.map(recordOfRow);
    }
    // Several statuses or a parent: a query built for the filter, its values bound, never spliced.
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
      where.push(`status IN (${statuses.map(() => '?').join(', ') || 'NULL'})`);
      values.push(...statuses);
    }
    if (filter.parentRunId === null) where.push('parent_run_id IS NULL');
    else if (filter.parentRunId !== undefined) {
      where.push('parent_run_id = ?');
      values.push(filter.parentRunId);
    }
    const sql = `SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT ?`;
    const rows = this.read(() => this.db.prepare<(string | number)[], RunRow>(sql).all(...values, limit));
    return rows.map(recordOfRow);
  }

  /** A run's crash-loop count (the engine's, before each resumption); undefined when none is kept. */
  resumptions(runId: string): ResumptionCount | undefined {
    this.usable();
    const row = this.read(() => this.countStatements()?.get.get(runId));
    return row === undefined ? undefined : { count: row.count, progress: row.progress };
  }

  /** Records a run's crash-loop count, committed before it returns; undefined forgets it. */
  setResumptions(runId: string, count: ResumptionCount | undefined): void {
    this.writable('setResumptions');
    try {
      const statements = this.countStatements()!;
      if (count === undefined) statements.forget.run(runId);
      else statements.set.run(runId, count.count, count.progress);
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new GantryError('RUN_NOT_FOUND', `cannot count a resumption of run ${runId}: no such run in ${this.path}`);
      throw this.failure(error);
    }
  }

  private countStatements(): ReturnType<typeof prepareResumptions> {
    if (this.counts === null) this.counts = prepareResumptions(this.db);
    return this.counts;
  }

  /** What GET /health says of the store: its file, and whether this process may write to it. */
  health(): StoreHealth {
    const writable = !this.closed && this.mode === 'write' && this.lock?.lost !== true;
    return { kind: 'sqlite', writable, details: { path: this.path, ...(writable ? {} : { why: this.closed ? 'closed' : this.mode === 'read' ? 'opened read-only' : 'another process took its lock over' }) } };
  }

  /** Resolves at once: every write is durable when its method returns. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Closes the database and, in write mode, releases the lock; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } finally {
      this.lock?.release();
    }
  }

  private usable(): void {
    if (this.closed) throw new GantryError('USAGE', `run store ${this.path} is closed`);
  }

  private writable(method: string): void {
    this.usable();
    if (this.mode === 'read') throw new GantryError('USAGE', `${method}: run store ${this.path} was opened read-only (mode 'read')`);
    if (this.lock?.lost) {
      throw new GantryError(
        'STORE_LOCKED',
        `${method}: run store ${this.path} was taken over by another process (this one's lock ${this.lock.path} is no longer its own: was this process stopped or frozen for long?); it writes nothing more to it`,
      );
    }
  }

  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** A GantryError for what the caller can act on (a damaged or read-only file); other SQLite errors (disk full, I/O) pass as they are. */
  private failure(error: unknown): unknown {
    if (error instanceof GantryError) return error;
    const code = sqliteCode(error);
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_READONLY')) return sqliteOpenError(this.path, error);
    return error;
  }
}

function sqliteCode(error: unknown): string {
  return String((error as { code?: unknown } | undefined)?.code ?? '');
}
