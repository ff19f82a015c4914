import { randomBytes } from 'node:crypto';
import { readEventsAfter, type Engine, type RunEvent, type RunRecord } from '@gantry/engine';
import { descendants, eventsFrom } from './live-journals.js';
import type { ClusterView } from './cluster.js';
import { byTree, changedLines, newListWatch, type ListWatch } from './live-peers.js';
import { formatCursor, type Cursor } from './run-cursor.js';
import { FINAL, runRow, type RunRow } from './run-details.js';
import type { SseStream } from './sse.js';

/**
 * What the live streams follow (DESIGN §10): the engine's events say *that* a journal grew; the
 * store says *what* it holds, so a frame's events and its id are exactly the journal's, whoever
 * wrote them. On a store other peers write (DESIGN §9) a poll of where the watched journals are
 * says it too, for the runs this process does not carry on. Nothing listens to the engine, and
 * nothing polls, while no stream is open.
 */

/** A run's journal from `from` (its events are seq from+1 on). */
export interface JournalBatch {
  readonly run: string;
  readonly from: number;
  readonly events: readonly RunEvent[];
}

interface RunReader {
  readonly stream: SseStream;
  readonly cursor: Cursor;
}

interface Tree {
  readonly root: string;
  /** The root and every sub-flow run under it. */
  readonly members: Set<string>;
  readonly readers: Set<RunReader>;
  readonly dirty: Set<string>;
  timer: (() => void) | undefined;
  lastFlush: number;
  /** A flush is reading the store: the next waits for it, so that frames keep their order. */
  flushing: boolean;
}

export interface LiveFeedOptions {
  /** How often a comment keeps idle streams open; also when journals are compared with the store for writes this process did not make. @default 15000 */
  readonly heartbeatMs: number;
  /** Within this long after a stream's frame, the next waits, so that a burst of events costs one read of the journal. @default 50 */
  readonly throttleMs: number;
  /** A store other peers write: where their writes are read from, and how often while a stream is open. @default none */
  readonly peers?: Pick<ClusterView, 'heads' | 'pollMs'>;
}

/** Events after which a run's line in the list may read differently. */
const LIST_TYPES = new Set(['run.started', 'run.waiting', 'run.finished', 'approval.requested', 'approval.decided', 'node.started', 'timer.fired']);
const RING = 500;
/** A run's line is read again at most this often: a run of many nodes changes the list less than its graph. */
const LIST_THROTTLE_MS = 100;

export class LiveFeed {
  readonly boot = randomBytes(4).toString('hex');
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly trees = new Map<string, Tree>();
  private readonly memberOf = new Map<string, Tree[]>();
  private readonly listReaders = new Set<SseStream>();
  private readonly ring: { id: number; row: RunRow }[] = [];
  private seq = 0;
  /** The first list frame since the engine has been listened to without a break: older ids cannot be resumed. */
  private listeningSince = 0;
  private readonly listDirty = new Set<string>();
  private listTimer: (() => void) | undefined;
  private readonly rootOf = new Map<string, string>();
  private lastListFlush = 0;
  /** Each run's line as last sent: a line read again unchanged (seen both here and in a poll) is not sent twice. */
  private readonly lastRows = new Map<string, string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  /** Every listening period polls on its own loop: a loop of an earlier one stops. */
  private period = 0;
  /** The shared store's mark at the last poll: nothing to read while no process has written since. */
  private mark: string | undefined;
  private listWatch: ListWatch | undefined;
  /** List readers waiting for the list's first poll. */
  private joining = 0;

  constructor(
    private readonly engine: Engine,
    private readonly options: LiveFeedOptions,
  ) {}

  /** The tree's journals after `cursor`, advancing it. */
  async backlog(root: string, cursor: Cursor, known?: Iterable<string>): Promise<JournalBatch[]> {
    const members = known ?? [root, ...(await descendants(this.engine, root))];
    const batches: JournalBatch[] = [];
    for (const run of members) {
      const { from, events } = await eventsFrom(this.engine.options.store, run, cursor.get(run) ?? 0);
      if (events.length > 0) batches.push({ run, from, events });
      cursor.set(run, from + events.length);
    }
    return batches;
  }

  /**
   * The run's final status once it and every run under it have ended (nothing more will come),
   * else undefined. Its final status is written with its last events. A stream reads it after the
   * journals, then the journals once more (`endStream`): read first, it could be overtaken by the
   * run's end before they are read, and nothing would mark the tree again. A poll reads it before
   * them (the client asks again when it says not finished).
   */
  async finalStatus(root: string): Promise<string | undefined> {
    const status = (await this.engine.options.store.getRun(root))?.status;
    return status !== undefined && FINAL.has(status) ? status : undefined;
  }

  /** Follows a run and its sub-flow runs from `cursor`: the backlog now, then each change. */
  async followRun(root: string, stream: SseStream, cursor: Cursor): Promise<void> {
    // Listened to before the backlog is read: what is written meanwhile marks the tree dirty.
    this.listen();
    let tree = this.trees.get(root);
    if (tree === undefined) {
      const members = [root, ...(await descendants(this.engine, root))];
      tree = this.trees.get(root) ?? { root, members: new Set(members), readers: new Set(), dirty: new Set(), timer: undefined, lastFlush: 0, flushing: false };
      this.trees.set(root, tree);
      for (const m of tree.members) this.addMember(tree, m);
    }
    const reader = { stream, cursor };
    for (const batch of await this.backlog(root, cursor, tree.members)) stream.send({ id: formatCursor(root, cursor), event: 'journal', data: batch });
    const ended = await this.finalStatus(root);
    if (ended !== undefined) {
      await this.endStream(stream, root, cursor, tree.members, ended);
      if (tree.readers.size === 0) this.dropTree(tree);
      this.quietDown();
      return;
    }
    // The tree may have been let go while the store was read (its last reader left).
    if (this.trees.get(root) !== tree) {
      this.trees.set(root, tree);
      for (const m of tree.members) this.addMember(tree, m);
    }
    tree.readers.add(reader);
    // What was written between the backlog's read and now goes out with the next flush.
    for (const m of tree.members) tree.dirty.add(m);
    this.schedule(tree);
    const t = tree;
    stream.onClose(() => {
      t.readers.delete(reader);
      if (t.readers.size === 0) this.dropTree(t);
      this.quietDown();
    });
  }

  /**
   * Follows the runs list: each change of a run's line. From `lastId` when every change since is
   * still here (`resumed: true` in the hello frame); otherwise the reader must read the list again.
   */
  async followRuns(stream: SseStream, lastId: string | undefined): Promise<void> {
    this.listen();
    // While no list reader was here, the lines' changes were not kept: older ids cannot be resumed.
    if (this.listReaders.size === 0 && this.listWatch === undefined) this.listeningSince = this.seq + 1;
    // Before the hello: what other peers wrote until then, the reader reads with the list.
    if (this.options.peers !== undefined) {
      this.joining++;
      try {
        await this.watchList();
      } finally {
        this.joining--;
      }
    }
    const [boot, n] = (lastId ?? '').split('-');
    const at = Number(n);
    const oldest = this.ring[0]?.id ?? this.seq + 1;
    const resumed = boot === this.boot && Number.isInteger(at) && at >= this.listeningSince && at >= oldest - 1;
    stream.send({ event: 'hello', data: { heartbeat_ms: this.options.heartbeatMs, resumed } });
    if (resumed) for (const entry of this.ring) if (entry.id > at) stream.send({ id: `${this.boot}-${entry.id}`, event: 'run', data: entry.row });
    this.listReaders.add(stream);
    stream.onClose(() => {
      this.listReaders.delete(stream);
      if (this.listReaders.size === 0 && this.joining === 0) this.listWatch = undefined;
      this.quietDown();
    });
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const tree of [...this.trees.values()]) for (const r of [...tree.readers]) r.stream.end();
    for (const s of [...this.listReaders]) s.end();
    this.quietDown();
  }

  private addMember(tree: Tree, runId: string): void {
    tree.members.add(runId);
    const trees = this.memberOf.get(runId);
    if (trees === undefined) this.memberOf.set(runId, [tree]);
    else if (!trees.includes(tree)) trees.push(tree);
  }

  private dropTree(tree: Tree): void {
    tree.timer?.();
    this.trees.delete(tree.root);
    for (const m of tree.members) {
      const rest = (this.memberOf.get(m) ?? []).filter((t) => t !== tree);
      if (rest.length === 0) this.memberOf.delete(m);
      else this.memberOf.set(m, rest);
    }
  }

  private listen(): void {
    if (this.unsubscribe !== undefined) return;
    this.listeningSince = this.seq + 1;
    this.unsubscribe = this.engine.on('event', (event) => this.onEvent(event));
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
    if (this.options.peers !== undefined) this.pollLoop(++this.period);
  }

  /** Polls the shared store every `pollMs` until this listening period ends. */
  private pollLoop(period: number): void {
    this.pollTimer = setTimeout(() => {
      void this.poll().then(() => {
        if (period === this.period && this.unsubscribe !== undefined) this.pollLoop(period);
      });
    }, this.options.peers!.pollMs);
    this.pollTimer.unref();
  }

  /** One poll, after the one under way. */
  private poll(): Promise<void> {
    this.polling = this.polling.then(() => this.pollNow()).catch(() => {
      // The store could not be read: the next poll tries again.
    });
    return this.polling;
  }

  /** Starts watching the runs list in the shared store (once), and resolves when its first poll has taken note of it. */
  private watchList(): Promise<void> {
    if (this.listWatch !== undefined) return this.listWatch.ready;
    // A poll that would find nothing new since the last: this one must read, to take note.
    this.mark = undefined;
    const watch = newListWatch();
    this.listWatch = watch;
    watch.ready = this.poll();
    return watch.ready;
  }

  /** Reads where the watched journals are; marks what grew for the next frames. */
  private async pollNow(): Promise<void> {
    const list = this.listWatch;
    if (this.trees.size === 0 && list === undefined) return;
    const roots = [...this.trees.keys()];
    if (list !== undefined) for (const [root, v] of list.versions) if (!v.final) roots.push(root);
    // The list's first poll reads whatever the mark: it takes note of what is there.
    const mark = list?.baselined === false ? undefined : this.mark;
    const answer = await this.options.peers!.heads({ roots, ...(list === undefined ? {} : { startedAfter: list.since }), ...(mark === undefined ? {} : { mark }) });
    this.mark = answer.mark;
    if (answer.heads === undefined) return;
    const byRoot = byTree(answer.heads);
    for (const tree of this.trees.values()) {
      for (const head of byRoot.get(tree.root) ?? []) {
        if (!tree.members.has(head.runId)) this.addMember(tree, head.runId);
        // The cursors are the journal's own counts: what a reader has, local or not, is never sent again.
        for (const reader of tree.readers) {
          if ((reader.cursor.get(head.runId) ?? 0) < head.seq) {
            tree.dirty.add(head.runId);
            break;
          }
        }
      }
      if (tree.dirty.size > 0) this.schedule(tree);
    }
    if (list !== undefined && list === this.listWatch) {
      for (const root of changedLines(list, byRoot, answer.latestStart)) this.listDirty.add(root);
      if (this.listDirty.size > 0) this.listTimer ??= this.later(this.lastListFlush + LIST_THROTTLE_MS - Date.now(), () => void this.flushList());
    }
  }

  /** Stops listening to the engine once no stream is open: a server nobody watches pays nothing. */
  private quietDown(): void {
    if (this.trees.size > 0 || this.listReaders.size > 0 || this.joining > 0 || this.unsubscribe === undefined) return;
    this.unsubscribe();
    this.unsubscribe = undefined;
    clearInterval(this.heartbeat);
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.mark = undefined;
    this.listWatch = undefined;
    this.lastRows.clear();
    this.listTimer?.();
    this.listTimer = undefined;
    this.listDirty.clear();
  }

  private onEvent(event: RunEvent): void {
    if (event.type === 'run.started' && event.parent !== undefined) {
      for (const tree of this.memberOf.get(event.parent.runId) ?? []) this.addMember(tree, event.runId);
    }
    for (const tree of this.memberOf.get(event.runId) ?? []) {
      tree.dirty.add(event.runId);
      this.schedule(tree);
    }
    if (this.listReaders.size > 0 && LIST_TYPES.has(event.type)) {
      this.rootIdOf(event).then(
        (root) => {
          if (root === undefined || this.listReaders.size === 0) return;
          this.listDirty.add(root);
          this.listTimer ??= this.later(this.lastListFlush + LIST_THROTTLE_MS - Date.now(), () => void this.flushList());
        },
        () => {},
      );
    }
  }

  /** setImmediate, or a timer when the last frame was less than `ms` ago; returns a cancel. */
  private later(wait: number, fn: () => void): () => void {
    if (wait <= 0) {
      const handle = setImmediate(fn);
      return () => clearImmediate(handle);
    }
    const handle = setTimeout(fn, wait);
    return () => clearTimeout(handle);
  }

  private schedule(tree: Tree): void {
    if (tree.timer !== undefined) return;
    tree.timer = this.later(tree.lastFlush + this.options.throttleMs - Date.now(), () => void this.flush(tree));
  }

  private async flush(tree: Tree): Promise<void> {
    tree.timer = undefined;
    if (tree.flushing) return this.schedule(tree);
    tree.flushing = true;
    try {
      await this.flushNow(tree);
    } catch {
      // The store could not be read: the heartbeat tries again.
    } finally {
      tree.flushing = false;
    }
  }

  private async flushNow(tree: Tree): Promise<void> {
    tree.lastFlush = Date.now();
    const dirty = [...tree.dirty];
    tree.dirty.clear();
    await this.committed();
    for (const run of dirty) {
      // What came after the reader that is furthest behind: the rest of the journal was sent.
      let low = Infinity;
      for (const reader of tree.readers) low = Math.min(low, reader.cursor.get(run) ?? 0);
      if (low === Infinity) continue;
      const events = await readEventsAfter(this.engine.options.store, run, low);
      const end = low + events.length;
      for (const reader of tree.readers) {
        const from = reader.cursor.get(run) ?? 0;
        // A reader that came while the store was read (behind `low`) has marked the tree for the next flush.
        if (end <= from || from < low) continue;
        reader.cursor.set(run, end);
        reader.stream.send({ id: formatCursor(tree.root, reader.cursor), event: 'journal', data: { run, from, events: events.slice(from - low) } });
      }
    }
    const ended = dirty.includes(tree.root) ? await this.finalStatus(tree.root) : undefined;
    if (ended !== undefined) for (const reader of [...tree.readers]) await this.endStream(reader.stream, tree.root, reader.cursor, tree.members, ended);
  }

  /** Ends a reader's stream once its run has ended: what was committed with the run's final status (its last events, read here after the status) goes out first, then `end`. */
  private async endStream(stream: SseStream, root: string, cursor: Cursor, members: Iterable<string>, status: string): Promise<void> {
    // The cursor is this server's own by now: read from it (`backlog` checks a client's first).
    for (const run of members) {
      const from = cursor.get(run) ?? 0;
      const events = await readEventsAfter(this.engine.options.store, run, from);
      if (events.length === 0) continue;
      cursor.set(run, from + events.length);
      stream.send({ id: formatCursor(root, cursor), event: 'journal', data: { run, from, events } });
    }
    stream.send({ event: 'end', data: { run_id: root, status } });
    stream.end();
  }

  /** Every heartbeat: a comment on each stream, and journals compared with the store (writes another process made; the poll reads those of peers). */
  private async beat(): Promise<void> {
    for (const s of this.listReaders) s.comment('heartbeat');
    for (const tree of [...this.trees.values()]) {
      for (const r of tree.readers) r.stream.comment('heartbeat');
      if (this.options.peers !== undefined) continue;
      for (const m of [...tree.members]) {
        const record = await Promise.resolve(this.engine.options.store.getRun(m)).catch(() => undefined);
        if (!FINAL.has(record?.status ?? 'running')) tree.dirty.add(m);
      }
      if (tree.dirty.size > 0) this.schedule(tree);
    }
  }

  /**
   * Resolves once what the engine has told so far is in the store: it tells an event when it
   * records it, and commits at the end of the event loop's turn (group commit), so a read made
   * on the word alone could miss it. A failed commit is the engine's to report; the read goes on.
   */
  private committed(): Promise<void> {
    return this.engine.flush().catch(() => {});
  }

  private async rootIdOf(event: RunEvent): Promise<string | undefined> {
    const known = this.rootOf.get(event.runId);
    if (known !== undefined) return known;
    await this.committed();
    let record: RunRecord | undefined = await this.engine.options.store.getRun(event.runId);
    for (let depth = 0; record?.parentRunId !== undefined && depth < 16; depth++) record = await this.engine.options.store.getRun(record.parentRunId);
    if (record === undefined) return undefined;
    if (this.rootOf.size >= 5000) this.rootOf.clear();
    this.rootOf.set(event.runId, record.runId);
    return record.runId;
  }

  private async flushList(): Promise<void> {
    this.listTimer = undefined;
    this.lastListFlush = Date.now();
    const dirty = [...this.listDirty];
    this.listDirty.clear();
    await this.committed();
    for (const root of dirty) {
      const record = await Promise.resolve(this.engine.options.store.getRun(root)).catch(() => undefined);
      if (record === undefined) continue;
      const row = await runRow(this.engine, record);
      const text = JSON.stringify(row);
      if (this.lastRows.get(root) === text) continue;
      if (this.lastRows.size >= 5000) this.lastRows.clear();
      this.lastRows.set(root, text);
      const entry = { id: ++this.seq, row };
      this.ring.push(entry);
      if (this.ring.length > RING) this.ring.shift();
      for (const s of this.listReaders) s.send({ id: `${this.boot}-${entry.id}`, event: 'run', data: entry.row });
    }
  }
}

