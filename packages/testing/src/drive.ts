import type { FakeClock, Run, RunResult } from '@gantry/engine';
import { plural } from './format.js';
import type { Observer } from './observe.js';

export interface DriveOptions {
  /** Real milliseconds with no event and nothing on the fake clock before the run is declared stuck. @default 20000 */
  readonly stallMs?: number;
  /** Timers fired before the run is declared runaway. @default 100000 */
  readonly maxTimers?: number;
}

export type DriveOutcome = { readonly result: RunResult } | { readonly stuck: string };

/**
 * Carries a run to its end on the fake clock, as Temporal's time skipping does: time moves to
 * the next timer only when nothing else can happen — no promise left to settle and no file read
 * in flight (a sub-flow's file being loaded) — so a deadline never fires while the work that
 * would have met it is still reading a file, and a 300 s bake takes no time at all.
 */
export async function drive(run: Run, clock: FakeClock, observer: Observer, options: DriveOptions = {}): Promise<DriveOutcome> {
  const stallMs = options.stallMs ?? 20_000;
  const maxTimers = options.maxTimers ?? 100_000;
  let result: RunResult | undefined;
  void run.finished.then((r) => (result = r));
  let timers = 0;
  let seen = observer.count;
  let idleSince = Date.now();
  for (;;) {
    await quiet(stallMs);
    if (result !== undefined) return { result };
    const next = clock.next;
    if (next !== undefined) {
      if (++timers > maxTimers) return { stuck: `the run was stopped after ${plural(maxTimers, 'timer')} on the fake clock without finishing (a runaway loop of retries or waits?)` };
      await clock.advance(Math.max(0, next - clock.now()));
      continue;
    }
    // Nothing is scheduled: something real is in flight (an agent taken from the configuration), or nothing will ever happen.
    if (observer.count !== seen) {
      seen = observer.count;
      idleSince = Date.now();
    } else if (Date.now() - idleSince > stallMs) {
      return { stuck: `the run did not finish: nothing happened for ${stallMs / 1000} s and nothing was scheduled on the fake clock${running(observer)}` };
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Waits until promises have settled and no file-system request is in flight (for `limitMs` at most). */
async function quiet(limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  for (let calm = 0; calm < 3; ) {
    await new Promise((resolve) => setImmediate(resolve));
    if (Date.now() < until && fileWorkInFlight(process.getActiveResourcesInfo())) {
      calm = 0;
      await new Promise((resolve) => setTimeout(resolve, 1));
    } else {
      calm++;
    }
  }
}

/**
 * Whether the process is reading or writing a file: a request in flight (`FSReq…`), or the close
 * that ends `readFile` (`CloseReq`, `FileHandleCloseReq`), which comes after the data is read and
 * before the read resolves.
 */
export function fileWorkInFlight(resources: readonly string[]): boolean {
  return resources.some((r) => r.startsWith('FSReq') || r === 'CloseReq' || r === 'FileHandleCloseReq');
}

function running(observer: Observer): string {
  const nodes = [...observer.runs.values()].flatMap((run) => [...run.nodes.values()].filter((n) => n.status === 'running').map((n) => `${n.id}${run.path ? ` in sub-flow run ${run.path}` : ''}`));
  return nodes.length === 0 ? '' : ` (still running: ${nodes.join(', ')})`;
}
