/**
 * A clock for whole runs against real processes (the local agent pack), after Temporal's
 * time-skipping test environment: time passes as real time, so real work — a build, a request, a
 * task's own wait for traffic — takes the time it takes and its timeouts keep their meaning; and
 * whenever every run is waiting on a durable timer (a bake, a retry's backoff) and nothing has
 * happened for a moment, time jumps to that timer. A 300 s bake takes no real time.
 *
 * Plain JavaScript: a child process on the built packages uses it (test/deploy/fast-clock-driver.mjs).
 */

/** setTimeout's longest delay: a later timer is armed again when this much has passed. */
const MAX_DELAY = 2 ** 31 - 1;

export class SkippingClock {
  #offset;
  #timers = new Set();
  /** How far time has jumped in all, in ms. */
  skipped = 0;
  /** The delay of every timer armed on it, in ms from when it was armed: who waited on this clock. */
  delays = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#offset = start - Date.now();
  }

  now() {
    return Date.now() + this.#offset;
  }

  at(at, fn) {
    this.delays.push(at - this.now());
    const timer = { at, fn, handle: undefined };
    this.#timers.add(timer);
    this.#arm(timer);
    return () => {
      clearTimeout(timer.handle);
      this.#timers.delete(timer);
    };
  }

  /** Moves time forward to `at`: the timers due by then fire at once, in their order. */
  skipTo(at) {
    const ahead = at - this.now();
    if (ahead <= 0) return;
    this.#offset += ahead;
    this.skipped += ahead;
    for (const timer of [...this.#timers].sort((a, b) => a.at - b.at)) this.#arm(timer);
  }

  #arm(timer) {
    clearTimeout(timer.handle);
    timer.handle = setTimeout(() => {
      if (this.now() < timer.at) return this.#arm(timer);
      this.#timers.delete(timer);
      timer.fn();
    }, Math.min(MAX_DELAY, Math.max(0, timer.at - this.now())));
  }
}

/**
 * Skips `clock` to the next durable timer (a `wait` node's, a retry's backoff) whenever no
 * attempt of any live run of `engine` is working, and no event has come for `quietMs`. An attempt
 * rests while its wait timer runs, while a child run of its works for it, and (a for_each node)
 * while its items run; an attempt waiting for an approval works (the test decides it). What is
 * known comes from the engine's events alone. Returns a function that stops it.
 */
export function skipWhenIdle(engine, clock, quietMs = 50) {
  const live = new Set();
  /** Attempts started and not ended: "runId|nodeId|item" → { runId, nodeId, item }. */
  const active = new Map();
  /** Attempts whose wait timer runs. */
  const sleeping = new Set();
  /** Durable timers a skip may go to, set and not fired: "runId timerId" → fireAt. */
  const timers = new Map();
  const keyOf = (e) => `${e.runId}|${e.nodeId}|${e.item ?? ''}`;
  let events = 0;
  let seen = 0;
  const unsubscribe = engine.on('event', (e) => {
    events += 1;
    switch (e.type) {
      case 'run.started':
        live.add(e.runId);
        break;
      case 'run.finished':
        live.delete(e.runId);
        for (const [key, a] of active) if (a.runId === e.runId) active.delete(key);
        for (const key of timers.keys()) if (key.startsWith(`${e.runId} `)) timers.delete(key);
        break;
      case 'node.started':
        active.set(keyOf(e), { runId: e.runId, nodeId: e.nodeId, item: e.item });
        break;
      case 'node.succeeded':
      case 'node.failed':
      case 'node.skipped':
      case 'node.retrying':
        active.delete(keyOf(e));
        sleeping.delete(keyOf(e));
        break;
      case 'timer.set':
        if (e.purpose === 'wait' || e.purpose === 'retry') timers.set(`${e.runId} ${e.timerId}`, e.fireAt);
        if (e.purpose === 'wait') sleeping.add(keyOf(e));
        break;
      case 'timer.fired':
        timers.delete(`${e.runId} ${e.timerId}`);
        sleeping.delete(keyOf(e));
        break;
    }
  });
  /** A child run of the attempt is live: its id is `<run>.<node>[item]`, then `~retries` or `:key` maybe. */
  const delegates = (a) => {
    const prefix = `${a.runId}.${a.nodeId}${a.item === undefined ? '' : `[${a.item}]`}`;
    return [...live].some((runId) => runId === prefix || runId.startsWith(`${prefix}~`) || runId.startsWith(`${prefix}:`));
  };
  const itemsRun = (a) => a.item === undefined && [...active.values()].some((b) => b.runId === a.runId && b.nodeId === a.nodeId && b.item !== undefined);
  const rests = (key, a) => sleeping.has(key) || delegates(a) || itemsRun(a);
  const tick = setInterval(() => {
    if (events !== seen) {
      seen = events;
      return;
    }
    if (live.size === 0 || [...active].some(([key, a]) => !rests(key, a))) return;
    const next = Math.min(...[...timers].filter(([key]) => live.has(key.split(' ')[0])).map(([, at]) => at));
    if (Number.isFinite(next)) clock.skipTo(next);
  }, quietMs);
  return () => {
    clearInterval(tick);
    unsubscribe();
  };
}
