import type { LogLine, NodeLogEvent, RunEvent } from './events.js';

/**
 * The kept log lines of a journal as readers show them (DESIGN §12): `gantry logs` and the
 * server's GET /runs/:id/logs read them here, so that both give the same lines for a run.
 */

/** Where a line was logged: the run, the node's path from the top run, the attempt. */
export interface LinePlace {
  readonly runId: string;
  /** `deploy`, `production_deployment › deploy_green`, `steps[2] › check`: the node, under the sub-flow nodes that ran it. */
  readonly path: string;
  readonly nodeId: string;
  readonly attempt: number;
  readonly item?: number;
  readonly compensation?: true;
}

/** A kept log line with where it was logged. */
export interface PlacedLine extends LogLine, LinePlace {}

/** Lines a bound left out, at the place they would have been. */
export interface DroppedLines extends LinePlace {
  readonly dropped: number;
  readonly at: number;
}

/** Which lines to read: one node of the top run (and the sub-flow runs it started), one attempt of it. */
export interface LineFilter {
  readonly node?: string;
  readonly attempt?: number;
}

/** The top run's node a sub-flow run of it (`<top>.<node path>…`) was started by, and the path shown for it. */
export function placeOf(topRunId: string, runId: string): { readonly node: string | undefined; readonly attempt: number | undefined; readonly prefix: string } {
  if (runId === topRunId) return { node: undefined, attempt: undefined, prefix: '' };
  const segments = runId.slice(topRunId.length + 1).split('.');
  // `deploy~2` is the sub-flow run of the node's second attempt (DESIGN §3.6: named by its retries).
  const m = /^([A-Za-z0-9_-]+)(?:\[\d+\])?(?:~(\d+))?/.exec(segments[0]!);
  return { node: m?.[1], attempt: m?.[2] === undefined ? 1 : Number(m[2]), prefix: segments.map((s) => `${s} › `).join('') };
}

/** Whether a run (the top one, or one of its sub-flow runs) holds lines of `node` of the top run. */
export function underNode(topRunId: string, runId: string, node: string | undefined): boolean {
  return node === undefined || runId === topRunId || placeOf(topRunId, runId).node === node;
}

/**
 * The node.log events of one run's journal (all of it, or what came after a seq) as placed lines
 * and the drops, filtered by node and attempt.
 */
export function linesOf(topRunId: string, runId: string, events: readonly RunEvent[], filter: LineFilter = {}): { lines: PlacedLine[]; dropped: DroppedLines[] } {
  const lines: PlacedLine[] = [];
  const dropped: DroppedLines[] = [];
  const { prefix, node: parentNode, attempt: parentAttempt } = placeOf(topRunId, runId);
  if (runId !== topRunId && filter.node !== undefined && parentNode !== filter.node) return { lines, dropped };
  if (runId !== topRunId && filter.attempt !== undefined && parentAttempt !== filter.attempt) return { lines, dropped };
  for (const event of events) {
    if (event.type !== 'node.log') continue;
    const e = event as NodeLogEvent;
    // In the top run the node itself is filtered; in a sub-flow run the whole run belongs to it.
    if (runId === topRunId && filter.node !== undefined && e.nodeId !== filter.node) continue;
    if (filter.attempt !== undefined && runId === topRunId && e.attempt !== filter.attempt) continue;
    const place: LinePlace = {
      runId,
      path: `${prefix}${e.item === undefined ? e.nodeId : `${e.nodeId}[${e.item}]`}${e.compensation ? ' (compensation)' : ''}`,
      nodeId: e.nodeId,
      attempt: e.attempt,
      ...(e.item === undefined ? {} : { item: e.item }),
      ...(e.compensation ? { compensation: true as const } : {}),
    };
    for (const line of e.lines) lines.push({ ...line, ...place });
    if (e.dropped) dropped.push({ ...place, dropped: e.dropped, at: e.at });
  }
  return { lines, dropped };
}
