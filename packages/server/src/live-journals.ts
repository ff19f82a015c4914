import { readEventsAfter, type Engine, type RunEvent, type RunStore } from '@gantry/engine';

/** What the live streams read of the store: a run's sub-flow runs, and its journal from a reader's position. */

/** Sub-flow runs, children before grandchildren, oldest first (at most 16 levels down). */
export async function descendants(engine: Engine, root: string): Promise<string[]> {
  const found: string[] = [];
  let level = [root];
  for (let depth = 0; depth < 16 && level.length > 0; depth++) {
    const next: string[] = [];
    for (const id of level) next.push(...(await engine.options.store.listRuns({ parentRunId: id })).reverse().map((r) => r.runId));
    level = next;
    found.push(...level);
  }
  return found;
}

/**
 * A run's events after a reader's position, read from the event before it (by the journal's seq,
 * not the whole journal): that event shows the journal reaches the position. A position past the
 * journal's end (not one this server gave) is taken back to the end.
 */
export async function eventsFrom(store: RunStore, run: string, position: number): Promise<{ from: number; events: readonly RunEvent[] }> {
  if (position === 0) return { from: 0, events: await readEventsAfter(store, run, 0) };
  const events = await readEventsAfter(store, run, position - 1);
  if (events.length > 0) return { from: position, events: events.slice(1) };
  return { from: Math.min(position, (await store.events(run)).length), events: [] };
}
