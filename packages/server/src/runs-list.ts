import type { RunFilter, RunRecord, RunStore } from '@gantry/engine';
import { httpError } from './http.js';

/** GET /runs' parameters beyond `status` and `limit`. */
export interface ListQuery {
  /** Only runs of the flow with this name. */
  readonly flow?: string;
  /** Only runs no other run started (sub-flow runs left out). */
  readonly topLevel: boolean;
  /** Each run with who started it and what it waits for, and the flows to filter by (the web UI's list). */
  readonly details: boolean;
}

/**
 * A flow filter reads this many of the newest runs (of the other filters) and keeps the flow's:
 * the store lists runs by time, not by flow, and a listing must not read a whole history.
 */
export const FLOW_FILTER_SCAN = 2000;

function flag(url: URL, name: string): boolean {
  const value = url.searchParams.get(name);
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw httpError('BAD_REQUEST', `${name} must be true or false, got "${value.slice(0, 50)}"`);
}

export function listQuery(url: URL): ListQuery {
  const flow = url.searchParams.get('flow');
  if (flow !== null && (flow.length === 0 || flow.length > 200)) throw httpError('BAD_REQUEST', `flow must be a flow's name (1 to 200 characters), got "${flow.slice(0, 50)}"`);
  return { ...(flow === null ? {} : { flow }), topLevel: flag(url, 'top_level'), details: flag(url, 'details') };
}

export async function listRecords(store: RunStore, base: RunFilter & { limit: number }, query: ListQuery): Promise<RunRecord[]> {
  const filter: RunFilter = { ...base, ...(query.topLevel ? { parentRunId: null } : {}) };
  if (query.flow === undefined) return store.listRuns(filter);
  return (await store.listRuns({ ...filter, limit: Math.max(FLOW_FILTER_SCAN, base.limit) })).filter((r) => r.flowName === query.flow).slice(0, base.limit);
}

/** The flows the list can be filtered by: those served, and those of the runs listed. */
export function flowNames(served: readonly string[], records: readonly RunRecord[]): string[] {
  return [...new Set([...served, ...records.filter((r) => r.parentRunId === undefined).map((r) => r.flowName)])].sort((a, b) => a.localeCompare(b));
}
