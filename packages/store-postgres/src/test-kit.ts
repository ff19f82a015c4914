/**
 * Helpers for this package's tests: one throw-away cluster per test file (started in beforeAll,
 * removed in afterAll), a fresh database per test, stores opened on it and closed after, and
 * event factories.
 */
import type { RunEvent, RunRecord, RunStatus } from '@gantry/engine';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startCluster, type TestCluster } from '../test-cluster.mjs';
import { openPostgresStore, type PostgresStoreOptions } from './index.js';
import type { PostgresStore } from './postgres-store.js';

let cluster: TestCluster | undefined;
let databases = 0;
const opened: PostgresStore[] = [];

/** Starts this file's cluster before its tests and removes it after them; returns a getter. */
export function useCluster(): () => TestCluster {
  beforeAll(async () => {
    cluster = await startCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.remove();
    cluster = undefined;
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close().catch(() => {});
  });
  return () => cluster!;
}

/** A fresh empty database of the cluster: its URL and name. */
export async function freshDatabase(): Promise<{ url: string; name: string }> {
  const name = `t${process.pid}_${++databases}`;
  return { url: await cluster!.database(name), name };
}

/** Runs SQL as the superuser in a database. */
export function sql<T = Record<string, unknown>>(text: string, params: unknown[], database: string): Promise<T[]> {
  return cluster!.sql<T>(text, params, database);
}

/** Opens a store (closed after the test). */
export async function open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const store = await openPostgresStore(url, options);
  opened.push(store);
  return store;
}

export function record(runId: string, extra: Partial<RunRecord> = {}): RunRecord {
  return { runId, flowName: 'f', flowHash: 'h', flowText: '{"name":"f","nodes":[]}', startedAt: 1000, status: 'running', ...extra };
}

export function started(runId: string, at = 1000): RunEvent {
  return { type: 'run.started', runId, at, flow: { name: 'f', hash: 'h' }, params: {}, trigger: {} };
}

export function nodeStarted(runId: string, nodeId: string, at = 1001): RunEvent {
  return { type: 'node.started', runId, at, nodeId, attempt: 1 };
}

export function succeeded(runId: string, nodeId: string, at = 1002, item?: number): RunEvent {
  return { type: 'node.succeeded', runId, at, nodeId, attempt: 1, output: {}, ...(item === undefined ? {} : { item }) };
}

export function finished(runId: string, status: RunStatus = 'succeeded', at = 1003): RunEvent {
  return { type: 'run.finished', runId, at, status } as RunEvent;
}

export function waiting(runId: string, until: number, at = 1003): RunEvent {
  return { type: 'run.waiting', runId, at, on: [{ nodeId: 'approve', kind: 'approval', until }] };
}

/** The run's row as the database has it. */
export async function row(runId: string, database: string): Promise<{ owner: string | null; epoch: number; lease_until: Date | null; status: string; finished_at: number | null }> {
  const rows = await cluster!.sql<{ owner: string | null; epoch: string; lease_until: Date | null; status: string; finished_at: number | null }>(
    'SELECT owner, epoch, lease_until, status, finished_at FROM gantry.runs WHERE run_id = $1',
    [runId],
    database,
  );
  if (rows[0] === undefined) throw new Error(`no row for run ${runId}`);
  return { ...rows[0], epoch: Number(rows[0].epoch) };
}
