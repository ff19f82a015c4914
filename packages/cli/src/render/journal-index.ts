import type { CompiledFlow, ErrorInfo, RunEvent } from '@gantry/engine';
import { failedItem, RESUMED_IN_PLACE } from '../progress/board.js';

/** One attempt of a node (or of one of its for_each items), as its journal tells it. */
export interface Attempt {
  readonly number: number;
  readonly startedAt: number;
  endedAt?: number;
  outcome: 'running' | 'succeeded' | 'failed' | 'retried' | 'interrupted' | 'aborted';
  error?: ErrorInfo;
  retryAt?: number;
}

/** Lines an attempt kept of what it logged, and those a bound left out. */
export interface LogCount {
  readonly kept: number;
  readonly dropped: number;
}

/** What the journal says of one node: its attempts, its items' attempts, its logs, its compensation's error. */
interface NodeEntry {
  readonly type: string;
  readonly own: Attempt[];
  readonly items: Map<number, Attempt[]>;
  /** Items whose latest attempt has not ended: a failure of the node ends them. */
  readonly openItems: Set<number>;
  readonly logs: Map<number, LogCount>;
  compensationError?: ErrorInfo;
}

const NONE: readonly Attempt[] = Object.freeze([]);

/**
 * A run's journal grouped by node and for_each item, in one pass: what `gantry show` asks of
 * every node and item. Asking the journal itself for each item would read it once per item, and a
 * payload can give a for_each 100,000 items (DESIGN §11).
 */
export class JournalIndex {
  private readonly nodes = new Map<string, NodeEntry>();

  constructor(events: readonly RunEvent[], flow: CompiledFlow) {
    for (const event of events) {
      if (!('nodeId' in event) || event.nodeId === undefined) continue;
      let entry = this.nodes.get(event.nodeId);
      if (entry === undefined) {
        entry = { type: flow.nodes.get(event.nodeId)?.type ?? '', own: [], items: new Map(), openItems: new Set(), logs: new Map() };
        this.nodes.set(event.nodeId, entry);
      }
      add(entry, event);
    }
  }

  /** The attempts of a node, or with `item` of one of its for_each items: each start, how it ended, with its error. */
  attempts(nodeId: string, item?: number): readonly Attempt[] {
    const entry = this.nodes.get(nodeId);
    return (item === undefined ? entry?.own : entry?.items.get(item)) ?? NONE;
  }

  /** Per attempt of a node: the lines kept and dropped. */
  logCounts(nodeId: string): ReadonlyMap<number, LogCount> | undefined {
    return this.nodes.get(nodeId)?.logs;
  }

  /** The error of the node's compensation, when it failed. */
  compensationError(nodeId: string): ErrorInfo | undefined {
    return this.nodes.get(nodeId)?.compensationError;
  }
}

function add(entry: NodeEntry, event: RunEvent): void {
  if (event.type === 'node.log') {
    const c = entry.logs.get(event.attempt) ?? { kept: 0, dropped: 0 };
    entry.logs.set(event.attempt, { kept: c.kept + event.lines.length, dropped: c.dropped + (event.dropped ?? 0) });
    return;
  }
  if (event.type === 'compensation.failed') {
    entry.compensationError ??= event.error;
    return;
  }
  const item = 'item' in event ? event.item : undefined;
  let attempts = entry.own;
  if (item !== undefined) {
    attempts = entry.items.get(item) ?? [];
    entry.items.set(item, attempts);
  }
  const open = attempts.at(-1)?.endedAt === undefined ? attempts.at(-1) : undefined;
  switch (event.type) {
    case 'node.started':
      if (open !== undefined) {
        if (RESUMED_IN_PLACE.has(entry.type)) return;
        open.outcome = 'interrupted';
        open.endedAt = event.at;
      }
      attempts.push({ number: event.attempt, startedAt: event.at, outcome: 'running' });
      if (item !== undefined) entry.openItems.add(item);
      return;
    case 'node.retrying':
      if (open !== undefined) Object.assign(open, { endedAt: event.at, outcome: 'retried', error: event.error, retryAt: event.retryAt });
      break;
    case 'node.succeeded':
      if (open !== undefined) Object.assign(open, { endedAt: event.at, outcome: 'succeeded' });
      break;
    case 'node.failed':
      if (open !== undefined) Object.assign(open, { endedAt: event.at, outcome: 'failed', error: event.error });
      // An item's last failure is journaled as its node's (`item 4: …`); its running siblings were aborted.
      if (item === undefined) endItems(entry, event.at, failedItem(event.error), event.error);
      break;
    case 'node.skipped':
      if (open !== undefined) Object.assign(open, { endedAt: event.at, outcome: 'aborted' });
      if (item === undefined) endItems(entry, event.at);
      break;
    default:
      return;
  }
  if (item !== undefined) entry.openItems.delete(item);
}

/** Ends the items' open attempts as the node ends: the one that failed it, failed; the others, aborted. */
function endItems(entry: NodeEntry, at: number, failed?: number, error?: ErrorInfo): void {
  for (const item of entry.openItems) {
    const open = entry.items.get(item)!.at(-1)!;
    open.endedAt = at;
    if (item === failed && error !== undefined) Object.assign(open, { outcome: 'failed', error: { ...error, message: error.message.slice(`item ${item}: `.length) } });
    else open.outcome = 'aborted';
  }
  entry.openItems.clear();
}

/** Whether the attempts are worth listing: more than one, or one that was retried. */
export function worthListing(attempts: readonly Attempt[]): boolean {
  return attempts.length > 1 || attempts.some((a) => a.outcome === 'retried' || a.outcome === 'interrupted');
}
