import type { Logger } from 'pino';
import { GantryError, readRuns, SCHEDULE_LOOKBACK, SCHEDULE_RUN_PREFIX, scheduledRunId, scheduleOf, type CompiledFlow, type Engine, type JsonObject, type RunRecord, type RunStore, type Schedule, type ScheduleData } from '@gantry/engine';

export { SCHEDULE_RUN_PREFIX };

/** A schedule node of a served flow. */
export interface ScheduleSlot {
  readonly flow: CompiledFlow;
  readonly nodeId: string;
  readonly schedule: Schedule;
}

/** A schedule the server keeps, as `gantry serve` lists them when it starts. */
export interface ServedSchedule {
  readonly flow: string;
  readonly node: string;
  /** `every 60 s`, `cron 0 2 * * * (UTC)`. */
  readonly schedule: string;
  readonly catchUp: Schedule['catchUp'];
  /** The next due time (ISO 8601), or undefined past its end_at. */
  readonly next?: string;
}

/** Every schedule node of the flows (a node type of the flow format: schemas/nodes/schedule.schema.json). */
export function scheduleSlots(flows: readonly CompiledFlow[]): ScheduleSlot[] {
  const slots: ScheduleSlot[] = [];
  for (const flow of flows) {
    for (const node of flow.nodes.values()) {
      if (node.type === 'schedule') slots.push({ flow, nodeId: node.id, schedule: scheduleOf(node.definition.data as ScheduleData) });
    }
  }
  return slots;
}

/** A schedule's last run: the newest of its last 100 due times up to `now` that has a run in the store. */
export interface LastRun {
  readonly due: number;
  readonly record: RunRecord;
  /** The due times up to `now` after it, oldest first: those that passed with no run. */
  readonly missed: readonly number[];
}

/**
 * Looks for a schedule's last run by the run ids its due times give, all in one read (getRuns: one
 * query, not 100 round trips to a shared store per schedule as `gantry serve` starts), newest due
 * time first. Undefined when none of its last 100 due times up to `now` has a run.
 */
export async function lastRunOf(store: RunStore, slot: ScheduleSlot, now: number): Promise<LastRun | undefined> {
  const past = slot.schedule.previous(now + 1, SCHEDULE_LOOKBACK);
  const ids = past.map((due) => scheduledRunId(slot.flow.name, slot.nodeId, due));
  const found = await readRuns(store, ids);
  if (found.length === 0) return undefined;
  // The records come in the order asked: the first is the newest due time's.
  const i = ids.indexOf(found[0]!.runId);
  return { due: past[i]!, record: found[0]!, missed: past.slice(0, i).reverse() };
}

/**
 * Starts the runs of the served flows' schedule nodes at their due times (DESIGN §12), durably:
 * a due time's run has an id made of the flow, the node and the time, so a due time makes one run
 * whatever the restarts and however many servers share the store (a second start of it is
 * refused by the store, and taken as done). When it starts, each schedule looks for its last run
 * among its last 100 due times; those that passed after it are started as `catch_up` says. Every
 * timer is on the engine's clock.
 */
export class Scheduler {
  private readonly timers = new Map<ScheduleSlot, () => void>();
  private closed = false;
  private readonly nextDue = new Map<ScheduleSlot, number | undefined>();

  constructor(
    private readonly engine: Engine,
    readonly slots: readonly ScheduleSlot[],
    private readonly logger: Logger,
  ) {}

  /** Catches up what passed while no server ran, then arms every schedule's next due time. */
  async start(): Promise<void> {
    for (const slot of this.slots) {
      if (this.closed) return;
      const now = this.engine.options.clock.now();
      await this.catchUp(slot, await this.missedSinceLastRun(slot, now));
      this.arm(slot, now);
    }
  }

  /** Stops every timer: a due time that comes while no server runs is caught up by the next one. */
  close(): void {
    this.closed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  /** The schedules and their next due times. */
  served(): ServedSchedule[] {
    return this.slots.map((slot) => {
      const next = this.nextDue.has(slot) ? this.nextDue.get(slot) : slot.schedule.next(this.engine.options.clock.now());
      return { flow: slot.flow.name, node: slot.nodeId, schedule: slot.schedule.describe, catchUp: slot.schedule.catchUp, ...(next === undefined ? {} : { next: new Date(next).toISOString() }) };
    });
  }

  /**
   * The due times up to `now` after the schedule's last recorded run, oldest first. When none of
   * its last 100 due times has a run, those since its `start_at` (the past it declares); without
   * one, none: a new schedule starts from now, it does not make up for a past it never had.
   */
  private async missedSinceLastRun(slot: ScheduleSlot, now: number): Promise<readonly number[]> {
    const last = await lastRunOf(this.engine.options.store, slot, now);
    if (last !== undefined) return last.missed;
    if (slot.schedule.start !== undefined) return slot.schedule.previous(now + 1, SCHEDULE_LOOKBACK).reverse();
    if (slot.schedule.previous(now + 1, 1).length > 0) this.logger.info({ flow: slot.flow.name, node: slot.nodeId }, `schedule "${slot.nodeId}" of "${slot.flow.name}": no run among its last ${SCHEDULE_LOOKBACK} due times, so it starts from now`);
    return [];
  }

  /** Starts the due times that passed unattended, as the node's catch_up says. */
  private async catchUp(slot: ScheduleSlot, missed: readonly number[]): Promise<void> {
    if (missed.length === 0) return;
    const policy = slot.schedule.catchUp;
    const chosen = policy === 'all' ? missed : policy === 'latest' ? missed.slice(-1) : [];
    const skipped = missed.length - chosen.length;
    if (skipped > 0) {
      this.logger.info({ flow: slot.flow.name, node: slot.nodeId, skipped }, `schedule "${slot.nodeId}" of "${slot.flow.name}": ${skipped} due time${skipped === 1 ? '' : 's'} passed unattended and ${skipped === 1 ? 'is' : 'are'} skipped (catch_up: ${policy})`);
    }
    for (const due of chosen) await this.startFor(slot, due, true);
  }

  private arm(slot: ScheduleSlot, after: number): void {
    if (this.closed) return;
    const due = slot.schedule.next(after);
    this.nextDue.set(slot, due);
    if (due === undefined) {
      this.timers.delete(slot);
      this.logger.info({ flow: slot.flow.name, node: slot.nodeId }, `schedule "${slot.nodeId}" of "${slot.flow.name}" has no due time left (end_at)`);
      return;
    }
    this.timers.set(slot, this.engine.options.clock.at(due, () => void this.fire(slot, due)));
  }

  private async fire(slot: ScheduleSlot, due: number): Promise<void> {
    if (this.closed) return;
    await this.startFor(slot, due, false);
    // Due times that came while this one was being started (a paused process, a slow store) are late: catch_up decides.
    const now = this.engine.options.clock.now();
    const late: number[] = [];
    for (let t = slot.schedule.next(due); t !== undefined && t <= now && late.length < SCHEDULE_LOOKBACK; t = slot.schedule.next(t)) late.push(t);
    await this.catchUp(slot, late);
    this.arm(slot, Math.max(now, late.at(-1) ?? due));
  }

  /** Starts the run of one due time, unless it exists (started before a restart, or by another server). */
  private async startFor(slot: ScheduleSlot, due: number, late: boolean): Promise<void> {
    const runId = scheduledRunId(slot.flow.name, slot.nodeId, due);
    const scheduledAt = new Date(due).toISOString();
    const trigger: JsonObject = { schedule: slot.nodeId, scheduled_at: scheduledAt, ...(late ? { caught_up: true } : {}) };
    try {
      if ((await this.engine.options.store.getRun(runId)) !== undefined) return;
      await this.engine.start(slot.flow, { runId, trigger });
      this.logger.info({ runId, flow: slot.flow.name, node: slot.nodeId, scheduledAt, late }, late ? 'schedule: a due time that passed unattended, run started' : 'schedule: run started');
    } catch (error) {
      // Started meanwhile by another server on the same store: that run is this due time's.
      if (error instanceof GantryError && error.code === 'STORE_CONFLICT') return;
      this.logger.error({ err: error, runId, flow: slot.flow.name, node: slot.nodeId, scheduledAt }, `schedule "${slot.nodeId}" of "${slot.flow.name}": the run due at ${scheduledAt} could not start`);
    }
  }
}
