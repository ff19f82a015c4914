import type { Attempt, RunFold } from './run-fold';

/**
 * The timeline's rows (one per node attempt, for_each items included) and its time axis, on
 * which the long stretches when nothing but a human or a timer was awaited are cut to a fixed
 * width and labelled: otherwise a 2-hour approval squashes every step beside it into a sliver.
 */

export interface Row {
  readonly node: string;
  readonly attempt: Attempt;
}

export interface Gap {
  readonly from: number;
  readonly to: number;
  /** What was awaited: a decision, a timer, or nothing running at all. */
  readonly kind: 'approval' | 'timer' | 'idle';
  /** Where the cut is drawn. */
  readonly x: number;
}

export interface Axis {
  readonly start: number;
  readonly end: number;
  readonly width: number;
  readonly gaps: readonly Gap[];
  x(t: number): number;
}

export function rows(fold: RunFold, order: readonly string[]): Row[] {
  const rank = new Map(order.map((id, i) => [id, i]));
  const all: Row[] = [];
  for (const [node, n] of fold.nodes) for (const attempt of n.attempts) all.push({ node, attempt });
  return all.sort((a, b) => a.attempt.startedAt - b.attempt.startedAt || (rank.get(a.node) ?? 0) - (rank.get(b.node) ?? 0) || (a.attempt.item ?? -1) - (b.attempt.item ?? -1));
}

type Span = [number, number];

function union(spans: Span[]): Span[] {
  const sorted = spans.filter(([a, b]) => b > a).sort((p, q) => p[0] - q[0]);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last !== undefined && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else out.push([s[0], s[1]]);
  }
  return out;
}

/** Work time: an attempt's span less its waits. */
function busySpans(all: readonly Row[], now: number): Span[] {
  const spans: Span[] = [];
  for (const { attempt: a } of all) {
    let from = a.startedAt;
    const end = a.endedAt ?? now;
    for (const w of a.waits) {
      spans.push([from, Math.min(w.from, end)]);
      from = Math.max(from, w.to ?? end);
    }
    spans.push([from, end]);
  }
  return union(spans);
}

export interface AxisOptions {
  /** The width a cut stretch takes. @default 36 */
  readonly gapPx?: number;
  /** A quiet stretch shorter than this stays to scale. @default 1500 */
  readonly minGapMs?: number;
  /** …and so does one shorter than this share of the whole. @default 0.08 */
  readonly minGapShare?: number;
}

export function axis(all: readonly Row[], now: number, width: number, options: AxisOptions = {}): Axis {
  const gapPx = options.gapPx ?? 36;
  const start = Math.min(...all.map((r) => r.attempt.startedAt), now);
  const end = Math.max(start + 1, ...all.map((r) => r.attempt.endedAt ?? now));
  const busy = busySpans(all, now);
  const quiet: Span[] = [];
  let cursor = start;
  for (const [a, b] of busy) {
    if (a > cursor) quiet.push([cursor, a]);
    cursor = Math.max(cursor, b);
  }
  if (end > cursor) quiet.push([cursor, end]);
  const min = Math.max(options.minGapMs ?? 1500, (options.minGapShare ?? 0.08) * (end - start));
  const cut = quiet.filter(([a, b]) => b - a >= min);
  const cutTime = cut.reduce((sum, [a, b]) => sum + (b - a), 0);
  const scaled = Math.max(1, end - start - cutTime);
  const perMs = Math.max(0, width - gapPx * cut.length) / scaled;
  const kindOf = ([a, b]: Span): Gap['kind'] => {
    let kind: Gap['kind'] = 'idle';
    for (const { attempt } of all) {
      for (const w of attempt.waits) {
        if (w.from < b && (w.to ?? now) > a) {
          if (w.kind === 'approval') return 'approval';
          kind = 'timer';
        }
      }
    }
    return kind;
  };
  const x = (t: number): number => {
    let px = 0;
    let at = start;
    for (const [a, b] of cut) {
      if (t <= a) break;
      px += (a - at) * perMs;
      if (t < b) return px + ((t - a) / (b - a)) * gapPx;
      px += gapPx;
      at = b;
    }
    return px + (Math.min(t, end) - at) * perMs;
  };
  const gaps = cut.map((span) => ({ from: span[0], to: span[1], kind: kindOf(span), x: x(span[0]) }));
  return { start, end, width, gaps, x };
}
