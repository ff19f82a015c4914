import { isRecord } from './flow-view.js';
import type { ErrorInfo } from './run/events.js';

/** One node a failure crossed: the run it belongs to, the node, and its for_each item. */
export interface FailureHop {
  /** The run the node belongs to, when known (the top one is the caller's). */
  readonly runId?: string;
  readonly nodeId?: string;
  /** The for_each item whose sub-flow failed. */
  readonly item?: number;
}

/** What failed at the bottom of a chain of sub-flows and agents, and where. */
export interface RootCause {
  /** The error where it happened: the gate, the agent's reply, the timeout. */
  readonly error: ErrorInfo & { readonly nodeId?: string };
  /** The nodes it crossed, from the top run down to the node that failed (one hop when it crossed nothing). */
  readonly path: readonly FailureHop[];
  /** The run where it happened (the top run's id when it crossed nothing, if given). */
  readonly runId?: string;
}

/** The codes whose details carry the failed child run's own error (DESIGN §3.6, §5). */
const CHAIN_CODES = new Set(['SUBFLOW_FAILED', 'AGENT_FAILED']);
/** Deeper than any flow nests; the journal's data is walked, so it is bounded anyway. */
const MAX_DEPTH = 64;

/**
 * Walks a failure down the chain the engine keeps in its details (a sub-flow's or a flow agent's
 * failure holds the child run's error under `details.error`, and the child run under
 * `details.runId`) to the error that started it. `runId` is the run that `error` belongs to.
 * Pure and tolerant: anything that is not such a chain ends the walk where it is.
 */
export function rootCause(error: ErrorInfo & { readonly nodeId?: string }, runId?: string): RootCause {
  let current = error;
  let run = runId;
  const path: FailureHop[] = [hop(run, current.nodeId, undefined)];
  for (let depth = 0; depth < MAX_DEPTH && CHAIN_CODES.has(current.code); depth++) {
    const details = current.details;
    if (!isRecord(details) || !isErrorInfo(details.error)) break;
    const child = typeof details.runId === 'string' ? details.runId : undefined;
    const item = itemOf(child, current);
    if (item !== undefined) path[path.length - 1] = hop(run, current.nodeId, item);
    current = details.error as ErrorInfo & { nodeId?: string };
    run = child;
    path.push(hop(run, current.nodeId, undefined));
  }
  return run === undefined ? { error: current, path } : { error: current, path, runId: run };
}

/** `production_deployment › gradual_traffic_switch[0] › metrics_gate`: where a root cause happened. */
export function failurePath(path: readonly FailureHop[]): string {
  return path
    .filter((h) => h.nodeId !== undefined)
    .map((h) => (h.item === undefined ? h.nodeId! : `${h.nodeId}[${h.item}]`))
    .join(' › ');
}

function hop(runId: string | undefined, nodeId: string | undefined, item: number | undefined): FailureHop {
  const h: { runId?: string; nodeId?: string; item?: number } = {};
  if (runId !== undefined) h.runId = runId;
  if (nodeId !== undefined) h.nodeId = nodeId;
  if (item !== undefined) h.item = item;
  return h;
}

/** The for_each item a failure came from: the child run is `<run>.<node>[i]`, the message `item i: …`. */
function itemOf(child: string | undefined, error: ErrorInfo & { readonly nodeId?: string }): number | undefined {
  if (child !== undefined && error.nodeId !== undefined) {
    const at = child.lastIndexOf(`.${error.nodeId}[`);
    const match = at < 0 ? null : /^\[(\d+)\]/.exec(child.slice(at + error.nodeId.length + 1));
    if (match) return Number(match[1]);
  }
  const match = /^item (\d+): /.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

function isErrorInfo(value: unknown): value is ErrorInfo {
  return isRecord(value) && typeof value.code === 'string' && typeof value.message === 'string';
}
