import type { ErrorInfo, JsonObject, JsonValue, LogLine, RunEvent, RunStatus } from './wire';

/**
 * A run as the page shows it, folded from its journal as the events arrive: the same events, in
 * the same order, give the same picture in every tab. The engine's rules (joins, skips, who may
 * decide) are not re-derived here; the server explains them (GET /runs/:id, `why`).
 */

export interface Attempt {
  readonly attempt: number;
  readonly item?: number;
  readonly startedAt: number;
  endedAt?: number;
  outcome: 'running' | 'succeeded' | 'failed' | 'retried' | 'aborted';
  error?: ErrorInfo;
  /** When a human or a timer held it, from when to when (the timeline compresses these). */
  waits: { kind: 'approval' | 'timer'; from: number; to?: number }[];
}

export interface ItemFold {
  attempt: number;
  status: 'running' | 'retrying' | 'succeeded' | 'failed';
  output?: JsonValue;
  error?: ErrorInfo;
}

export interface DecisionFold {
  readonly principal: string;
  readonly decision: 'approve' | 'reject';
  readonly at: number;
  readonly channel: string;
  readonly comment?: string;
}

export interface NodeFold {
  readonly id: string;
  status: 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped';
  attempt: number;
  attempts: Attempt[];
  startedAt?: number;
  finishedAt?: number;
  input?: JsonObject;
  output?: JsonValue;
  error?: ErrorInfo;
  /** Between a failed attempt and the next: when the next starts. */
  retryAt?: number;
  waitKind?: 'approval' | 'timer';
  waitUntil?: number;
  approval?: { approvers: readonly string[]; required: number; deadline: number; message?: string };
  decisions: DecisionFold[];
  skipReason?: 'join' | 'when' | 'aborted';
  compensation?: 'running' | 'succeeded' | 'failed';
  taken: readonly number[];
  labels?: readonly string[];
  items?: Map<number, ItemFold>;
  /** What its attempts logged (node.log), in order, and how many lines their bounds dropped. */
  logs?: NodeLogLine[];
  logsDropped?: number;
}

export interface NodeLogLine extends LogLine {
  readonly attempt: number;
  readonly item?: number;
  readonly compensation?: boolean;
}

export interface RunFold {
  readonly runId: string;
  status: RunStatus;
  /** Journal events applied: the stream's position in this run. */
  seq: number;
  startedAt?: number;
  finishedAt?: number;
  flow?: { name: string; hash: string; version?: string; source?: string };
  params?: JsonObject;
  trigger?: JsonValue;
  initiator?: string;
  parent?: { runId: string; path: string };
  nodes: Map<string, NodeFold>;
  takenEdges: Set<number>;
  output?: JsonValue;
  error?: ErrorInfo & { nodeId?: string };
  /** Every event applied, for the event history. */
  events: RunEvent[];
}

export function emptyFold(runId: string): RunFold {
  return { runId, status: 'running', seq: 0, nodes: new Map(), takenEdges: new Set(), events: [] };
}

function nodeOf(fold: RunFold, id: string): NodeFold {
  let n = fold.nodes.get(id);
  if (n === undefined) {
    n = { id, status: 'pending', attempt: 0, attempts: [], decisions: [], taken: [] };
    fold.nodes.set(id, n);
  }
  return n;
}

function lastAttempt(n: NodeFold, item?: number): Attempt | undefined {
  for (let i = n.attempts.length - 1; i >= 0; i--) if (n.attempts[i]!.item === item) return n.attempts[i];
  return undefined;
}

function endAttempt(n: NodeFold, item: number | undefined, at: number, outcome: Attempt['outcome'], error?: ErrorInfo): void {
  const a = lastAttempt(n, item);
  if (a === undefined || a.endedAt !== undefined) return;
  a.endedAt = at;
  a.outcome = outcome;
  if (error) a.error = error;
  const wait = a.waits.at(-1);
  if (wait && wait.to === undefined) wait.to = at;
}

function item(n: NodeFold, index: number): ItemFold {
  n.items ??= new Map();
  let it = n.items.get(index);
  if (it === undefined) {
    it = { attempt: 0, status: 'running' };
    n.items.set(index, it);
  }
  return it;
}

/**
 * Applies a journal batch whose first event is seq `from + 1`. Events already applied are left
 * out (a reconnect may repeat them); a batch that starts past the fold's position is a gap, and
 * is refused (the caller reads the journal again from where it is). Returns the nodes changed.
 */
export function applyBatch(fold: RunFold, from: number, events: readonly RunEvent[]): Set<string> | 'gap' {
  if (from > fold.seq) return 'gap';
  const changed = new Set<string>();
  for (let i = fold.seq - from; i < events.length; i++) {
    const e = events[i]!;
    applyEvent(fold, e, changed);
    fold.events.push(e);
    fold.seq++;
  }
  return changed;
}

function applyEvent(fold: RunFold, e: RunEvent, changed: Set<string>): void {
  if (e.nodeId !== undefined) changed.add(e.nodeId);
  switch (e.type) {
    case 'run.started':
      fold.status = 'running';
      fold.startedAt = e.at;
      if (e.flow) fold.flow = e.flow;
      if (e.params) fold.params = e.params;
      fold.trigger = e.trigger;
      if (e.initiator) fold.initiator = e.initiator;
      if (e.parent) fold.parent = e.parent;
      break;
    case 'node.started': {
      const n = nodeOf(fold, e.nodeId!);
      if (e.item !== undefined) {
        const it = item(n, e.item);
        it.attempt = e.attempt ?? 1;
        it.status = 'running';
        n.attempts.push({ attempt: it.attempt, item: e.item, startedAt: e.at, outcome: 'running', waits: [] });
        break;
      }
      n.status = 'running';
      n.attempt = e.attempt ?? n.attempt + 1;
      n.startedAt ??= e.at;
      if (e.input) n.input = e.input;
      n.retryAt = undefined;
      n.waitKind = undefined;
      n.waitUntil = undefined;
      n.attempts.push({ attempt: n.attempt, startedAt: e.at, outcome: 'running', waits: [] });
      if (fold.status === 'waiting') fold.status = 'running';
      break;
    }
    case 'node.retrying': {
      const n = nodeOf(fold, e.nodeId!);
      if (e.item !== undefined) {
        const it = item(n, e.item);
        it.status = 'retrying';
        if (e.error) it.error = e.error;
      } else {
        n.retryAt = e.retryAt;
        if (e.error) n.error = e.error;
      }
      endAttempt(n, e.item, e.at, 'retried', e.error);
      break;
    }
    case 'node.succeeded': {
      const n = nodeOf(fold, e.nodeId!);
      if (e.item !== undefined) {
        const it = item(n, e.item);
        it.status = 'succeeded';
        it.output = e.output;
        endAttempt(n, e.item, e.at, 'succeeded');
        break;
      }
      n.status = 'succeeded';
      n.output = e.output;
      n.taken = e.taken ?? [];
      for (const t of n.taken) fold.takenEdges.add(t);
      if (e.labels) n.labels = e.labels;
      n.finishedAt = e.at;
      n.retryAt = undefined;
      n.waitKind = undefined;
      n.error = undefined;
      endAttempt(n, undefined, e.at, 'succeeded');
      break;
    }
    case 'node.failed': {
      const n = nodeOf(fold, e.nodeId!);
      if (e.item !== undefined) {
        const it = item(n, e.item);
        it.status = 'failed';
        if (e.error) it.error = e.error;
        endAttempt(n, e.item, e.at, 'failed', e.error);
        break;
      }
      n.status = 'failed';
      if (e.error) n.error = e.error;
      n.taken = e.taken ?? [];
      for (const t of n.taken) fold.takenEdges.add(t);
      n.finishedAt = e.at;
      n.retryAt = undefined;
      n.waitKind = undefined;
      endAttempt(n, undefined, e.at, 'failed', e.error);
      // Items still running were aborted with it.
      for (const a of n.attempts) if (a.endedAt === undefined) endAttempt(n, a.item, e.at, 'aborted');
      break;
    }
    case 'node.skipped': {
      const n = nodeOf(fold, e.nodeId!);
      n.status = 'skipped';
      if (e.reason) n.skipReason = e.reason;
      n.finishedAt = e.at;
      n.waitKind = undefined;
      // A running node is skipped as "aborted" when its run stops.
      for (const a of n.attempts) if (a.endedAt === undefined) endAttempt(n, a.item, e.at, 'aborted');
      break;
    }
    case 'approval.requested': {
      const n = nodeOf(fold, e.nodeId!);
      n.status = 'waiting';
      n.waitKind = 'approval';
      n.waitUntil = e.deadline;
      n.approval = { approvers: e.approvers ?? [], required: e.required ?? 1, deadline: e.deadline ?? 0, ...(e.message ? { message: e.message } : {}) };
      lastAttempt(n)?.waits.push({ kind: 'approval', from: e.at });
      break;
    }
    case 'approval.decided': {
      const n = nodeOf(fold, e.nodeId!);
      n.decisions.push({ principal: e.principal ?? '', decision: e.decision ?? 'approve', at: e.at, channel: e.channel ?? '', ...(e.comment ? { comment: e.comment } : {}) });
      break;
    }
    case 'timer.set': {
      if (e.purpose !== 'wait') break;
      const n = nodeOf(fold, e.nodeId!);
      n.status = 'waiting';
      n.waitKind = 'timer';
      n.waitUntil = e.fireAt;
      lastAttempt(n, e.item)?.waits.push({ kind: 'timer', from: e.at });
      break;
    }
    case 'timer.fired': {
      const n = fold.nodes.get(e.nodeId!);
      if (n?.waitKind === 'timer' && n.status === 'waiting') {
        n.status = 'running';
        n.waitKind = undefined;
        n.waitUntil = undefined;
        const wait = lastAttempt(n, e.item)?.waits.at(-1);
        if (wait && wait.to === undefined) wait.to = e.at;
      }
      if (fold.status === 'waiting') fold.status = 'running';
      break;
    }
    case 'run.waiting':
      fold.status = 'waiting';
      break;
    case 'compensation.started':
      nodeOf(fold, e.nodeId!).compensation = 'running';
      break;
    case 'compensation.succeeded':
      nodeOf(fold, e.nodeId!).compensation = 'succeeded';
      break;
    case 'compensation.failed':
      nodeOf(fold, e.nodeId!).compensation = 'failed';
      break;
    case 'node.log': {
      const n = nodeOf(fold, e.nodeId!);
      const where = { attempt: e.attempt ?? 1, ...(e.item === undefined ? {} : { item: e.item }), ...(e.compensation ? { compensation: true } : {}) };
      for (const line of e.lines ?? []) (n.logs ??= []).push({ ...line, ...where });
      if (e.dropped) n.logsDropped = (n.logsDropped ?? 0) + e.dropped;
      break;
    }
    case 'run.retried':
      // The run goes on in its own journal: the nodes listed run again, keeping their attempts.
      fold.status = 'running';
      fold.finishedAt = undefined;
      fold.output = undefined;
      fold.error = undefined;
      for (const id of e.nodes ?? []) {
        const n = nodeOf(fold, id);
        changed.add(id);
        n.status = 'pending';
        n.startedAt = undefined;
        n.finishedAt = undefined;
        n.output = undefined;
        n.error = undefined;
        n.skipReason = undefined;
        n.labels = undefined;
        n.retryAt = undefined;
        // As the engine's state: the decisions start again; a compensation made stays made, but
        // the node is shown by what it does now.
        n.decisions = [];
        n.approval = undefined;
        n.compensation = undefined;
        n.waitKind = undefined;
        n.waitUntil = undefined;
        n.items = undefined;
        for (const t of n.taken) fold.takenEdges.delete(t);
        n.taken = [];
      }
      break;
    case 'run.finished':
      if (e.status) fold.status = e.status;
      fold.finishedAt = e.at;
      fold.output = e.output;
      if (e.error) fold.error = e.error;
      break;
    default:
      break;
  }
}

/** What a node shows: a state for its colour, icon and line pattern, beyond the engine's six statuses. */
export type DisplayState =
  | 'pending'
  | 'not-reached'
  | 'running'
  | 'retrying'
  | 'waiting-approval'
  | 'waiting-timer'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'compensating'
  | 'compensated'
  | 'compensation-failed';

/** A node's display state; `via` is the state its sub-flow run imposes while the node itself runs. */
export function displayState(n: NodeFold | undefined, runEnded: boolean, via?: 'waiting-approval' | 'waiting-timer'): DisplayState {
  if (n === undefined || n.status === 'pending') return runEnded ? 'not-reached' : 'pending';
  if (n.compensation === 'running') return 'compensating';
  if (n.compensation === 'succeeded') return 'compensated';
  if (n.compensation === 'failed') return 'compensation-failed';
  switch (n.status) {
    case 'waiting':
      return n.waitKind === 'approval' ? 'waiting-approval' : 'waiting-timer';
    case 'running':
      if (n.retryAt !== undefined) return 'retrying';
      return via ?? 'running';
    default:
      return n.status;
  }
}

/** The node id a sub-flow run's path names: `deploy`, `steps[2]`, `steps[2]~2`, `review:agent`. */
export function nodeOfPath(path: string): string {
  return /^[A-Za-z0-9_-]+/.exec(path)?.[0] ?? path;
}

/** The for_each item a sub-flow run's path names, if any. */
export function itemOfPath(path: string): number | undefined {
  const m = /^[A-Za-z0-9_-]+\[(\d+)\]/.exec(path);
  return m ? Number(m[1]) : undefined;
}
