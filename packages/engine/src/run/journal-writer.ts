/**
 * The engine's writer of journals to a store that lasts (SQLite, Postgres). What every run
 * records goes into the open batch: runs created, events, statuses. While the store is busy (a
 * commit was made in this turn of the event loop) and others may join (runs are being created,
 * or several are live), a batch is committed at the end of the turn in which its first entry came
 * (setImmediate), so that the webhooks read in that turn, each in a callback of its own, and the
 * steps of every run that resumes in it share one commit (group commit: one sync for many).
 * Otherwise, on an idle store or for a run stepping alone, at the end of the microtask tick, with
 * no wait. What a caller is told has happened is committed at once. While a commit is under way
 * (a store that answers with a promise), the next batch fills and is committed as one when it
 * returns.
 *
 * Effects wait for durability: `durable()` resolves once everything recorded so far is
 * committed, and an executor starts only then (an effect is never made by an attempt the journal
 * does not know of).
 */
import { GantryError, isGantryError } from '../errors.js';
import type { RunEvent, RunStatus } from './events.js';
import type { CommitOutcome, CreatedRun, JournalBatch, RunRecord, RunStore, StatusChange } from './store.js';

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  /** What the store said of the batch, once committed. */
  outcome?: CommitOutcome;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch nobody waited for must not end the process with an unhandled rejection.
  promise.catch(() => {});
  // outcome is set once committed: its place is made now, so that the object keeps its shape.
  return { promise, resolve, reject, outcome: undefined };
}

const NO_OUTCOME: CommitOutcome = Object.freeze({});

interface Creation extends CreatedRun {
  readonly done: Deferred;
}

/** What the writer tells its engine. */
export interface JournalHost {
  /** The store could not write these runs' events: they stop, since what is not in their journal cannot be trusted. */
  failed(runIds: ReadonlySet<string>, error: unknown): void;
  /** A run's id existed already in the store (another process created it): that run stops, nothing of it written. */
  conflicted(runId: string, error: GantryError): void;
  /** A commit failed with nobody to tell (a tick's events): logged. */
  unheard(error: unknown): void;
  /** Another process holds these runs now (a shared store's fence refused their events): they stop, recording nothing more. */
  fenced(runIds: readonly string[]): void;
  /** The store took these waiting runs back once written (any process carries them on): the engine lets go of them. */
  parked(runIds: readonly string[]): void;
  /** More than one run is live: what one records, the others may join. */
  concurrent(): boolean;
}

const RESOLVED = Promise.resolve();

export class JournalWriter {
  private created: Creation[] = [];
  private events: RunEvent[] = [];
  private statuses: StatusChange[] = [];
  /** Resolves when the open batch is committed; made when the batch gets its first entry. */
  private open: Deferred | undefined;
  /** A commit at the end of this tick, or of this turn of the event loop, is queued. */
  private queued = false;
  /** A commit was made in this turn of the event loop: the store is busy, and what comes next waits for the turn's end. */
  private busy = false;
  /** A commit is under way (a store that answers with a promise): the open batch goes when it returns. */
  private inFlight: Promise<void> | undefined;
  /** The batch of the commit under way, or of the last one. */
  private last: Deferred | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly host: JournalHost,
  ) {}

  /** Creates a run with its first events in the open batch; resolves when it is durable, rejects STORE_CONFLICT if its id existed. */
  create(record: RunRecord, events: readonly RunEvent[]): Promise<void> {
    const done = deferred();
    this.created.push({ record, events, done });
    this.entered();
    return done.promise;
  }

  append(event: RunEvent): void {
    this.events.push(event);
    this.entered();
  }

  status(runId: string, status: RunStatus, finishedAt: number | undefined): void {
    this.statuses.push(finishedAt === undefined ? { runId, status } : { runId, status, finishedAt });
    this.entered();
  }

  /** Resolves once everything recorded so far is committed (rejects if that commit failed). */
  durable(): Promise<void> {
    if (this.open !== undefined) return this.open.promise;
    // The batch under way, not inFlight: inFlight resolves whether the commit failed or not.
    return this.inFlight === undefined ? RESOLVED : this.last!.promise;
  }

  /**
   * What the store said of the batch that holds what was recorded last (runs fenced off or
   * parked in it), once that batch is committed; rejects if it failed.
   */
  async outcome(): Promise<CommitOutcome> {
    const batch = this.open ?? this.last;
    if (batch === undefined) return NO_OUTCOME;
    await batch.promise;
    return batch.outcome ?? NO_OUTCOME;
  }

  /**
   * Commits the open batch now (or as soon as the commit under way returns). With a store that
   * answers at once, a failure is thrown to the caller too: the one who asked for this change is
   * told, besides the runs it stopped.
   */
  flush(): void {
    if (this.inFlight !== undefined || this.open === undefined) return;
    const batch: JournalBatch & { readonly created: readonly Creation[] } = { created: this.created, events: this.events, statuses: this.statuses };
    const done = this.open;
    this.created = [];
    this.events = [];
    this.statuses = [];
    this.open = undefined;
    this.last = done;
    if (!this.busy) {
      this.busy = true;
      setImmediate(this.idle);
    }
    let result: CommitOutcome | void | Promise<CommitOutcome | void>;
    try {
      result = this.write(batch);
    } catch (error) {
      this.fail(batch, done, error);
      throw error;
    }
    if (!(result instanceof Promise)) return this.settle(batch, done, result);
    this.inFlight = result.then(
      (outcome) => this.settle(batch, done, outcome),
      (error) => this.fail(batch, done, error),
    );
    void this.inFlight.finally(() => {
      this.inFlight = undefined;
      // What came while the commit was under way goes as one batch.
      if (this.open !== undefined) this.flushHeard();
    });
  }

  private entered(): void {
    if (this.open === undefined) this.open = deferred();
    // While a commit is under way, what comes goes when it returns (flush's finally).
    if (this.queued || this.inFlight !== undefined) return;
    this.queued = true;
    const others = this.created.length > 0 || this.host.concurrent();
    if (this.busy && others) setImmediate(this.flushQueued);
    // A resolved promise's then: queueMicrotask would wrap each call in an async resource.
    else void RESOLVED.then(this.flushQueued);
  }

  private readonly flushQueued = (): void => {
    this.queued = false;
    this.flushHeard();
  };

  private readonly idle = (): void => {
    this.busy = false;
  };

  /** A flush whose failure has nobody to throw to: the runs concerned stop, and it is logged. */
  private flushHeard(): void {
    try {
      this.flush();
    } catch (error) {
      this.host.unheard(error);
    }
  }

  private write(batch: JournalBatch): CommitOutcome | void | Promise<CommitOutcome | void> {
    if (this.store.commit !== undefined) return this.store.commit(batch);
    return writeInTurn(this.store, batch);
  }

  private settle(batch: JournalBatch & { readonly created: readonly Creation[] }, done: Deferred, outcome: CommitOutcome | void): void {
    const conflicts = new Set(outcome?.conflicts ?? []);
    const fenced = outcome?.fenced;
    for (const creation of batch.created) {
      const { runId } = creation.record;
      if (fenced !== undefined && fenced.includes(runId)) {
        // A sub-flow run of a run taken over meanwhile: that process starts it, if it still should.
        creation.done.reject(new GantryError('RUN_RELEASED', `run ${runId} was not created: another process holds its parent run now`));
        continue;
      }
      if (!conflicts.has(runId)) {
        creation.done.resolve();
        continue;
      }
      const error = new GantryError('STORE_CONFLICT', `run ${runId} exists already in the store; a run id is used once`);
      this.host.conflicted(runId, error);
      creation.done.reject(error);
    }
    if (outcome) done.outcome = outcome;
    if (fenced !== undefined && fenced.length > 0) this.host.fenced(fenced);
    if (outcome?.parked !== undefined && outcome.parked.length > 0) this.host.parked(outcome.parked);
    done.resolve();
  }

  private fail(batch: JournalBatch & { readonly created: readonly Creation[] }, done: Deferred, error: unknown): void {
    const runIds = new Set<string>();
    for (const creation of batch.created) {
      runIds.add(creation.record.runId);
      creation.done.reject(error);
    }
    for (const event of batch.events) runIds.add(event.runId);
    this.host.failed(runIds, error);
    done.reject(error);
  }
}

/**
 * A batch for a store without `commit`: each creation (a taken id is a conflict, not a failure),
 * then the events of the runs that exist, then the statuses — at once if the store answers at
 * once, else one after the other.
 */
function writeInTurn(store: RunStore, batch: JournalBatch): CommitOutcome | Promise<CommitOutcome> {
  const conflicts: string[] = [];
  const steps: (() => unknown)[] = [];
  for (const { record, events } of batch.created) {
    steps.push(() => {
      try {
        const made = store.createRun(record, events);
        return made instanceof Promise ? made.catch((error: unknown) => conflictOr(error, record.runId, conflicts)) : made;
      } catch (error) {
        return conflictOr(error, record.runId, conflicts);
      }
    });
  }
  steps.push(() => {
    const events = conflicts.length === 0 ? batch.events : batch.events.filter((e) => !conflicts.includes(e.runId));
    return events.length === 0 ? undefined : store.append(events);
  });
  for (const { runId, status, finishedAt } of batch.statuses) steps.push(() => store.setStatus(runId, status, finishedAt));
  for (let i = 0; i < steps.length; i++) {
    const result = steps[i]!();
    if (result instanceof Promise) return result.then(() => inTurn(steps, i + 1)).then(() => ({ conflicts }));
  }
  return { conflicts };
}

async function inTurn(steps: readonly (() => unknown)[], from: number): Promise<void> {
  for (let i = from; i < steps.length; i++) await steps[i]!();
}

function conflictOr(error: unknown, runId: string, conflicts: string[]): void {
  if (isGantryError(error, 'STORE_CONFLICT')) conflicts.push(runId);
  else throw error;
}
