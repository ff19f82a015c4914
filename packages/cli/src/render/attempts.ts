import type { ErrorInfo, RunEvent } from '@gantry/engine';
import { RESUMED_IN_PLACE } from '../progress/board.js';

/** One attempt of a node (or of one of its for_each items), as its journal tells it. */
export interface Attempt {
  readonly number: number;
  readonly startedAt: number;
  endedAt?: number;
  outcome: 'running' | 'succeeded' | 'failed' | 'retried' | 'interrupted' | 'aborted';
  error?: ErrorInfo;
  retryAt?: number;
}


/**
 * The attempts of a node from its run's journal: each start, how it ended (succeeded, failed,
 * failed and retried at a time, interrupted by a restart), with its error. `item` picks a
 * for_each item's attempts; without it, the node's own.
 */
export function attemptsOf(events: readonly RunEvent[], nodeId: string, type: string, item?: number): Attempt[] {
  const attempts: Attempt[] = [];
  for (const event of events) {
    if (!('nodeId' in event) || event.nodeId !== nodeId || ('item' in event ? event.item : undefined) !== item) continue;
    const open = attempts.at(-1)?.endedAt === undefined ? attempts.at(-1) : undefined;
    switch (event.type) {
      case 'node.started':
        if (open !== undefined) {
          if (RESUMED_IN_PLACE.has(type)) continue;
          open.outcome = 'interrupted';
          open.endedAt = event.at;
        }
        attempts.push({ number: event.attempt, startedAt: event.at, outcome: 'running' });
        break;
      case 'node.retrying':
        if (open === undefined) break;
        Object.assign(open, { endedAt: event.at, outcome: 'retried', error: event.error, retryAt: event.retryAt });
        break;
      case 'node.succeeded':
        if (open !== undefined) Object.assign(open, { endedAt: event.at, outcome: 'succeeded' });
        break;
      case 'node.failed':
        if (open !== undefined) Object.assign(open, { endedAt: event.at, outcome: 'failed', error: event.error });
        break;
      case 'node.skipped':
        if (open !== undefined) Object.assign(open, { endedAt: event.at, outcome: 'aborted' });
        break;
      default:
        break;
    }
  }
  return attempts;
}

/** Whether the attempts are worth listing: more than one, or one that was retried. */
export function worthListing(attempts: readonly Attempt[]): boolean {
  return attempts.length > 1 || attempts.some((a) => a.outcome === 'retried' || a.outcome === 'interrupted');
}
