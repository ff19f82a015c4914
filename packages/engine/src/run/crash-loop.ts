/**
 * The crash-loop guard (DESIGN §11): a run whose resumption kills the process (a function that
 * aborts it, an expression that exhausts V8) must not keep a server down for ever. Each
 * resumption is counted in the store before the run is carried on; the count is taken back once
 * the resumption is shown harmless, and a run whose count reaches the limit is ended `failed`
 * with CRASH_LOOP instead of being resumed again.
 *
 * When the count goes back (so that a long run restarted by many deploys is never set aside):
 * - the run made progress since it was last counted (a node or item ended, a timer fired, an
 *   approval was decided, a compensation ended: in it or in its sub-flow runs). Each of those
 *   happens a bounded number of times in a run, so a crashing run cannot renew its count for ever;
 * - the process lived `survivalMs` after the resumption, or stopped in good order
 *   (`engine.close()`: `gantry serve` on SIGTERM) with the run still going;
 * - the run finished.
 * A run that is only waiting (for a human, or a timer not yet due) runs nothing when resumed: it
 * is not counted.
 *
 * Which run killed the process is not known when several were carried on at once. A run counted
 * once and not cleared since is a suspect; suspects are resumed one at a time (in the order asked,
 * then the most counted of those held back), the next once the one before has lived `survivalMs`,
 * come to wait or finished. Runs
 * that are not suspects are resumed at once. So a run that was merely beside the culprit is
 * cleared on its own, and the culprit alone reaches the limit.
 */
import type { Logger } from 'pino';
import type { CompiledFlow } from '../compile.js';
import type { Decision } from './approval-waits.js';
import type { Clock } from './clock.js';
import { toErrorInfo } from './error-info.js';
import type { RunEvent, RunStatus } from './events.js';
import type { RunResult } from './execution.js';
import type { Run } from './run-handle.js';
import { replay, type RunState } from './state.js';
import type { ResumptionCount, RunStore } from './store.js';

/** Events that show a run got further. Each happens a bounded number of times in a run. */
const PROGRESS = new Set<RunEvent['type']>(['node.succeeded', 'node.failed', 'node.skipped', 'timer.fired', 'approval.decided', 'compensation.succeeded', 'compensation.failed']);

/** What the guard reads of a run and its sub-flow runs before resuming it. */
export interface TreeFacts {
  /** Progress events in the run and its sub-flow runs, finished or not. */
  readonly progress: number;
  /** Every unfinished run of the tree waits, with nothing due: resuming it runs nothing. */
  readonly settled: boolean;
  /** The nodes that were running, for the message: `"deploy"`, `"step" (sub-flow run r.deploy)`. */
  readonly running: readonly string[];
  /** The unfinished runs of the tree, sub-flow runs before their parent. */
  readonly unfinished: readonly string[];
}

/** Reads a run's tree from the store (the root's journal is given: it has just been read). */
export async function inspectTree(store: RunStore, runId: string, state: RunState, events: readonly RunEvent[], now: number): Promise<TreeFacts> {
  let progress = 0;
  let settled = true;
  const running: string[] = [];
  const unfinished: string[] = [];
  const visit = async (id: string, s: RunState, journal: readonly RunEvent[], root: boolean): Promise<void> => {
    for (const event of journal) if (PROGRESS.has(event.type)) progress++;
    if (s.finishedAt === undefined) {
      for (const [nodeId, n] of s.nodes) if (n.status === 'running') running.push(root ? `"${nodeId}"` : `"${nodeId}" (sub-flow run ${id})`);
      const last = journal[journal.length - 1];
      if (!(s.status === 'waiting' && last?.type === 'run.waiting' && last.on.every((w) => w.until > now))) settled = false;
    }
    for (const child of await store.listRuns({ parentRunId: id })) {
      const childEvents = await store.events(child.runId);
      await visit(child.runId, replay(child.runId, childEvents), childEvents, false);
    }
    if (s.finishedAt === undefined) unfinished.push(id);
  };
  await visit(runId, state, events, true);
  return { progress, settled, running, unfinished };
}

/** The CRASH_LOOP message: the run, how many crashes, which nodes were running, what to do. */
export function crashLoopMessage(runId: string, crashes: number, running: readonly string[]): string {
  const where =
    running.length === 0
      ? 'no node had been recorded as started: the process died as the run was carried on from its journal'
      : `running: node${running.length === 1 ? '' : 's'} ${running.join(', ')}`;
  return (
    `run ${runId} was set aside as failed: carrying it on crashed the process ${crashes} time${crashes === 1 ? '' : 's'} in a row (${where}). ` +
    'The other runs go on. Find what it does to the process (a function, an agent module, an expression), fix that, and start the run again.'
  );
}

/** A store that keeps crash-loop counts. */
export type CountingStore = RunStore & Required<Pick<RunStore, 'resumptions' | 'setResumptions'>>;

export function countsResumptions(store: RunStore): store is CountingStore {
  return typeof store.resumptions === 'function' && typeof store.setResumptions === 'function';
}

/** What the guard needs from its engine. */
export interface GuardHost {
  readonly store: CountingStore;
  readonly clock: Clock;
  readonly limit: number;
  readonly survivalMs: number;
  readonly logger: Logger;
  /** The stored run: its flow, state and journal (rejects RUN_NOT_FOUND). */
  stored(runId: string): Promise<{ flow: CompiledFlow; state: RunState; events: readonly RunEvent[] }>;
  /** Carries a stored run on from its journal, uncounted. */
  resume(runId: string): Promise<Run>;
  /** Ends the tree's unfinished runs failed with CRASH_LOOP. */
  setAside(runId: string, facts: TreeFacts, crashes: number): Promise<void>;
  decide(runId: string, nodeId: string, decision: Decision): Promise<void>;
  cancel(runId: string): Promise<void>;
}

interface Counted {
  readonly count: ResumptionCount;
  readonly disarm: () => void;
}

export class CrashGuard {
  /** Runs counted by this process and not cleared yet. */
  private readonly counted = new Map<string, Counted>();
  /** The suspect being carried on; the others wait in `held` until it is cleared. */
  private probation: string | undefined;
  private readonly held = new Map<string, HeldRun>();
  private closed = false;

  /** Whether a status change may concern the guard: read on every status change of every run. */
  watching = false;

  constructor(private readonly host: GuardHost) {}

  async resume(runId: string): Promise<Run> {
    const held = this.held.get(runId);
    if (held !== undefined) return held;
    const host = this.host;
    const { flow, state, events } = await host.stored(runId);
    if (state.finishedAt !== undefined) return host.resume(runId);
    const facts = await inspectTree(host.store, runId, state, events, host.clock.now());
    const last = await host.store.resumptions(runId);
    const crashes = last === undefined || facts.progress > last.progress ? 0 : last.count;
    if (crashes >= host.limit) {
      host.logger.error({ code: 'CRASH_LOOP', runId, crashes, running: facts.running }, crashLoopMessage(runId, crashes, facts.running));
      await host.setAside(runId, facts, crashes);
      await host.store.setResumptions(runId, undefined);
      return host.resume(runId);
    }
    if (facts.settled) return host.resume(runId);
    if (crashes > 0 && this.probation !== undefined && !this.closed) {
      const run = new HeldRun(runId, flow, state, crashes, host, () => this.release(runId));
      this.held.set(runId, run);
      host.logger.warn({ runId, crashes }, `run ${runId} was being carried on when the process died ${crashes === 1 ? 'once' : `${crashes} times`}: it waits until run ${this.probation} has been carried on safely`);
      return run;
    }
    const count = { count: crashes + 1, progress: facts.progress };
    await host.store.setResumptions(runId, count);
    const disarm = host.clock.at(host.clock.now() + host.survivalMs, () => this.clear(runId, true));
    this.counted.set(runId, { count, disarm });
    this.watching = true;
    if (crashes > 0) this.probation = runId;
    return host.resume(runId);
  }

  /** A run's status changed: a counted run that finished is forgotten, a suspect that waits lets the next one go. */
  statusChanged(runId: string, status: RunStatus): void {
    if (!this.counted.has(runId)) return;
    if (status !== 'running' && status !== 'waiting') this.clear(runId, false);
    else if (status === 'waiting' && this.probation === runId) this.next();
  }

  /** The process stops in good order: what it counted did not crash it. */
  close(): void {
    this.closed = true;
    for (const runId of [...this.counted.keys()]) this.clear(runId, true);
  }

  /** Takes a run's resumption back (it survived: `uncount`) or forgets its count (it finished). */
  private clear(runId: string, uncount: boolean): void {
    const counted = this.counted.get(runId);
    if (counted === undefined) return;
    this.counted.delete(runId);
    this.watching = this.counted.size > 0;
    counted.disarm();
    const { count, progress } = counted.count;
    const unwritten = (error: unknown) => this.host.logger.error({ err: error, runId }, `the crash-loop count of run ${runId} could not be updated`);
    try {
      const written = this.host.store.setResumptions(runId, uncount && count > 1 ? { count: count - 1, progress } : undefined);
      if (written instanceof Promise) written.catch(unwritten);
    } catch (error) {
      unwritten(error);
    }
    if (this.probation === runId) this.next();
  }

  /** The suspect on probation is cleared: the held ones go next, the most counted first, until one is on probation. */
  private next(): void {
    this.probation = undefined;
    while (!this.closed && this.probation === undefined && this.held.size > 0) {
      let best: HeldRun | undefined;
      for (const run of this.held.values()) if (best === undefined || run.crashes > best.crashes) best = run;
      this.release(best!.id);
    }
  }

  private release(runId: string): void {
    const held = this.held.get(runId);
    if (held === undefined) return;
    this.held.delete(runId);
    this.resume(runId).then(
      (run) => held.attach(run),
      (error: unknown) => {
        this.host.logger.error({ err: error, runId }, `run ${runId} could not be resumed; it stays in the store as it was`);
        held.failed(error);
      },
    );
  }
}

/** A suspect held back until the one before it is cleared: a Run whose execution starts later. */
class HeldRun implements Run {
  readonly finished: Promise<RunResult>;
  private settle!: (result: RunResult) => void;
  private run: Run | undefined;

  constructor(
    readonly id: string,
    readonly flow: CompiledFlow,
    /** Its state as its journal had built it when it was held back. */
    private readonly heldState: RunState,
    readonly crashes: number,
    private readonly host: GuardHost,
    private readonly releaseNow: () => void,
  ) {
    this.finished = new Promise((resolve) => (this.settle = resolve));
  }

  attach(run: Run): void {
    this.run = run;
    void run.finished.then(this.settle);
  }

  failed(error: unknown): void {
    const info = toErrorInfo(error);
    this.settle({ runId: this.id, status: 'failed', output: undefined, error: { ...info, message: `run ${this.id} could not be resumed (it stays in the store as it was): ${info.message}` } });
  }

  status(): RunStatus {
    return this.run?.status() ?? this.heldState.status;
  }

  state(): Readonly<RunState> {
    return this.run?.state() ?? this.heldState;
  }

  waitingApprovals(): { nodeId: string; approvers: readonly string[]; deadline: number }[] {
    return this.run?.waitingApprovals() ?? [];
  }

  decide(nodeId: string, decision: Decision): void {
    if (this.run !== undefined) return this.run.decide(nodeId, decision);
    this.host.decide(this.id, nodeId, decision).catch((error: unknown) => this.host.logger.error({ err: error, runId: this.id, nodeId }, `the decision on "${nodeId}" of run ${this.id}, held back, was not recorded`));
  }

  cancel(): void {
    if (this.run !== undefined) return this.run.cancel();
    // Cancelled in the store: carrying it on then just reads how it ended.
    this.host.cancel(this.id).then(this.releaseNow, (error: unknown) => this.host.logger.error({ err: error, runId: this.id }, `run ${this.id}, held back, could not be cancelled`));
  }
}
