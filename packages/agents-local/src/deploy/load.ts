/**
 * Production traffic for the demo: a steady stream of real price requests sent through the
 * proxy, from inside the gantry process (it ends with it). What it saw is counted by upstream
 * and status, so a result can say how many users a bad green would have hurt.
 */
import { describeFailure, http } from '../runtime/http.js';

export interface LoadStats {
  readonly url: string;
  readonly rps: number;
  readonly sent: number;
  readonly by_upstream: Record<string, number>;
  readonly by_status: Record<string, number>;
  readonly failures: number;
}

const PATHS = ['/api/price?amount=100&country=FR', '/api/price?amount=42.5&country=DE', '/api/price?amount=9.99&country=US', '/api/price?amount=250&country=GB'];

let active: { timer: NodeJS.Timeout; stats: LoadStats & { by_upstream: Record<string, number>; by_status: Record<string, number> } } | undefined;

/** Sends `rps` requests a second to `url` until stopped (a second call changes the target). */
export function startLoad(url: string, rps = Number(process.env.GANTRY_LOCAL_LOAD_RPS ?? 50)): LoadStats {
  stopLoad();
  const stats = { url, rps, sent: 0, by_upstream: {} as Record<string, number>, by_status: {} as Record<string, number>, failures: 0 };
  // Each tick sends what the rate owes by now: exactly `rps` a second, whatever the tick's
  // rounding (a fixed count per tick sent 60 for 50) or a late timer.
  const began = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - began) * rps) / 1000) - stats.sent;
    for (let i = 0; i < due; i++) {
      const path = PATHS[stats.sent % PATHS.length]!;
      stats.sent += 1;
      http(`${url}${path}`, { timeoutMs: 10_000 }).then(
        (answer) => {
          const upstream = answer.headers['x-gantry-upstream'] ?? 'none';
          stats.by_upstream[upstream] = (stats.by_upstream[upstream] ?? 0) + 1;
          stats.by_status[answer.status] = (stats.by_status[answer.status] ?? 0) + 1;
        },
        (error: unknown) => {
          stats.failures += 1;
          stats.by_status[describeFailure(error)] = (stats.by_status[describeFailure(error)] ?? 0) + 1;
        },
      );
    }
  }, 50);
  // The demo's traffic must never keep a finished gantry process alive.
  timer.unref();
  active = { timer, stats };
  return loadStats()!;
}

export function stopLoad(): void {
  if (active) clearInterval(active.timer);
  active = undefined;
}

/** A copy of the counts so far, or undefined when no load runs. */
export function loadStats(): LoadStats | undefined {
  if (!active) return undefined;
  const s = active.stats;
  return { ...s, by_upstream: { ...s.by_upstream }, by_status: { ...s.by_status } };
}
