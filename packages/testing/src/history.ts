import type { RunEvent } from '@gantry/engine';
import { describeCall, type CallRecord } from './calls.js';
import { offset, show } from './format.js';
import type { NodeRecord } from './observe.js';

/**
 * A node's history as report lines: its attempts with their inputs, the calls they made, their
 * errors, retries and outputs, its waits, decisions and compensation, each at its time on the
 * fake clock (since the tested run started).
 */
export function nodeHistory(node: NodeRecord, calls: readonly CallRecord[], origin: number): string[] {
  const lines: string[] = [];
  const printed = new Set<CallRecord>();
  const line = (at: number, text: string) => lines.push(`${offset(at - origin).padEnd(9)} ${text}`);
  for (const event of node.events) {
    const text = describeEvent(event, origin);
    if (text !== undefined) line(event.at, text);
    if (event.type !== 'node.started') continue;
    for (const call of calls) {
      if (printed.has(call) || call.attempt !== event.attempt) continue;
      printed.add(call);
      lines.push(`${''.padEnd(9)}   called ${describeCall(call, true).replace(/ at \S+( in sub-flow run \S+)?/, '')}`);
    }
  }
  for (const call of calls) if (!printed.has(call)) lines.push(`${''.padEnd(9)}   called ${describeCall(call, true)}`);
  return lines;
}

function item(event: RunEvent): string {
  return 'item' in event && event.item !== undefined ? ` of item [${event.item}]` : '';
}

function describeEvent(event: RunEvent, origin: number): string | undefined {
  const when = (at: number) => offset(at - origin);
  switch (event.type) {
    case 'node.started':
      return `attempt ${event.attempt}${item(event)} started${event.input === undefined ? '' : ` with input ${show(event.input)}`}`;
    case 'node.retrying':
      return `attempt ${event.attempt}${item(event)} failed (${event.error.code}, retryable): ${event.error.message}; next attempt at ${when(event.retryAt)}`;
    case 'node.succeeded':
      return `attempt ${event.attempt}${item(event)} succeeded${event.labels ? ` with labels ${show(event.labels)}` : ''}: output ${show(event.output)}`;
    case 'node.failed':
      return `attempt ${event.attempt}${item(event)} failed (${event.error.code}${event.error.retryable ? ', retryable' : ''}): ${event.error.message}`;
    case 'node.skipped':
      return `skipped (${event.reason})`;
    case 'approval.requested':
      return `waits for ${event.required} approval${event.required === 1 ? '' : 's'} of ${event.approvers.join(', ')} until ${when(event.deadline)}`;
    case 'approval.decided':
      return `${event.principal} decided ${event.decision}${event.comment ? ` ("${event.comment}")` : ''} (${event.channel})`;
    case 'timer.set':
      return event.purpose === 'wait' ? `waits until ${when(event.fireAt)}` : undefined;
    case 'compensation.started':
    case 'compensation.succeeded':
      return event.type.replace('.', ' ');
    case 'compensation.failed':
      return `compensation failed${event.error ? ` (${event.error.code}): ${event.error.message}` : ''}`;
    default:
      return undefined;
  }
}
