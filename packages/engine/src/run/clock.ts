/** Time, injected, so a test can expire a one-hour approval in a millisecond (STYLE §8). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once `at` (epoch ms) has come; returns a function that cancels it. */
  at(at: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    // setTimeout's delay is a signed 32-bit number: a long wait is taken in steps.
    const MAX = 2_147_483_647;
    let handle: NodeJS.Timeout;
    const arm = () => {
      const delay = at - Date.now();
      if (delay > MAX) handle = setTimeout(arm, MAX);
      else handle = setTimeout(fn, Math.max(0, delay));
    };
    arm();
    return () => clearTimeout(handle);
  },
};

/**
 * A clock that moves only when told. `advance` fires due timers in time order, each at its own
 * time, and lets the promises they settle run before the next one fires.
 */
export class FakeClock implements Clock {
  private time: number;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  private readonly settle: () => Promise<void>;

  /**
   * `settle`: what `advance` waits for before each timer fires and at its end; by default a few
   * turns of the event loop. A test on a store that answers later (over the network) waits for
   * its commits too, so that time does not move while a run's step is still being written.
   */
  constructor(start = Date.UTC(2026, 0, 1), options: { settle?: () => Promise<void> } = {}) {
    this.time = start;
    this.settle = options.settle ?? settle;
  }

  now(): number {
    return this.time;
  }

  at(at: number, fn: () => void): () => void {
    const timer = { at, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.timers.length;
  }

  /** The time of the next timer, if any. */
  get next(): number | undefined {
    return this.timers.reduce<number | undefined>((min, t) => (min === undefined || t.at < min ? t.at : min), undefined);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await this.settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
    await this.settle();
  }

  /** Advances to each next timer until none is left (or `limit` timers fired). */
  async runAll(limit = 10_000): Promise<void> {
    for (let i = 0; i < limit; i++) {
      await this.settle();
      const next = this.next;
      if (next === undefined) return;
      await this.advance(Math.max(0, next - this.time));
    }
  }
}

/** Lets pending promise callbacks (and the I/O callbacks they wait on) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
