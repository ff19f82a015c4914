import type { CompiledFlow, RunEvent } from '@gantry/engine';

export type RowState = 'pending' | 'running' | 'retrying' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'compensating' | 'compensated';

export interface Row {
  readonly id: string;
  readonly type: string;
  state: RowState;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Why it failed, was skipped, or what it waits for. */
  note?: string;
  items?: { done: number; total?: number };
}

/** What the terminal shows of a run: one row per node, in flow order, built from the events. */
export class Board {
  readonly rows: Row[];
  private readonly byId = new Map<string, Row>();
  runStatus = 'running';
  startedAt: number | undefined;
  finishedAt: number | undefined;
  error: string | undefined;
  notifications: string[] = [];

  constructor(readonly flow: CompiledFlow) {
    this.rows = [...flow.nodes.values()].map((n) => ({ id: n.id, type: n.type, state: 'pending' as RowState, attempt: 0 }));
    for (const row of this.rows) this.byId.set(row.id, row);
  }

  /** Applies one event; returns whether the view changed. Events of child runs are ignored. */
  apply(event: RunEvent, runId: string): boolean {
    if (event.runId !== runId) return false;
    const row = 'nodeId' in event && event.nodeId !== undefined ? this.byId.get(event.nodeId) : undefined;
    switch (event.type) {
      case 'run.started':
        this.startedAt = event.at;
        return true;
      case 'node.started':
        if (!row) return false;
        if (event.item !== undefined) {
          row.items ??= { done: 0 };
          return true;
        }
        row.state = 'running';
        row.attempt = event.attempt;
        row.startedAt ??= event.at;
        row.note = undefined;
        return true;
      case 'node.retrying':
        if (!row) return false;
        row.state = 'retrying';
        row.note = `attempt ${event.attempt} failed (${event.error.message}); retry at ${clockTime(event.retryAt)}`;
        return true;
      case 'node.succeeded':
        if (!row) return false;
        if (event.item !== undefined) {
          (row.items ??= { done: 0 }).done++;
          return true;
        }
        row.state = 'succeeded';
        row.finishedAt = event.at;
        row.note = event.labels?.length ? `→ ${event.labels.join(', ')}${event.blocked ? ' (blocks the deployment)' : ''}` : undefined;
        return true;
      case 'node.failed':
        if (!row || event.item !== undefined) return false;
        row.state = 'failed';
        row.finishedAt = event.at;
        row.note = `${event.error.code}: ${event.error.message}${event.taken?.length ? ' (routed by its error edge)' : ''}`;
        return true;
      case 'node.skipped':
        if (!row) return false;
        row.note = event.reason === 'join' ? 'no incoming edge taken' : event.reason === 'when' ? '`when` was false' : row.state === 'pending' ? 'the run stopped first' : 'aborted: the run stopped';
        row.state = 'skipped';
        return true;
      case 'approval.requested':
        if (!row) return false;
        row.state = 'waiting';
        row.note = `approval by ${event.approvers.join(', ')}${event.required < event.approvers.length ? ` (${event.required} of them)` : ''} until ${clockTime(event.deadline)}`;
        return true;
      case 'approval.decided':
        if (!row) return false;
        row.note = `${event.principal} ${event.decision === 'approve' ? 'approved' : 'rejected'}${event.comment ? `: ${event.comment}` : ''}`;
        return true;
      case 'timer.set':
        if (!row || event.purpose !== 'wait') return false;
        row.state = 'waiting';
        row.note = `waiting until ${clockTime(event.fireAt)}`;
        return true;
      case 'timer.fired':
        if (!row || row.state !== 'waiting') return false;
        row.state = 'running';
        row.note = undefined;
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
        this.notifications.push(`${event.severity === 'high' ? 'ESCALATION' : 'notification'}: ${event.message}`);
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
          again.note = `runs again: the run was retried${event.from === undefined ? '' : ` from ${event.from}`}`;
        }
        this.runStatus = 'running';
        this.finishedAt = undefined;
        this.error = undefined;
        return true;
      case 'run.finished':
        this.runStatus = event.status;
        this.finishedAt = event.at;
        this.error = event.error ? `${event.error.nodeId ? `${event.error.nodeId}: ` : ''}${event.error.code}: ${event.error.message}` : undefined;
        return true;
      case 'node.log':
        // What a node logs is shown by `gantry logs`, not on its row.
        return false;
    }
  }
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
