// A schedule node's due times (DESIGN §12): intervals counted from start_at or the epoch, cron in
// its time zone with seconds optional, the start_at/end_at window; and what validation refuses.
import { describe, expect, it } from 'vitest';
import { scheduledRunId, scheduleOf, scheduleProblem } from './schedule.js';
import { validateFlowDocument } from './validate.js';

const T = (iso: string) => Date.parse(iso);
const iso = (times: readonly (number | undefined)[]) => times.map((t) => (t === undefined ? undefined : new Date(t).toISOString()));

describe('schedule due times', () => {
  it('counts an interval from the epoch, or from start_at, and stops at end_at', () => {
    const hourly = scheduleOf({ interval: 3600 });
    expect(iso([hourly.next(T('2026-01-01T10:20:00Z')), hourly.next(T('2026-01-01T11:00:00Z'))])).toEqual(['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z']);
    expect(iso(hourly.previous(T('2026-01-01T11:00:00Z'), 2))).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T09:00:00.000Z']);
    const windowed = scheduleOf({ interval: 10, start_at: '2026-01-01T00:00:05Z', end_at: '2026-01-01T00:00:30Z' });
    expect(iso([windowed.next(0), windowed.next(T('2026-01-01T00:00:05Z')), windowed.next(T('2026-01-01T00:00:25Z'))])).toEqual(['2026-01-01T00:00:05.000Z', '2026-01-01T00:00:15.000Z', undefined]);
    expect(iso(windowed.previous(T('2026-01-01T01:00:00Z'), 10))).toEqual(['2026-01-01T00:00:25.000Z', '2026-01-01T00:00:15.000Z', '2026-01-01T00:00:05.000Z']);
    // A window that ended long ago is not stepped back to one interval at a time (1.7 billion steps here).
    const started = performance.now();
    const ended = scheduleOf({ interval: 1, end_at: '1971-01-01T00:00:00Z' });
    expect(iso(ended.previous(T('2026-01-01T00:00:00Z'), 2))).toEqual(['1971-01-01T00:00:00.000Z', '1970-12-31T23:59:59.000Z']);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(windowed.start).toBe(T('2026-01-01T00:00:05Z'));
  });

  it('reads cron in its time zone (daylight saving included), with seconds as an optional sixth field first', () => {
    const nightly = scheduleOf({ cron: '0 2 * * *', timezone: 'Europe/Berlin', catch_up: 'all' });
    expect(nightly.catchUp).toBe('all');
    // 02:00 in Berlin: 01:00 UTC in winter, 00:00 UTC in summer (from 29 March 2026).
    expect(iso([nightly.next(T('2026-03-28T12:00:00Z')), nightly.next(T('2026-03-29T12:00:00Z'))])).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z']);
    expect(iso(nightly.previous(T('2026-03-30T06:00:00Z'), 2))).toEqual(['2026-03-30T00:00:00.000Z', '2026-03-29T01:00:00.000Z']);
    const everyTen = scheduleOf({ cron: '*/10 * * * * *' });
    expect(iso([everyTen.next(T('2026-01-01T00:00:01Z'))])).toEqual(['2026-01-01T00:00:10.000Z']);
    expect(scheduleOf({ interval: 5 }).catchUp).toBe('latest');
  });

  it('names a due time\'s run by the flow, the node and the time, never with a "."', () => {
    const id = scheduledRunId('Nightly Build (v2.1)', 'nightly', T('2026-01-31T09:00:00Z'));
    expect(id).toMatch(/^schedule-nightly-build-v2-1-nightly-[0-9a-f]{8}-20260131T090000Z$/);
    expect(id).not.toContain('.');
    expect(scheduledRunId('Nightly Build (v2.1)', 'nightly', T('2026-01-31T09:00:00Z'))).toBe(id);
    // Two flows whose names fold to one slug still differ.
    expect(scheduledRunId('a b', 'n', 0)).not.toBe(scheduledRunId('a-b', 'n', 0));
  });

  it('says what is wrong with the data, naming the field', () => {
    expect(scheduleProblem({})?.message).toBe('a schedule needs exactly one of "cron" and "interval", got neither');
    expect(scheduleProblem({ cron: '* * * * *', interval: 5 })?.message).toBe('a schedule needs exactly one of "cron" and "interval", got both');
    expect(scheduleProblem({ cron: '61 * * * *' })).toEqual({ key: 'cron', message: 'cron "61 * * * *": Invalid value for minute: 61' });
    expect(scheduleProblem({ cron: '* * *' })?.key).toBe('cron');
    expect(scheduleProblem({ cron: '0 2 * * *', timezone: 'Mars/Olympus' })).toEqual({ key: 'timezone', message: 'timezone must be an IANA time zone (Europe/Berlin, America/New_York, UTC), got "Mars/Olympus"' });
    expect(scheduleProblem({ interval: 60, timezone: 'UTC' })?.key).toBe('timezone');
    expect(scheduleProblem({ interval: 60, start_at: '2026-02-30T00:00:00Z' })?.key).toBe('start_at');
    expect(scheduleProblem({ interval: 60, start_at: '2026-02-03T00:00:00Z', end_at: '2026-02-02T00:00:00Z' })?.message).toMatch(/^end_at \(2026-02-02T00:00:00Z\) is before start_at/);
  });

  it('is a trigger: validation refuses an edge into it and bad data, with pointers', () => {
    const result = validateFlowDocument({
      name: 'x',
      nodes: [
        { id: 'hourly', type: 'schedule', data: { cron: '0 * * * *', timezone: 'Europe/Atlantis' } },
        { id: 'work', type: 'wait', data: { seconds: 1 } },
        { id: 'again', type: 'schedule', data: { interval: 60, catch_up: 'some' } },
      ],
      edges: [
        { from: 'hourly', to: 'work' },
        { from: 'work', to: 'again' },
      ],
    });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => `${d.code} ${d.pointer}`)).toEqual(expect.arrayContaining(['BAD_SCHEDULE /nodes/0/data/timezone', 'SCHEDULE_NOT_START /edges/1', 'BAD_VALUE /nodes/2/data/catch_up']));
    expect(validateFlowDocument({ name: 'ok', nodes: [{ id: 'tick', type: 'schedule', data: { interval: 60, catch_up: 'none' } }], edges: [] }).ok).toBe(true);
  });
});
