import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { GantryError } from './errors.js';
import { isRealDateTime } from './date-time.js';

/** A schedule node's data (schemas/nodes/schedule.schema.json). */
export interface ScheduleData {
  /** A cron expression: 5 fields (minute first), or 6 with seconds first. */
  readonly cron?: string;
  /** The IANA time zone the cron expression reads in. @default 'UTC' */
  readonly timezone?: string;
  /** Seconds between due times, counted from `start_at` (else from 1970-01-01T00:00:00Z). */
  readonly interval?: number;
  /** What due times that passed while no server ran start: `latest` one run, `all` one each (oldest first), `none`. @default 'latest' */
  readonly catch_up?: CatchUp;
  /** No due time before this (ISO 8601); an interval's due times count from it. */
  readonly start_at?: string;
  /** No due time after this (ISO 8601). */
  readonly end_at?: string;
}

export type CatchUp = 'latest' | 'all' | 'none';

/** The due times of a schedule node: pure functions of the data, the same on every peer and after every restart. */
export interface Schedule {
  readonly catchUp: CatchUp;
  /** `start_at` (epoch ms): the schedule's declared beginning, when it has one. */
  readonly start: number | undefined;
  /** The first due time strictly after `after` (epoch ms), or undefined when there is none (past `end_at`). */
  next(after: number): number | undefined;
  /** Up to `count` due times strictly before `before`, newest first. */
  previous(before: number, count: number): number[];
  /** `every 60 s`, `cron 0 2 * * * (Europe/Berlin)`: for listings. */
  readonly describe: string;
}

/** How far back a server looks for a schedule's last run when it starts (due times). */
export const SCHEDULE_LOOKBACK = 100;

/**
 * A schedule node's data as a {@link Schedule}. Throws FLOW_INVALID for data that validation
 * refuses (a flow that passed validation never throws here). Due times are whole seconds.
 */
export function scheduleOf(data: ScheduleData): Schedule {
  const problem = scheduleProblem(data);
  if (problem !== undefined) throw new GantryError('FLOW_INVALID', `schedule: ${problem.message}`);
  const start = data.start_at === undefined ? undefined : Date.parse(data.start_at);
  const end = data.end_at === undefined ? undefined : Date.parse(data.end_at);
  const catchUp = data.catch_up ?? 'latest';
  const inWindow = (t: number) => (start === undefined || t >= start) && (end === undefined || t <= end);
  if (data.interval !== undefined) {
    const step = data.interval * 1000;
    const anchor = start === undefined ? 0 : Math.ceil(start / 1000) * 1000;
    return {
      catchUp,
      start,
      describe: `every ${data.interval} s${start === undefined ? '' : ` from ${new Date(anchor).toISOString()}`}${end === undefined ? '' : ` until ${data.end_at}`}`,
      next(after) {
        const k = Math.max(0, Math.floor((after - anchor) / step) + 1);
        const t = anchor + k * step;
        return inWindow(t) ? t : undefined;
      },
      previous(before, count) {
        const times: number[] = [];
        let k = Math.ceil((before - anchor) / step) - 1;
        // Counted from the window's end, not stepped back to it: a 1 s interval that ended years
        // ago would be a billion steps (a flow file must not freeze the server's start).
        if (end !== undefined) k = Math.min(k, Math.floor((end - anchor) / step));
        for (; k >= 0 && times.length < count; k--) times.push(anchor + k * step);
        return times;
      },
    };
  }
  const timezone = data.timezone ?? 'UTC';
  const cron = new Cron(data.cron!, { timezone, paused: true, ...(data.start_at === undefined ? {} : { startAt: data.start_at }), ...(data.end_at === undefined ? {} : { stopAt: data.end_at }) });
  return {
    catchUp,
    start,
    describe: `cron ${data.cron} (${timezone})${start === undefined ? '' : ` from ${data.start_at}`}${end === undefined ? '' : ` until ${data.end_at}`}`,
    next(after) {
      const t = cron.nextRun(new Date(after))?.getTime();
      return t !== undefined && inWindow(t) ? t : undefined;
    },
    previous(before, count) {
      return cron
        .previousRuns(count, new Date(before))
        .map((d) => d.getTime())
        .filter((t) => t < before && inWindow(t));
    },
  };
}

/**
 * What is wrong with a schedule node's data, for validation (node-checks) and for scheduleOf:
 * exactly one of cron and interval, a cron of 5 or 6 fields croner can read, a time zone the
 * runtime knows, real dates with a zone, a window that is not empty.
 */
export function scheduleProblem(data: ScheduleData): { readonly key: string; readonly message: string } | undefined {
  const hasCron = data.cron !== undefined;
  const hasInterval = data.interval !== undefined;
  if (hasCron === hasInterval) return { key: '', message: `a schedule needs exactly one of "cron" and "interval", got ${hasCron ? 'both' : 'neither'}` };
  if (hasInterval) {
    if (!Number.isInteger(data.interval) || data.interval! < 1) return { key: 'interval', message: `interval must be a whole number of seconds ≥ 1, got ${JSON.stringify(data.interval)}` };
    if (data.timezone !== undefined) return { key: 'timezone', message: 'timezone applies to a cron expression; an interval counts seconds from start_at (or 1970-01-01T00:00:00Z)' };
  } else {
    const fields = typeof data.cron === 'string' ? data.cron.trim().split(/\s+/).length : 0;
    if (fields !== 5 && fields !== 6) return { key: 'cron', message: `cron must have 5 fields (minute hour day month weekday) or 6 (seconds first), got ${JSON.stringify(data.cron)}` };
    try {
      new Cron(data.cron!, { paused: true, timezone: data.timezone ?? 'UTC' }).nextRun();
    } catch (error) {
      const text = (error as Error).message;
      const key = /timezone/i.test(text) ? 'timezone' : 'cron';
      return { key, message: key === 'timezone' ? `timezone must be an IANA time zone (Europe/Berlin, America/New_York, UTC), got ${JSON.stringify(data.timezone)}` : `cron ${JSON.stringify(data.cron)}: ${text.replace(/^CronPattern: /, '')}` };
    }
  }
  for (const key of ['start_at', 'end_at'] as const) {
    const value = data[key];
    if (value !== undefined && (typeof value !== 'string' || !isRealDateTime(value))) return { key, message: `${key} must be an ISO 8601 date-time with a zone (2026-01-31T09:00:00Z), got ${JSON.stringify(value)}` };
  }
  if (data.start_at !== undefined && data.end_at !== undefined && Date.parse(data.end_at) < Date.parse(data.start_at)) {
    return { key: 'end_at', message: `end_at (${data.end_at}) is before start_at (${data.start_at}): the schedule would never be due` };
  }
  return undefined;
}

/**
 * The id of the run a schedule starts for a due time: the same for every server and after every
 * restart, so that one due time makes one run (a second start of it is refused by the store).
 * `schedule-<flow>-<node>-<hash>-20260131T090000Z`; never a ".", which names sub-flow runs.
 */
/** The run ids a schedule starts begin so: they cannot be taken for a webhook's or a CLI's (DESIGN §11). */
export const SCHEDULE_RUN_PREFIX = 'schedule-';

export function scheduledRunId(flowName: string, nodeId: string, due: number): string {
  const slug = (text: string, max: number) => text.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, max) || 'x';
  // The names are cut and folded to be readable: the hash keeps two flows or nodes apart.
  const hash = createHash('sha256').update(`${flowName}\u0000${nodeId}`).digest('hex').slice(0, 8);
  const at = new Date(due).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${SCHEDULE_RUN_PREFIX}${slug(flowName, 40)}-${slug(nodeId, 40)}-${hash}-${at}`;
}
