import type { ErrorInfo, FinalRunStatus, JsonObject, JsonValue, RunEvent } from '@gantry/engine';

/** What one node did, read from its run's events. */
export interface NodeRecord {
  readonly id: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
  /** Attempts started (of the node as a whole, not of its for_each items). */
  attempts: number;
  input?: JsonObject;
  output?: JsonObject | JsonValue[];
  error?: ErrorInfo;
  labels?: readonly string[];
  skipReason?: string;
  /** Every event about the node, in order: its history. */
  readonly events: RunEvent[];
}

/** What one run (the tested run or a sub-flow's) did. */
export interface RunRecord {
  readonly runId: string;
  /** Its path from the tested run: "" for it, `build_pipeline` for the sub-flow run of that node. */
  readonly path: string;
  readonly flow: string;
  readonly source: string | undefined;
  readonly startedAt: number;
  readonly parent: { readonly runId: string; readonly path: string } | undefined;
  finishedAt?: number;
  status?: FinalRunStatus;
  output?: JsonObject;
  error?: ErrorInfo & { readonly nodeId?: string };
  readonly nodes: Map<string, NodeRecord>;
  /** Events that concern no node (waiting, notifications, the start and the end). */
  readonly events: RunEvent[];
}

/** Keeps every run of a test case as its events arrive. */
export class Observer {
  readonly runs = new Map<string, RunRecord>();
  /** Events seen, for telling progress from a stall. */
  count = 0;

  constructor(private readonly topRunId: string) {}

  /** The path of a run from the tested run. */
  pathOf(runId: string): string {
    return runId === this.topRunId ? '' : runId.startsWith(`${this.topRunId}.`) ? runId.slice(this.topRunId.length + 1) : runId;
  }

  get top(): RunRecord | undefined {
    return this.runs.get(this.topRunId);
  }

  readonly listen = (event: RunEvent): void => {
    this.count++;
    if (event.type === 'run.started') {
      this.runs.set(event.runId, {
        runId: event.runId,
        path: this.pathOf(event.runId),
        flow: event.flow.name,
        source: event.flow.source,
        startedAt: event.at,
        parent: event.parent,
        nodes: new Map(),
        events: [event],
      });
      return;
    }
    const run = this.runs.get(event.runId);
    if (run === undefined) return;
    if (!('nodeId' in event) || event.nodeId === undefined) {
      run.events.push(event);
      if (event.type === 'run.finished') {
        run.finishedAt = event.at;
        run.status = event.status;
        if (event.output !== undefined) run.output = event.output;
        if (event.error !== undefined) run.error = event.error;
      }
      return;
    }
    let node = run.nodes.get(event.nodeId);
    if (node === undefined) run.nodes.set(event.nodeId, (node = { id: event.nodeId, status: 'pending', attempts: 0, events: [] }));
    node.events.push(event);
    // A for_each item's events are history; the node's own say how it ended.
    if ('item' in event && event.item !== undefined) return;
    switch (event.type) {
      case 'node.started':
        node.status = 'running';
        node.attempts = Math.max(node.attempts, event.attempt);
        if (event.input !== undefined) node.input = event.input;
        break;
      case 'node.succeeded':
        node.status = 'succeeded';
        node.output = event.output;
        if (event.labels !== undefined) node.labels = event.labels;
        break;
      case 'node.failed':
        node.status = 'failed';
        node.error = event.error;
        break;
      case 'node.skipped':
        node.status = 'skipped';
        node.skipReason = event.reason;
        break;
      default:
        break;
    }
  };
}
