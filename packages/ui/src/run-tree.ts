import { batch, signal, type Signal } from '@preact/signals';
import { ApiError, authHeaders, getJson, runPath, url } from './api';
import { follow, type Follower, type LinkState } from './live';
import { applyBatch, emptyFold, nodeOfPath, type RunFold } from './run-fold';
import type { JournalBatch, RunGraph, RunView } from './wire';

/**
 * A run and its sub-flow runs as the run page holds them: each run's journal folded as it streams
 * in (GET /runs/:id/events), its flow graph (fetched once per flow version), and the server's view
 * (GET /runs/:id: why each node is where it is, what the caller may decide), read again shortly
 * after its journal grows. Signals let only what changed draw again.
 */

export class RunModel {
  readonly fold: RunFold;
  /** Bumped whenever the fold changes. */
  readonly rev = signal(0);
  readonly graph = signal<RunGraph | undefined>(undefined);
  readonly view = signal<RunView | undefined>(undefined);
  private readonly nodeRevs = new Map<string, Signal<number>>();

  constructor(readonly id: string) {
    this.fold = emptyFold(id);
  }

  /** A signal bumped whenever this node changes: a node's drawing reads only its own. */
  nodeRev(nodeId: string): Signal<number> {
    let s = this.nodeRevs.get(nodeId);
    if (s === undefined) {
      s = signal(0);
      this.nodeRevs.set(nodeId, s);
    }
    return s;
  }

  touch(nodes: Iterable<string>): void {
    batch(() => {
      for (const n of nodes) {
        const s = this.nodeRevs.get(n);
        if (s !== undefined) s.value++;
      }
      this.rev.value++;
    });
  }
}

const graphs = new Map<string, Promise<RunGraph>>();
const VIEW_DELAY_MS = 250;

export class RunTree {
  readonly runs = new Map<string, RunModel>();
  /** Bumped when a run joins the tree or any fold changes. */
  readonly version = signal(0);
  readonly link = signal<LinkState>('connecting');
  readonly failure = signal<string | undefined>(undefined);
  private follower: Follower | undefined;
  private readonly viewTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Runs whose server view is kept fresh (the root, the one drawn). */
  readonly watched = new Set<string>();
  /** Set by a page that measures: called after each batch is applied. */
  onApplied: ((run: string, nodes: Set<string>) => void) | undefined;

  constructor(readonly root: string) {
    this.watched.add(root);
  }

  model(runId: string): RunModel {
    let m = this.runs.get(runId);
    if (m === undefined) {
      m = new RunModel(runId);
      this.runs.set(runId, m);
      this.version.value++;
    }
    return m;
  }

  /** Where the page is in every journal of the tree: the stream's resume position. */
  position(): string {
    let text = String(this.runs.get(this.root)?.fold.seq ?? 0);
    for (const [id, m] of this.runs) if (id !== this.root && m.fold.seq > 0) text += `;${encodeURIComponent(id.slice(this.root.length + 1))}=${m.fold.seq}`;
    return text;
  }

  apply(b: JournalBatch): void {
    const m = this.model(b.run);
    const changed = applyBatch(m.fold, b.from, b.events);
    if (changed === 'gap') {
      // Never expected (positions are exact); reading the stream again from where we are mends it.
      this.restart();
      return;
    }
    if (changed.size === 0 && b.events.length === 0) return;
    batch(() => {
      m.touch(changed);
      this.version.value++;
    });
    this.onApplied?.(b.run, changed);
    if (this.watched.has(b.run)) this.refreshViewSoon(b.run);
  }

  start(): void {
    this.stop();
    this.follower = follow({
      url: url(`${runPath(this.root)}/events`),
      headers: () => authHeaders(),
      position: () => this.position(),
      onFrame: (frame) => {
        if (frame.event === 'journal') this.apply(JSON.parse(frame.data) as JournalBatch);
        else if (frame.event === 'end') this.refreshViewSoon(this.root, 0);
      },
      poll: async (signal) => {
        const answer = await getJson<{ batches: JournalBatch[]; finished: boolean }>(`${runPath(this.root)}/events?poll=true&after=${encodeURIComponent(this.position())}`, { signal });
        for (const b of answer.batches) this.apply(b);
        return answer.finished;
      },
      onState: (state) => (this.link.value = state),
      onFatal: (status) => (this.failure.value = status === 404 ? `There is no run ${this.root} on this server.` : 'The server no longer accepts your token: sign in again.'),
    });
  }

  stop(): void {
    this.follower?.stop();
    this.follower = undefined;
    for (const t of this.viewTimers.values()) clearTimeout(t);
    this.viewTimers.clear();
  }

  private restart(): void {
    this.start();
  }

  /** Reads GET /runs/:id again shortly: a burst of events costs one request. */
  refreshViewSoon(runId: string, delay = VIEW_DELAY_MS): void {
    if (this.viewTimers.has(runId)) return;
    this.viewTimers.set(
      runId,
      setTimeout(() => {
        this.viewTimers.delete(runId);
        void this.loadView(runId);
      }, delay),
    );
  }

  async loadView(runId: string): Promise<void> {
    try {
      this.model(runId).view.value = await getJson<RunView>(runPath(runId));
    } catch (error) {
      if (runId === this.root) this.failure.value = error instanceof ApiError ? error.message : String(error);
    }
  }

  /** The run's flow graph, fetched once per flow version. */
  async loadGraph(runId: string): Promise<void> {
    const m = this.model(runId);
    if (m.graph.value !== undefined) return;
    const hash = m.fold.flow?.hash;
    let pending = hash === undefined ? undefined : graphs.get(hash);
    if (pending === undefined) {
      pending = getJson<RunGraph>(`${runPath(runId)}/graph`);
      pending.catch(() => hash !== undefined && graphs.delete(hash));
      if (hash !== undefined) graphs.set(hash, pending);
    }
    try {
      m.graph.value = await pending;
    } catch (error) {
      this.failure.value = error instanceof ApiError ? error.message : String(error);
    }
  }

  /** The sub-flow runs a node of a run started, oldest first (retries and for_each items each have one). */
  childrenOf(runId: string, nodeId: string): RunModel[] {
    void this.version.value;
    return [...this.runs.values()].filter((m) => m.fold.parent?.runId === runId && nodeOfPath(m.fold.parent.path) === nodeId).sort((a, b) => (a.fold.startedAt ?? 0) - (b.fold.startedAt ?? 0));
  }
}
