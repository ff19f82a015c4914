import type { RunEvent } from '@gantry/engine';

/** Per node of one run, per attempt: the lines kept and dropped (what `gantry show` says). */
export function logCounts(events: readonly RunEvent[]): Map<string, Map<number, { kept: number; dropped: number }>> {
  const counts = new Map<string, Map<number, { kept: number; dropped: number }>>();
  for (const event of events) {
    if (event.type !== 'node.log') continue;
    const byAttempt = counts.get(event.nodeId) ?? new Map<number, { kept: number; dropped: number }>();
    counts.set(event.nodeId, byAttempt);
    const c = byAttempt.get(event.attempt) ?? { kept: 0, dropped: 0 };
    byAttempt.set(event.attempt, { kept: c.kept + event.lines.length, dropped: c.dropped + (event.dropped ?? 0) });
  }
  return counts;
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
