import type { LogLine, NodeLogEvent, RunEvent } from '@gantry/engine';

/** A kept log line with where it was logged: the run, the node's path from the top run, the attempt. */
export interface PlacedLine extends LogLine {
  readonly runId: string;
  /** `deploy`, `production_deployment › deploy_green`, `steps[2] › check`: the node, under the sub-flow nodes that ran it. */
  readonly path: string;
  readonly nodeId: string;
  readonly attempt: number;
  readonly item?: number;
  readonly compensation?: true;
}

/** Lines a bound left out, at the place they would have been. */
export interface Dropped {
  readonly runId: string;
  readonly path: string;
  readonly attempt: number;
  readonly dropped: number;
  readonly at: number;
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

/** The node.log events of one run's journal as placed lines (and the drops), filtered by node and attempt. */
export function linesOf(topRunId: string, runId: string, events: readonly RunEvent[], filter: { node?: string; attempt?: number } = {}): { lines: PlacedLine[]; dropped: Dropped[] } {
  const lines: PlacedLine[] = [];
  const dropped: Dropped[] = [];
  const { prefix, node: parentNode, attempt: parentAttempt } = placeOf(topRunId, runId);
  if (runId !== topRunId && filter.node !== undefined && parentNode !== filter.node) return { lines, dropped };
  if (runId !== topRunId && filter.attempt !== undefined && parentAttempt !== filter.attempt) return { lines, dropped };
  for (const event of events) {
    if (event.type !== 'node.log') continue;
    const e = event as NodeLogEvent;
    // In the top run the node itself is filtered; in a sub-flow run the whole run belongs to it.
    if (runId === topRunId && filter.node !== undefined && e.nodeId !== filter.node) continue;
    if (filter.attempt !== undefined && runId === topRunId && e.attempt !== filter.attempt) continue;
    const path = `${prefix}${e.item === undefined ? e.nodeId : `${e.nodeId}[${e.item}]`}${e.compensation ? ' (compensation)' : ''}`;
    for (const line of e.lines) {
      lines.push({ ...line, runId, path, nodeId: e.nodeId, attempt: e.attempt, ...(e.item === undefined ? {} : { item: e.item }), ...(e.compensation ? { compensation: true as const } : {}) });
    }
    if (e.dropped) dropped.push({ runId, path, attempt: e.attempt, dropped: e.dropped, at: e.at });
  }
  return { lines, dropped };
}

/** `logs: attempt 1 12 lines, attempt 2 3 lines (40 dropped)`, or undefined when the node kept none. */
export function describeCounts(byAttempt: ReadonlyMap<number, { kept: number; dropped: number }> | undefined): string | undefined {
  if (byAttempt === undefined || byAttempt.size === 0) return undefined;
  const plural = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  return [...byAttempt]
    .sort(([a], [b]) => a - b)
    .map(([attempt, c]) => `attempt ${attempt} ${plural(c.kept)}${c.dropped > 0 ? ` (${c.dropped} dropped)` : ''}`)
    .join(', ');
}
