/**
 * The store the semantics tables run on: the in-memory store by default, SQLite or Postgres when
 * GANTRY_SEMANTICS_STORE says so (vitest.config.ts runs the tables once on each), so that the
 * same flows give the same results on every store. Each harness gets a store of its own, closed
 * after the test: a file, or a Postgres store on the test file's database (copied from a template
 * that has the schema; one per file, since a copy takes a third of a second) with run ids of its
 * own. A store that answers later (Postgres) is waited for before the fake clock moves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommitOutcome, JournalBatch, ResumptionCount, RunEvent, RunFilter, RunRecord, RunStatus, RunStore, StoreHealth } from '@gantry/engine';
import { openSqliteStore } from '@gantry/store-sqlite';
import { afterEach, inject } from 'vitest';

export type StoreKind = 'memory' | 'sqlite' | 'postgres';

export const STORE_KIND: StoreKind = (() => {
  const kind = process.env.GANTRY_SEMANTICS_STORE ?? 'memory';
  if (kind !== 'memory' && kind !== 'sqlite' && kind !== 'postgres') throw new Error(`GANTRY_SEMANTICS_STORE: expected memory, sqlite or postgres, got ${kind}`);
  return kind;
})();

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser's URL of the semantics cluster, and the database the others are copied from. */
    gantryPostgres: { adminUrl: string; template: string };
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * A fresh store of the kind the tables run on (undefined: the engine's own memory store), what
 * waits until its commits are done, and run ids of its own when it shares a database.
 */
export function harnessStore(): { store: RunStore | undefined; idle: () => Promise<void>; ids?: () => string } {
  if (STORE_KIND === 'memory') return { store: undefined, idle: turns };
  if (STORE_KIND === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-semantics-'));
    // SQLite answers at once, as in gantry run: nothing to wait for but the event loop. While
    // several runs step, each commit waits for the end of a turn (group commit): the clock moves
    // once a few turns passed with no commit at all.
    const store = openSqliteStore(join(dir, 'runs.db'));
    let commits = 0;
    const commit = store.commit.bind(store);
    store.commit = (batch) => (commits++, commit(batch));
    cleanups.push(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const idle = async () => {
      for (let round = 0, seen = -1; seen !== commits && round < 100; round++) {
        seen = commits;
        await turns();
      }
    };
    return { store, idle };
  }
  const store = new DeferredStore(openPostgres());
  cleanups.push(() => store.close());
  const prefix = `h${++harnesses}n`;
  let counter = 0;
  return { store, idle: () => store.idle(), ids: () => `${prefix}${++counter}` };
}

let harnesses = 0;
let database: Promise<string> | undefined;
async function openPostgres(): Promise<RunStore> {
  database ??= (async () => {
    const { adminUrl, template } = inject('gantryPostgres');
    const { createDatabase } = await import('../../packages/store-postgres/test-cluster.mjs');
    return createDatabase(adminUrl, `sem_${process.pid}_${Date.now()}`, template);
  })();
  const { openPostgresStore } = await import('@gantry/store-postgres');
  return openPostgresStore(await database, { poolSize: 2, kind: 'semantics' });
}

/** A few turns of the event loop: what the fake clock waits for by default. */
async function turns(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A store opened later (Postgres opens asynchronously; the harness is made synchronously), which
 * counts its commits under way, so that the fake clock moves only once they are done.
 */
class DeferredStore implements RunStore {
  readonly durable = true;
  private inFlight = new Set<Promise<unknown>>();

  constructor(private readonly opened: Promise<RunStore & { close?(): unknown }>) {}

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = () => this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  private async with<T>(use: (store: RunStore) => T | Promise<T>): Promise<T> {
    return use(await this.opened);
  }

  /** Resolves once no commit is under way across a few turns of the event loop. */
  async idle(): Promise<void> {
    for (let quiet = 0; quiet < 2; ) {
      await turns();
      if (this.inFlight.size === 0) quiet++;
      else {
        quiet = 0;
        await Promise.allSettled([...this.inFlight]);
      }
    }
  }

  commit(batch: JournalBatch): Promise<CommitOutcome | void> {
    return this.track(this.with((s) => (s.commit ? s.commit(batch) : undefined)));
  }
  createRun(record: RunRecord, events?: readonly RunEvent[]): Promise<void> {
    return this.track(this.with((s) => s.createRun(record, events)));
  }
  append(events: readonly RunEvent[]): Promise<void> {
    return this.track(this.with((s) => s.append(events)));
  }
  setStatus(runId: string, status: RunStatus, finishedAt?: number): Promise<void> {
    return this.track(this.with((s) => s.setStatus(runId, status, finishedAt)));
  }
  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.with((s) => s.getRun(runId));
  }
  events(runId: string): Promise<readonly RunEvent[]> {
    return this.with((s) => s.events(runId));
  }
  listRuns(filter?: RunFilter): Promise<RunRecord[]> {
    return this.with((s) => s.listRuns(filter));
  }
  resumptions(runId: string): Promise<ResumptionCount | undefined> {
    return this.with((s) => s.resumptions?.(runId));
  }
  setResumptions(runId: string, count: ResumptionCount | undefined): Promise<void> {
    return this.track(this.with((s) => s.setResumptions?.(runId, count)));
  }
  claim(runId: string, force: boolean): Promise<boolean> {
    return this.track(this.with(async (s) => (s.claim === undefined ? false : s.claim(runId, force))));
  }
  release(runId: string): Promise<void> {
    return this.track(this.with((s) => s.release?.(runId)));
  }
  health(): Promise<StoreHealth> {
    return this.with(async (s) => (s.health === undefined ? { kind: STORE_KIND, writable: true } : s.health()));
  }
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await (await this.opened.catch(() => undefined))?.close?.();
  }
}
