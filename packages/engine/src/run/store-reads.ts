import type { RunEvent } from './events.js';
import { checkAfterSeq, type RunRecord, type RunStore } from './store.js';

/**
 * A run's events after its first `afterSeq`: the store's `eventsAfter` (one read by the journal's
 * index), or, for a store that has none, its whole journal sliced.
 */
export async function readEventsAfter(store: RunStore, runId: string, afterSeq: number): Promise<readonly RunEvent[]> {
  checkAfterSeq(afterSeq);
  if (store.eventsAfter !== undefined) return store.eventsAfter(runId, afterSeq);
  return (await store.events(runId)).slice(afterSeq);
}

/** The records of those of `runIds` that exist, in the order asked: the store's `getRuns` (one read), or getRun for each id. */
export async function readRuns(store: RunStore, runIds: readonly string[]): Promise<RunRecord[]> {
  if (store.getRuns !== undefined) return store.getRuns(runIds);
  const found: RunRecord[] = [];
  for (const runId of runIds) {
    const record = await store.getRun(runId);
    if (record !== undefined) found.push(record);
  }
  return found;
}
