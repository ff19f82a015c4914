import { GantryError } from '../errors.js';
import type { Attempt, RunScope } from './run-scope.js';

/**
 * A durable timer. Its id names the node path, the failed attempts before this one and the
 * wait's place in the attempt, so that after a restart the same wait finds its timer: one
 * that fired is not waited for again, one that was set keeps its absolute time.
 */
export function durableSleep(x: RunScope, attempt: Attempt, at: number, signal: AbortSignal, seq: number): Promise<void> {
  const path = x.nodePath(attempt.node.id, attempt.index);
  const timerId = `${path}#wait${x.state.retries.get(path) ?? 0}.${seq}`;
  if (signal.aborted || x.isEnding) return Promise.reject(signal.reason ?? new GantryError('CANCELLED', 'the run is stopping'));
  if (x.state.firedTimers.has(timerId)) return Promise.resolve();
  const base = { runId: x.runId, nodeId: attempt.node.id, attempt: attempt.attempt, ...(attempt.index === undefined ? {} : { item: attempt.index }) };
  // Resumed: the timer keeps the absolute time it was given before the restart (recorded
  // again, so that the journal shows the node waiting on it once more).
  const fireAt = x.state.timers.get(timerId)?.fireAt ?? at;
  x.record({ type: 'timer.set', at: x.now(), ...base, timerId, purpose: 'wait', fireAt });
  x.enterWait();
  return new Promise((resolve, reject) => {
    const cancel = x.core.options.clock.at(fireAt, () => {
      signal.removeEventListener('abort', onAbort);
      x.leaveWait();
      // A timer that fires while the run stops still settles, so its executor can end.
      if (x.isEnding) return reject(new GantryError('CANCELLED', 'the run is stopping'));
      x.record({ type: 'timer.fired', at: x.now(), ...base, timerId });
      resolve();
    });
    const onAbort = () => {
      cancel();
      x.leaveWait();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
