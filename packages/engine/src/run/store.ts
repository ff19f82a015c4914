import { GantryError } from '../errors.js';
import type { Writable } from '../flow-types.js';
import type { FinalRunStatus, RunEvent, RunStatus } from './events.js';
import { SlotMap } from './slot-map.js';

/** What a store keeps about a run besides its journal: enough to list runs and resume them. */
export interface RunRecord {
  readonly runId: string;
  readonly flowName: string;
  /** The flow version the run stays on (DESIGN §3.6). */
  readonly flowHash: string;
  /** The flow's text, so a run can resume even if the file has changed since. */
  readonly flowText: string;
  readonly flowSource?: string;
  readonly parentRunId?: string;
  readonly startedAt: number;
  status: RunStatus;
  finishedAt?: number;
}

export interface RunFilter {
  /** Only runs with this status (or one of these). */
  readonly status?: RunStatus | readonly RunStatus[];
  /** Only the sub-flow runs of this run; `null` for top-level runs only. */
  readonly parentRunId?: string | null;
  readonly limit?: number;
}

/** Whether a run passes a filter's status and parent conditions (for stores that filter in code). */
export function matchesFilter(record: RunRecord, filter: RunFilter): boolean {
  const { status, parentRunId } = filter;
  if (status !== undefined && !(typeof status === 'string' ? record.status === status : status.includes(record.status))) return false;
  if (parentRunId !== undefined && (record.parentRunId ?? null) !== parentRunId) return false;
  return true;
}

/** A run's row in a SQL store (SQLite, Postgres): the record's fields in snake_case, NULL for those absent. */
export interface RunRow {
  run_id: string;
  flow_name: string;
  flow_hash: string;
  flow_text: string;
  flow_source: string | null;
  parent_run_id: string | null;
  started_at: number;
  status: string;
  finished_at: number | null;
}

/** The record a SQL store's row holds. */
export function recordOfRow(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    flowName: row.flow_name,
    flowHash: row.flow_hash,
    flowText: row.flow_text,
    ...(row.flow_source === null ? {} : { flowSource: row.flow_source }),
    ...(row.parent_run_id === null ? {} : { parentRunId: row.parent_run_id }),
    startedAt: row.started_at,
    status: row.status as RunStatus,
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
  };
}

/** Refuses an `afterSeq` that is not a count of events (USAGE), before a store binds it to a query. */
export function checkAfterSeq(afterSeq: number): void {
  if (!(Number.isSafeInteger(afterSeq) && afterSeq >= 0)) {
    throw new GantryError('USAGE', `eventsAfter: expected afterSeq to be an integer ≥ 0 (a count of events), got ${String(afterSeq)} (${typeof afterSeq})`);
  }
}

/** A value now, or a promise of it: the SQLite and memory stores answer at once, Postgres later. */
export type Awaitable<T> = T | Promise<T>;

/** A run to create, with its first events (run.started), in a batch. */
export interface CreatedRun {
  readonly record: RunRecord;
  readonly events: readonly RunEvent[];
}

/**
 * One commit of the engine's journal writer: runs to create, then events of any runs in order,
 * then statuses for listing. Everything in it is durable together when `commit` resolves.
 */
export interface JournalBatch {
  readonly created: readonly CreatedRun[];
  readonly events: readonly RunEvent[];
  readonly statuses: readonly StatusChange[];
}

export interface StatusChange {
  readonly runId: string;
  readonly status: RunStatus;
  readonly finishedAt?: number;
}

/** What a commit refused without failing the rest of its batch, and what it handed back. */
export interface CommitOutcome {
  /**
   * Runs of `created` whose id existed already (another process made it: a webhook delivery
   * repeated to another peer). Nothing of such a run was written, its events neither.
   */
  readonly conflicts?: readonly string[];
  /**
   * Runs whose events were refused because this process no longer holds them: another process
   * claimed them since (a shared store's lease ran out: this one was paused, killed or cut off),
   * or they were handed back. Nothing of theirs in the batch was written; the other runs' were.
   * The engine stops them at once, recording nothing more (DESIGN §9).
   */
  readonly fenced?: readonly string[];
  /**
   * Top-level runs the store took back from this process once their events were written: they
   * wait (for a human, or a timer due later) and any process carries them on when they are due or
   * decided. The engine lets go of them (and their sub-flow runs) without recording anything more.
   */
  readonly parked?: readonly string[];
}

/** What a store says of itself, for GET /health. */
export interface StoreHealth {
  /** `sqlite`, `postgres`, … */
  readonly kind: string;
  /** Whether this process can write to it now. */
  readonly writable: boolean;
  /** More, in plain data: the file, the database, why it cannot write. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * A run store: a journal of events per run, appended before a state change is acknowledged.
 * Small on purpose, so that a SQLite store and a Postgres store follow the same contract; every
 * method may answer at once (SQLite, memory) or with a promise (Postgres).
 */
export interface RunStore {
  /**
   * Records a new run with its first events (run.started), in one commit: a run is never found
   * without its start. Refuses a run id that exists (STORE_CONFLICT).
   */
  createRun(record: RunRecord, events?: readonly RunEvent[]): Awaitable<void>;
  /** Appends events (of one or several runs) to their runs' journals, in order. */
  append(events: readonly RunEvent[]): Awaitable<void>;
  /**
   * Writes a batch in one commit (group commit: the creations of concurrent requests and the
   * steps of every run, one sync for all). Optional: without it the engine calls createRun,
   * append and setStatus in turn. A run id that exists is reported in `conflicts`, not thrown.
   */
  commit?(batch: JournalBatch): Awaitable<CommitOutcome | void>;
  /** Marks a run's status (for listing); the journal stays the source of truth. */
  setStatus(runId: string, status: RunStatus, finishedAt?: number): Awaitable<void>;
  getRun(runId: string): Awaitable<RunRecord | undefined>;
  /**
   * The records of those of `runIds` that exist, in the order asked, in one read (a schedule
   * looks for its last run among 100 run ids). Optional: `readRuns` asks getRun for each id of a
   * store without it.
   */
  getRuns?(runIds: readonly string[]): Awaitable<RunRecord[]>;
  /** The run's journal in order; empty for an unknown run. */
  events(runId: string): Awaitable<readonly RunEvent[]>;
  /**
   * The run's events after its first `afterSeq` (seq counts from 1 within a run), in order: empty
   * for an unknown run, or when nothing was appended past `afterSeq`. A follower (`gantry logs
   * --follow`, the server's live streams) reads only what is new, by the journal's index, instead
   * of the whole journal each time. Optional: `readEventsAfter` slices `events` for a store
   * without it.
   */
  eventsAfter?(runId: string, afterSeq: number): Awaitable<readonly RunEvent[]>;
  listRuns(filter?: RunFilter): Awaitable<RunRecord[]>;
  /** Resolves once everything appended so far is durable. */
  flush?(): Promise<void>;
  /**
   * Whether the journal survives the process. Unless a store says `false`, what all runs record
   * in one turn of the event loop is committed together (parallel branches, concurrent runs and
   * requests share a commit) and executors start only once their
   * node.started is written (an effect is never made by an attempt the journal does not know
   * of). A store that says `false` has nothing to wait for: it gets each event as it is
   * recorded, one append each, and must answer at once. @default true
   */
  readonly durable?: boolean;
  close?(): Awaitable<void>;
  /**
   * The crash-loop count of a run (optional, with `setResumptions`): what was last recorded by
   * `setResumptions`, or undefined. An engine whose store has both counts resumptions, so that a
   * run whose resumption keeps killing the process is set aside (`crashLoop` engine option).
   */
  resumptions?(runId: string): Awaitable<ResumptionCount | undefined>;
  /** Records a run's crash-loop count, durably before returning; undefined forgets it. */
  setResumptions?(runId: string, count: ResumptionCount | undefined): Awaitable<void>;
  /**
   * For a store several processes share (DESIGN §9): takes a stored run — its whole tree, the
   * top-level run and its sub-flow runs — for this process before the engine writes to it while
   * it is not live here (resume, retry, a decision or a cancellation from here). Whoever held it
   * before can record nothing more for it. Without `force`, a run another live process holds is
   * refused with RUN_HELD; with it (a decision or a cancellation, which must not wait) it is
   * taken from that process, which stops it. Resolves true when it took the run, false when this
   * process held it already.
   */
  claim?(runId: string, force: boolean): Awaitable<boolean>;
  /**
   * Gives back a run this process claimed but does not carry on (it decided or cancelled it from
   * here): any process may carry it on at once. Nothing happens if another process holds it now.
   */
  release?(runId: string): Awaitable<void>;
  /** What the store is and whether this process can write to it (GET /health). */
  health?(): Awaitable<StoreHealth>;
}

/** A run's crash-loop count, as the engine records it before each resumption. */
export interface ResumptionCount {
  /** Resumptions in a row that the process may not have survived. */
  readonly count: number;
  /** How far the run (with its sub-flow runs) had come when it was last counted: see `crashLoop`. */
  readonly progress: number;
}

export interface MemoryStoreOptions {
  /**
   * Finished runs kept (the oldest are forgotten first), so that a long-lived process does not
   * keep every journal forever. Unfinished runs are always kept. @default 1000
   */
  keepFinished?: number;
}

/** The key of MemoryStore's journal method: the engine's alone, not exported from the package. */
export const JOURNAL = Symbol('gantry.journal');

interface StoredRun {
  readonly record: RunRecord;
  readonly events: RunEvent[];
}

/**
 * The in-memory store: runs live as long as the process (the default until a store is given).
 * An engine made with it pushes each event to the run's journal itself; one made with a subclass
 * that overrides `append`, or with an instance whose `append` was replaced, calls that `append`.
 */
export class MemoryStore implements RunStore {
  /** Runs end with the process: executors need not wait for a journal write. */
  readonly durable = false;
  private readonly runs = new SlotMap<StoredRun>();
  /** The finished runs kept, oldest first from `oldest`: a ring of `keepFinished` ids. */
  private readonly finished: string[] = [];
  private oldest = 0;
  private readonly keepFinished: number;
  private readonly counts = new Map<string, ResumptionCount>();

  constructor(options: MemoryStoreOptions = {}) {
    const keep = options.keepFinished ?? 1000;
    if (!(keep === Infinity || (Number.isInteger(keep) && keep >= 0))) {
      throw new GantryError('CONFIG_INVALID', `MemoryStore: expected keepFinished to be an integer ≥ 0 (or Infinity), got ${String(keep)}`, { retryable: false });
    }
    this.keepFinished = keep;
  }

  createRun(record: RunRecord, events: readonly RunEvent[] = []): void {
    // Built field by field, finishedAt's place included: setting it when the run ends must not
    // grow the object (V8 11 adds a key to a spread copy of a plain object the slow way).
    const { runId, flowName, flowHash, flowText, flowSource, parentRunId, startedAt, status, finishedAt } = record;
    const copy: Writable<RunRecord> = { runId, flowName, flowHash, flowText, startedAt, status, finishedAt };
    if (flowSource !== undefined) copy.flowSource = flowSource;
    if (parentRunId !== undefined) copy.parentRunId = parentRunId;
    if (!this.runs.add(runId, { record: copy, events: [...events] })) throw new GantryError('STORE_CONFLICT', `run ${runId} exists already; a run id is used once`);
  }

  append(events: readonly RunEvent[]): void {
    // A forgotten finished run (keepFinished) may still get a late event: nothing keeps it.
    for (let i = 0; i < events.length; i++) this.runs.get(events[i]!.runId)?.events.push(events[i]!);
  }

  /**
   * The array a run's events go to, for the engine to push to: no array per event and no
   * lookup of the run per event. Not part of the RunStore contract.
   */
  [JOURNAL](runId: string): RunEvent[] | undefined {
    return this.runs.get(runId)?.events;
  }

  setStatus(runId: string, status: RunStatus, finishedAt?: number): void {
    const run = this.runs.get(runId);
    if (run === undefined) return;
    const ended = isFinal(run.record.status);
    run.record.status = status;
    if (finishedAt !== undefined) run.record.finishedAt = finishedAt;
    // Told twice that it ended (a listener that cancels its own run), it takes one place.
    if (isFinal(status) && !ended) this.forgetOldest(runId);
  }

  /** Keeps `runId` among the finished runs, forgetting the oldest beyond `keepFinished`. */
  private forgetOldest(runId: string): void {
    const keep = this.keepFinished;
    if (keep === Infinity) return;
    if (keep === 0) {
      this.runs.delete(runId);
      return;
    }
    if (this.finished.length < keep) {
      this.finished.push(runId);
      return;
    }
    // A ring rather than push and shift: a busy process finishes runs all day.
    this.runs.delete(this.finished[this.oldest]!);
    this.finished[this.oldest] = runId;
    this.oldest = (this.oldest + 1) % keep;
  }

  getRun(runId: string): RunRecord | undefined {
    return this.runs.get(runId)?.record;
  }

  resumptions(runId: string): ResumptionCount | undefined {
    return this.counts.get(runId);
  }

  setResumptions(runId: string, count: ResumptionCount | undefined): void {
    if (count === undefined) this.counts.delete(runId);
    else this.counts.set(runId, { count: count.count, progress: count.progress });
  }

  getRuns(runIds: readonly string[]): RunRecord[] {
    const found: RunRecord[] = [];
    for (const runId of runIds) {
      const record = this.runs.get(runId)?.record;
      if (record !== undefined) found.push(record);
    }
    return found;
  }

  events(runId: string): readonly RunEvent[] {
    return this.runs.get(runId)?.events ?? [];
  }

  eventsAfter(runId: string, afterSeq: number): readonly RunEvent[] {
    checkAfterSeq(afterSeq);
    return this.runs.get(runId)?.events.slice(afterSeq) ?? [];
  }

  listRuns(filter: RunFilter = {}): RunRecord[] {
    const all = [...this.runs.values()].map((r) => r.record).filter((r) => matchesFilter(r, filter));
    all.sort((a, b) => b.startedAt - a.startedAt);
    return filter.limit === undefined ? all : all.slice(0, filter.limit);
  }
}

export function isFinal(status: RunStatus): status is FinalRunStatus {
  return status !== 'running' && status !== 'waiting';
}
