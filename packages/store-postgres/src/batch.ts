/**
 * A journal batch as the arguments of gantry.commit_v1: columns of arrays (one round trip for
 * any number of runs and events), each run's listing status folded to its last value, the
 * top-level runs written to with the epoch this process holds them at, and the waiting runs to
 * hand back.
 */
import type { JournalBatch, RunEvent, RunStatus } from '@gantry/engine';
import { JOURNAL_FORMAT } from './schema.js';

/** The top-level run of a run's tree: a sub-flow's run is named `<parent>.<node path>`, and a top-level id never holds a ".". */
export function rootOf(runId: string): string {
  const dot = runId.indexOf('.');
  return dot < 0 ? runId : runId.slice(0, dot);
}

interface Final {
  status: RunStatus;
  /** A finish time to set, or undefined to keep the one stored. */
  finished: number | undefined;
  /** The run was reopened (run.retried): its finish time goes. */
  clear: boolean;
  /** Earliest time a waiting top-level run is due (from its last run.waiting in the batch). */
  until: number | undefined;
}

export interface PreparedBatch {
  /** The function's arguments after p_peer, p_batch and p_lease_ms. */
  readonly args: unknown[];
  /** Every run the batch writes to (created, events, statuses), by its top-level run. */
  readonly runsByRoot: ReadonlyMap<string, ReadonlySet<string>>;
  /** Top-level runs created by the batch. */
  readonly createdRoots: readonly string[];
  /** Top-level runs the batch ends. */
  readonly finishedRoots: readonly string[];
  /** Waiting top-level runs the batch hands back. */
  readonly parkedRoots: readonly string[];
}

export interface BatchPolicy {
  /** The epoch this process holds a top-level run at, if it holds it. */
  readonly epochOf: (root: string) => number | undefined;
  /** Whether a top-level run that comes to wait until `until` is handed back. */
  readonly parks: (until: number) => boolean;
}

export function prepareBatch(batch: JournalBatch, policy: BatchPolicy): PreparedBatch {
  const runsByRoot = new Map<string, Set<string>>();
  const touch = (runId: string): string => {
    const root = rootOf(runId);
    let runs = runsByRoot.get(root);
    if (runs === undefined) runsByRoot.set(root, (runs = new Set()));
    runs.add(runId);
    return root;
  };

  const c = { run: [] as string[], root: [] as string[], name: [] as string[], hash: [] as string[], text: [] as string[], source: [] as (string | null)[], parent: [] as (string | null)[], started: [] as number[], status: [] as string[], format: [] as number[] };
  const createdRoots = new Set<string>();
  const events: RunEvent[] = [];
  for (const { record, events: first } of batch.created) {
    const root = touch(record.runId);
    if (root === record.runId) createdRoots.add(root);
    c.run.push(record.runId);
    c.root.push(root);
    c.name.push(record.flowName);
    c.hash.push(record.flowHash);
    c.text.push(record.flowText);
    c.source.push(record.flowSource ?? null);
    c.parent.push(record.parentRunId ?? null);
    c.started.push(record.startedAt);
    c.status.push(record.status);
    c.format.push(JOURNAL_FORMAT);
    for (const event of first) events.push(event);
  }
  for (const event of batch.events) events.push(event);

  const e = { run: [] as string[], root: [] as string[], type: [] as string[], node: [] as (string | null)[], json: [] as string[], path: [] as (string | null)[], outcome: [] as (string | null)[] };
  const r = { run: [] as string[], path: [] as string[] };
  const finals = new Map<string, Final>();
  const finalOf = (runId: string, status: RunStatus): Final => {
    let f = finals.get(runId);
    if (f === undefined) finals.set(runId, (f = { status, finished: undefined, clear: false, until: undefined }));
    f.status = status;
    return f;
  };
  for (const event of events) {
    const { runId, type } = event;
    e.run.push(runId);
    e.root.push(touch(runId));
    e.type.push(type);
    e.node.push('nodeId' in event && event.nodeId !== undefined ? event.nodeId : null);
    e.json.push(JSON.stringify(event));
    if (type === 'node.succeeded' || type === 'node.failed') {
      e.path.push(event.item === undefined ? event.nodeId : `${event.nodeId}[${event.item}]`);
      e.outcome.push(type === 'node.succeeded' ? 'succeeded' : 'failed');
    } else {
      e.path.push(null);
      e.outcome.push(null);
    }
    // As the SQLite store does: the listing follows run.finished, run.waiting and run.retried.
    if (type === 'run.finished') {
      const f = finalOf(runId, event.status);
      f.finished = event.at;
      f.clear = false;
    } else if (type === 'run.waiting') {
      let until = Infinity;
      for (const w of event.on) if (w.until < until) until = w.until;
      finalOf(runId, 'waiting').until = until;
    } else if (type === 'run.retried') {
      const f = finalOf(runId, 'running');
      f.finished = undefined;
      f.clear = true;
      for (const nodeId of event.nodes) {
        r.run.push(runId);
        r.path.push(nodeId);
      }
    }
  }
  for (const { runId, status, finishedAt } of batch.statuses) {
    touch(runId);
    const f = finalOf(runId, status);
    if (finishedAt !== undefined) {
      f.finished = finishedAt;
      f.clear = false;
    }
  }

  const s = { run: [] as string[], root: [] as string[], status: [] as string[], finished: [] as (number | null)[], clear: [] as boolean[], park: [] as (number | null)[] };
  const finishedRoots: string[] = [];
  const parkedRoots: string[] = [];
  for (const [runId, f] of finals) {
    const root = rootOf(runId);
    let park: number | null = null;
    if (root === runId) {
      if (f.status !== 'running' && f.status !== 'waiting') finishedRoots.push(root);
      else if (f.status === 'waiting' && f.until !== undefined && policy.parks(f.until)) {
        park = f.until;
        parkedRoots.push(root);
      }
    }
    s.run.push(runId);
    s.root.push(root);
    s.status.push(f.status);
    s.finished.push(f.finished ?? null);
    s.clear.push(f.clear);
    s.park.push(park);
  }

  const roots: string[] = [];
  const epochs: number[] = [];
  for (const root of runsByRoot.keys()) {
    if (createdRoots.has(root)) continue;
    roots.push(root);
    // 0: not held here, which no claim ever gives: the fence refuses it.
    epochs.push(policy.epochOf(root) ?? 0);
  }

  return {
    args: [
      roots,
      epochs,
      c.run,
      c.root,
      c.name,
      c.hash,
      c.text,
      c.source,
      c.parent,
      c.started,
      c.status,
      c.format,
      e.run,
      e.root,
      e.type,
      e.node,
      e.json,
      e.path,
      e.outcome,
      r.run,
      r.path,
      s.run,
      s.root,
      s.status,
      s.finished,
      s.clear,
      s.park,
    ],
    runsByRoot,
    createdRoots: [...createdRoots],
    finishedRoots,
    parkedRoots,
  };
}

/** The statement that commits a prepared batch (its arguments: peer, batch number, lease, then `args`). */
export const COMMIT_SQL = `SELECT gantry.commit_v1(${Array.from({ length: 30 }, (_, i) => `$${i + 1}`).join(', ')}) AS outcome`;
