/**
 * A peer: one `gantry serve` among any number on one database (DESIGN §9). No peer is special.
 * Each claims the runs that are ready for anyone — a lease that ran out (its process died, was
 * paused or cut off), a run handed back (a decision given, a process stopping), a waiting run
 * whose timer is due — with FOR UPDATE SKIP LOCKED, and carries them on from their journals as
 * `gantry resume` does. NOTIFY wakes the peers early; polling is the guarantee.
 */
import { GantryError, type Engine } from '@gantry/engine';
import type { ReadyClaim } from './leases.js';
import type { StoreLogger } from './options.js';
import type { PostgresStore } from './postgres-store.js';

export interface PeerOptions {
  /** How often the peer looks for ready runs when nothing wakes it, in ms. @default 1000 */
  readonly pollMs?: number;
  /** Runs claimed at once. @default 16 */
  readonly claimBatch?: number;
  /** Top-level runs this peer holds at most; it claims no more beyond. @default Infinity */
  readonly maxRuns?: number;
  /** A claimed run that cannot be resumed here is given back for this long before anyone tries again, in ms. @default 60000 */
  readonly retryResumeMs?: number;
  /** @default the store's */
  readonly logger?: StoreLogger;
  /** Jitter for the poll interval, 0 to 1. @default Math.random */
  readonly random?: () => number;
}

export class PostgresPeer {
  private stopped = false;
  private wake: (() => void) | undefined;
  /** Woken while not asleep (claiming): the next sleep is skipped. */
  private woken = false;
  private loop: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private detach: (() => void) | undefined;
  private readonly claimListeners = new Set<(claim: ReadyClaim) => void>();
  private readonly pollMs: number;
  private readonly claimBatch: number;
  private readonly maxRuns: number;
  private readonly retryResumeMs: number;
  private readonly random: () => number;
  private failing = false;

  constructor(
    readonly store: PostgresStore,
    private readonly engine: Engine,
    private readonly logger: StoreLogger,
    options: PeerOptions = {},
  ) {
    this.pollMs = check('pollMs', options.pollMs ?? 1000, 10);
    this.claimBatch = check('claimBatch', options.claimBatch ?? 16, 1);
    this.maxRuns = options.maxRuns === undefined || options.maxRuns === Infinity ? Infinity : check('maxRuns', options.maxRuns, 1);
    this.retryResumeMs = check('retryResumeMs', options.retryResumeMs ?? 60_000, 0);
    this.random = options.random ?? Math.random;
  }

  /** Hears each run this peer claims (its previous holder, how long it waited): for metrics. */
  onClaim(listener: (claim: ReadyClaim) => void): () => void {
    this.claimListeners.add(listener);
    return () => this.claimListeners.delete(listener);
  }

  /** Starts claiming: at once, then whenever woken or every `pollMs`. Resolves once the peers list shows where this one answers. */
  async start(): Promise<void> {
    if (this.loop !== undefined) return;
    this.detach = this.store.attach(this.engine);
    this.unlisten = this.store.listen(() => this.alarm());
    this.loop = this.run();
    await this.store.renew();
  }

  /**
   * Stops claiming and lets go of every run this peer carries on (their executors are aborted,
   * nothing more is recorded here); the store gives them back when it closes.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.alarm();
    await this.loop;
    await this.unlisten?.();
    for (const runId of this.store.heldRuns()) this.engine.drop(runId, 'this process is stopping: another process carries it on');
    await this.engine.flush().catch(() => {});
    this.detach?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let wait = this.pollMs;
      try {
        const room = this.maxRuns - this.store.heldRuns().length;
        const limit = Math.min(this.claimBatch, room);
        const claimed = limit > 0 ? await this.store.claimReady(limit) : [];
        for (const claim of claimed) {
          for (const listener of this.claimListeners) listener(claim);
          void this.carryOn(claim);
        }
        if (this.failing) {
          this.failing = false;
          this.logger.info({}, 'the run store answers again: claiming ready runs');
        }
        if (claimed.length === limit && limit > 0) wait = 0;
        else {
          const due = await this.store.nextDueMs();
          // Jittered, so that peers started together do not poll together.
          const poll = this.pollMs * (0.75 + this.random() * 0.5);
          wait = due === undefined ? poll : Math.min(poll, Math.max(10, due));
        }
      } catch (error) {
        if (!this.failing) {
          this.failing = true;
          this.logger.warn({ err: error }, 'ready runs cannot be claimed: the run store does not answer; trying again');
        }
      }
      if (wait > 0 && !this.stopped) await this.sleep(wait);
    }
  }

  private async carryOn(claim: ReadyClaim): Promise<void> {
    const { runId, previous, waitedMs, epoch } = claim;
    try {
      await this.engine.resume(runId);
      this.logger.info({ runId, epoch, from: previous, waitedMs: Math.round(waitedMs) }, previous === undefined ? `run ${runId} claimed: it was ready` : `run ${runId} taken over from ${previous}, whose lease had run out`);
    } catch (error) {
      // Not resumable here (a flow that no longer loads, a store that failed): left for later, not spun on.
      this.logger.error({ err: error, runId }, `run ${runId} could not be carried on here; it is given back for ${this.retryResumeMs} ms`);
      this.engine.drop(runId, 'it could not be carried on here');
      await this.store.giveBack(runId, this.retryResumeMs).catch(() => {});
    }
  }

  private alarm(): void {
    if (this.wake !== undefined) this.wake();
    else this.woken = true;
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

function check(name: string, value: number, min: number): number {
  if (!(Number.isInteger(value) && value >= min)) throw new GantryError('CONFIG_INVALID', `PostgresPeer: expected ${name} to be an integer ≥ ${min}, got ${String(value)}`);
  return value;
}
