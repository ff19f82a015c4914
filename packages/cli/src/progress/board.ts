import { failurePath, rootCause, type CompiledFlow, type ErrorInfo, type JsonValue, type NodeState, type RunEvent, type RunState } from '@gantry/engine';
import { readChecks, type Check } from '../render/checks.js';

export type RowState = 'pending' | 'running' | 'retrying' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'compensating' | 'compensated';

/** What a node (or one of its for_each items) shows: its state, times, and why. */
interface Progress {
  state: RowState;
  attempt: number;
  /** A failed attempt was retried (node.retrying): only then is "attempt n" worth saying. */
  retried: boolean;
  startedAt?: number;
  finishedAt?: number;
  /** Why it failed, was skipped, or what it waits for. */
  note?: string;
  /** A gate's readings against their limits. */
  checks?: readonly Check[];
}

/** A for_each item under its node: the five traffic steps of a blue-green shift. */
export interface ItemRow extends Omit<Progress, 'state'> {
  readonly index: number;
  /** Changed by `setItemState` only, which keeps its node's tally. */
  readonly state: RowState;
  /** The sub-flow run this item started (its latest attempt's). */
  child?: Board;
}

/**
 * A for_each node's items. A payload can give it 100,000 (DESIGN §11): what a frame of the live
 * view shows of them — how many are in each state, which run, which failed — is kept as they
 * change, so that a frame costs what it shows, not a pass over every item.
 */
export interface Items {
  values?: readonly JsonValue[];
  readonly started: Map<number, ItemRow>;
  /** How many started items are in each state. */
  readonly tally: Map<RowState, number>;
  /** The items in each state of LISTED_FIRST, in the order they came to it. */
  readonly listed: ReadonlyMap<RowState, Set<ItemRow>>;
  /** The highest index started, plus one. */
  startedUpTo: number;
}

/** States whose items the live view lists, in this order, when a for_each has more items than it has room for. */
export const LISTED_FIRST: readonly RowState[] = ['failed', 'retrying', 'waiting', 'running'];

export function newItems(): Items {
  return { started: new Map(), tally: new Map(), listed: new Map(LISTED_FIRST.map((state) => [state, new Set<ItemRow>()])), startedUpTo: 0 };
}

/** How many items a for_each node has: its values once known, else as many as have started. */
export function itemCount(items: Items): number {
  return Math.max(items.values?.length ?? 0, items.startedUpTo);
}

/** Items not started, or started and still pending. */
export function notStarted(items: Items): number {
  return itemCount(items) - items.started.size + (items.tally.get('pending') ?? 0);
}

/** Moves an item to a state, and its node's tally with it. */
export function setItemState(items: Items, item: ItemRow, state: RowState): void {
  const before = item.state;
  if (before === state) return;
  items.tally.set(before, (items.tally.get(before) ?? 0) - 1);
  items.tally.set(state, (items.tally.get(state) ?? 0) + 1);
  (item as { state: RowState }).state = state;
  items.listed.get(before)?.delete(item);
  items.listed.get(state)?.add(item);
}

export interface Row extends Progress {
  readonly id: string;
  readonly type: string;
  /** A for_each node's items: their values once known, and those that have started. */
  items?: Items;
  /** Sub-flow runs the node started (a flow agent's task, a subflow node), oldest first. */
  readonly children: Board[];
}

/** A notification or escalation the run sent; `beforeRetry` when an attempt before the run's (latest) retry sent it. */
export interface Notification {
  readonly severity: 'normal' | 'high';
  readonly message: string;
  readonly nodeId?: string;
  beforeRetry?: boolean;
}

/** Something that happened to a row worth a line of its own when there is no live view. */
export interface Line {
  readonly row: Row;
  readonly item?: ItemRow;
}

const LINE_WORTHY = new Set(['node.succeeded', 'node.failed', 'node.skipped', 'node.retrying', 'approval.requested', 'approval.decided', 'compensation.succeeded', 'compensation.failed']);

/** Node types that a restart resumes where they were (an approval, a timer): a later attempt number says nothing was retried. */
export const RESUMED_IN_PLACE: ReadonlySet<string> = new Set(['human_approval', 'wait']);

/** What the terminal shows of one run (the top run or a sub-flow's): one row per node, in flow order. */
export class Board {
  readonly rows: Row[];
  private readonly byId = new Map<string, Row>();
  runStatus = 'running';
  startedAt: number | undefined;
  finishedAt: number | undefined;
  error: (ErrorInfo & { readonly nodeId?: string }) | undefined;
  readonly notifications: Notification[] = [];

  /** `path` is the node path in the parent run that started it (`gradual_traffic_switch[0]`). */
  constructor(
    readonly runId: string,
    readonly flow: CompiledFlow,
    readonly path?: string,
  ) {
    this.rows = [...flow.nodes.values()].map((n) => ({ id: n.id, type: n.type, state: 'pending' as RowState, attempt: 0, retried: false, children: [] }));
    for (const row of this.rows) this.byId.set(row.id, row);
  }

  row(nodeId: string): Row | undefined {
    return this.byId.get(nodeId);
  }

  /** The item of a for_each row, made when first heard of. */
  item(row: Row, index: number): ItemRow {
    row.items ??= newItems();
    let item = row.items.started.get(index);
    if (item === undefined) {
      item = { index, state: 'pending', attempt: 0, retried: false };
      row.items.started.set(index, item);
      row.items.tally.set('pending', (row.items.tally.get('pending') ?? 0) + 1);
      row.items.startedUpTo = Math.max(row.items.startedUpTo, index + 1);
    }
    return item;
  }

  /**
   * Applies one event of this run. Returns undefined when nothing changed, else the lines it is
   * worth when there is no live view (none for a start or a timer).
   */
  apply(event: RunEvent): Line[] | undefined {
    const row = 'nodeId' in event && event.nodeId !== undefined ? this.byId.get(event.nodeId) : undefined;
    const item = row !== undefined && 'item' in event && event.item !== undefined ? this.item(row, event.item) : undefined;
    const target: Progress | undefined = item ?? row;
    const changed = this.change(event, row, item, target);
    if (!changed) return undefined;
    if (row === undefined || !LINE_WORTHY.has(event.type)) return [];
    if (event.type === 'node.failed' && row.items !== undefined) {
      const failed = [...row.items.listed.get('failed')!].filter((i) => i.finishedAt === event.at);
      return [...failed.map((i) => ({ row, item: i })), { row }];
    }
    return [item ? { row, item } : { row }];
  }

  private change(event: RunEvent, row: Row | undefined, item: ItemRow | undefined, target: Progress | undefined): boolean {
    switch (event.type) {
      case 'run.started':
        this.startedAt = event.at;
        return true;
      case 'node.started':
        if (!target || !row) return false;
        // A restart resumes an approval or a timer where it was: no new attempt to speak of.
        if (target.state === 'waiting' && RESUMED_IN_PLACE.has(row.type) && !target.retried) return true;
        this.set(row, item, 'running');
        target.attempt = event.attempt;
        target.startedAt ??= event.at;
        target.finishedAt = undefined;
        target.note = undefined;
        return true;
      case 'node.retrying':
        if (!target || !row) return false;
        this.set(row, item, 'retrying');
        target.retried = true;
        target.note = `attempt ${event.attempt} failed (${event.error.message}); retry at ${clockTime(event.retryAt)}`;
        return true;
      case 'node.succeeded':
        if (!target || !row) return false;
        this.set(row, item, 'succeeded');
        target.finishedAt = event.at;
        target.checks = readChecks(event.output);
        target.note = item ? undefined : event.labels?.length ? `→ ${event.labels.join(', ')}${event.blocked ? ' (blocks the deployment)' : ''}` : undefined;
        return true;
      case 'node.failed':
        if (!row || item) return false;
        this.failed(row, event.error, event.at, event.taken?.length ? ' (routed by its error edge)' : '');
        return true;
      case 'node.skipped':
        if (!row) return false;
        row.note = event.reason === 'join' ? 'no incoming edge taken' : event.reason === 'when' ? '`when` was false' : row.state === 'pending' ? 'the run stopped first' : 'aborted: the run stopped';
        row.state = 'skipped';
        for (const i of row.items?.started.values() ?? []) if (!isFinished(i.state)) setItemState(row.items!, i, 'skipped');
        return true;
      case 'approval.requested':
        // Asked again as a restart resumes the approval in place (its deadline kept): not news,
        // and the decision given meanwhile stays its note.
        if (!row || row.state === 'waiting') return false;
        row.state = 'waiting';
        row.note = `approval by ${event.approvers.join(', ')}${event.required < event.approvers.length ? ` (${event.required} of them)` : ''} until ${clockTime(event.deadline)}`;
        return true;
      case 'approval.decided':
        if (!row) return false;
        row.note = `${event.principal} ${event.decision === 'approve' ? 'approved' : 'rejected'}${event.comment ? `: ${event.comment}` : ''}`;
        return true;
      case 'timer.set':
        if (!target || !row || event.purpose !== 'wait') return false;
        this.set(row, item, 'waiting');
        target.note = `waiting until ${clockTime(event.fireAt)}`;
        return true;
      case 'timer.fired':
        if (!target || !row || target.state !== 'waiting') return false;
        this.set(row, item, 'running');
        target.note = undefined;
        return true;
      case 'compensation.started':
        if (!row) return false;
        row.state = 'compensating';
        return true;
      case 'compensation.succeeded':
      case 'compensation.failed':
        if (!row) return false;
        row.state = event.type === 'compensation.succeeded' ? 'compensated' : 'failed';
        row.note = event.type === 'compensation.succeeded' ? 'undone by its compensation' : `compensation failed: ${event.error?.message ?? ''}`;
        return true;
      case 'notification.sent':
        this.notifications.push({ severity: event.severity, message: event.message, ...(event.nodeId ? { nodeId: event.nodeId } : {}) });
        return true;
      case 'run.waiting':
        this.runStatus = 'waiting';
        return true;
      case 'run.retried':
        for (const id of event.nodes) {
          const again = this.byId.get(id);
          if (again === undefined) continue;
          again.state = 'pending';
          again.startedAt = undefined;
          again.finishedAt = undefined;
          again.items = undefined;
          again.checks = undefined;
          again.note = `runs again: the run was retried${event.from === undefined ? '' : ` from ${event.from}`}`;
        }
        // What was sent about the failure retried is no news of the attempts to come.
        for (const n of this.notifications) n.beforeRetry = true;
        this.runStatus = 'running';
        this.finishedAt = undefined;
        this.error = undefined;
        return true;
      case 'run.finished':
        this.runStatus = event.status;
        this.finishedAt = event.at;
        this.error = event.error;
        return true;
      case 'node.log':
        // What a node logs is shown by `gantry logs`, not on its row.
        return false;
    }
  }

  /** A node's or an item's state: an item's through its node's tally. */
  private set(row: Row, item: ItemRow | undefined, state: RowState): void {
    if (item === undefined) row.state = state;
    else setItemState(row.items!, item, state);
  }

  /** A node failed: its note says what failed (at the bottom, for a failure that crossed sub-flows). */
  private failed(row: Row, error: ErrorInfo, at: number, routed: string): void {
    row.state = 'failed';
    row.finishedAt = at;
    row.checks = readChecks(error.details);
    // A failed gate's readings say what failed; any other failure says it in words.
    row.note = row.checks !== undefined && routed === '' ? undefined : `${failureNote(error, this.runId)}${routed}`;
    const index = failedItem(error);
    if (row.items !== undefined) {
      for (const i of row.items.started.values()) {
        if (isFinished(i.state)) continue;
        i.finishedAt = at;
        if (i.index === index) {
          setItemState(row.items, i, 'failed');
          const cause = rootCause(error, this.runId);
          i.checks = readChecks(cause.error.details);
          i.note = i.checks ? undefined : cause.error.message;
        } else {
          setItemState(row.items, i, 'skipped');
          i.note = 'aborted: a sibling item failed';
        }
      }
    }
  }

  /** Takes what a run's state already says: a sub-flow run first heard of after it had begun (resumed). */
  seed(state: Readonly<RunState>): void {
    this.startedAt = state.startedAt;
    this.runStatus = state.status;
    this.finishedAt = state.finishedAt;
    this.error = state.error;
    for (const [id, node] of state.nodes) {
      const row = this.byId.get(id);
      if (row === undefined) continue;
      Object.assign(row, seededProgress(node));
      row.checks = readChecks(node.status === 'failed' ? node.error?.details : node.output);
      if (node.status === 'failed' && node.error && row.checks === undefined) row.note = failureNote(node.error, this.runId);
    }
  }
}

function seededProgress(node: NodeState): Partial<Row> {
  return { state: node.status, attempt: node.attempt, ...(node.startedAt === undefined ? {} : { startedAt: node.startedAt }), ...(node.finishedAt === undefined ? {} : { finishedAt: node.finishedAt }) };
}

/**
 * A failed node's note: the error itself when it happened there; where it happened below when it
 * crossed sub-flows (its message is said once, by the node that failed and by the summary).
 */
export function failureNote(error: ErrorInfo, runId: string): string {
  const cause = rootCause(error, runId);
  if (cause.path.length <= 1) return `${error.code}: ${error.message}`;
  const [first, ...below] = cause.path;
  return `in ${first?.item === undefined ? '' : `item ${first.item} › `}${failurePath(below)}`;
}

/** The for_each item a node's failure came from: the engine journals it as the node's, `item 4: …`. */
export function failedItem(error: ErrorInfo): number | undefined {
  const match = /^item (\d+): /.exec(error.message);
  return match === null ? undefined : Number(match[1]);
}

export function isFinished(state: RowState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'skipped' || state === 'compensated';
}

export function clockTime(at: number): string {
  return new Date(at).toTimeString().slice(0, 8);
}

/** 1.2s, 340ms, 2m05s. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}
