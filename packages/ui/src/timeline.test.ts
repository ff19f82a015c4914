import { describe, expect, it } from 'vitest';
import type { Attempt } from './run-fold';
import { axis, type Row } from './timeline';

const row = (node: string, startedAt: number, endedAt: number, waits: Attempt['waits'] = []): Row => ({ node, attempt: { attempt: 1, startedAt, endedAt, outcome: 'succeeded', waits } });

describe('the timeline axis', () => {
  it('cuts a two-hour approval to a fixed width, keeps the steps beside it to scale, and says what was awaited', () => {
    const hour = 3_600_000;
    const all = [row('build', 0, 10_000), row('approval', 10_000, 10_000 + 2 * hour, [{ kind: 'approval', from: 10_100, to: 10_000 + 2 * hour }]), row('deploy', 10_000 + 2 * hour, 30_000 + 2 * hour)];
    const a = axis(all, 40_000 + 2 * hour, 636, { gapPx: 36 });
    expect(a.gaps).toHaveLength(1);
    expect(a.gaps[0]).toMatchObject({ from: 10_100, to: 10_000 + 2 * hour, kind: 'approval' });
    // 30.1 s of work share 600 px: build's 10 s get a third of it.
    const perMs = 600 / 30_100;
    expect(a.x(10_000)).toBeCloseTo(10_000 * perMs, 5);
    expect(a.x(10_000 + 2 * hour)).toBeCloseTo(10_100 * perMs + 36, 5);
    expect(a.x(30_000 + 2 * hour)).toBeCloseTo(636, 5);
    // Monotonic across the cut.
    expect(a.x(10_000 + hour)).toBeGreaterThan(a.x(10_100));
    expect(a.x(10_000 + hour)).toBeLessThan(a.x(10_000 + 2 * hour));
  });

  it('leaves short quiet stretches to scale, and marks a timer wait and idle time', () => {
    const all = [row('a', 0, 1000), row('bake', 1000, 301_000, [{ kind: 'timer', from: 1000, to: 301_000 }]), row('b', 301_000, 302_000), row('c', 302_500, 303_000)];
    const a = axis(all, 303_000, 500);
    expect(a.gaps.map((g) => g.kind)).toEqual(['timer']);
    expect(a.x(303_000)).toBeCloseTo(500, 5);
    const idle = axis([row('a', 0, 1000), row('b', 60_000, 61_000)], 61_000, 500);
    expect(idle.gaps.map((g) => g.kind)).toEqual(['idle']);
  });
});
