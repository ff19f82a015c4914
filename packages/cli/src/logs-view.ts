/** `logs: attempt 1 12 lines, attempt 2 3 lines (40 dropped)`, or undefined when the node kept none. */
export function describeCounts(byAttempt: ReadonlyMap<number, { kept: number; dropped: number }> | undefined): string | undefined {
  if (byAttempt === undefined || byAttempt.size === 0) return undefined;
  const plural = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  return [...byAttempt]
    .sort(([a], [b]) => a - b)
    .map(([attempt, c]) => `attempt ${attempt} ${plural(c.kept)}${c.dropped > 0 ? ` (${c.dropped} dropped)` : ''}`)
    .join(', ');
}
