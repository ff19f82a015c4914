import { itemOfPath, nodeOfPath, type RunFold } from './run-fold';
import type { JsonValue, RunGraph } from './wire';

/**
 * The iterations of a for_each sub-flow node — in the shipped pipeline, the traffic steps of the
 * blue-green shift — each with its sub-flow run, how it ended, and the readings its gate checked
 * against their limits; and where the sequence stopped and was rolled back.
 */

export interface Reading {
  readonly metric: string;
  readonly operator: string;
  readonly limit: JsonValue;
  readonly actual: JsonValue;
  readonly passed: boolean;
}

export interface Step {
  readonly index: number;
  readonly item: JsonValue | undefined;
  /** Its sub-flow run's id, once started (the last attempt's). */
  readonly runId?: string;
  readonly status: 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'rolled_back' | 'cancelled' | 'blocked';
  readonly readings: readonly Reading[];
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly error?: string;
}

export interface Iterations {
  /** The run holding the for_each node, and the node. */
  readonly runId: string;
  readonly nodeId: string;
  readonly steps: readonly Step[];
  /** Whether the items are shares of traffic (percentages): drawn as a bar. */
  readonly percent: boolean;
  /** The first step that did not succeed, if one ended so. */
  readonly stoppedAt?: number;
  /** The node's compensation (the rollback): running, done or failed. */
  readonly rollback?: 'running' | 'succeeded' | 'failed';
  readonly rollbackAt?: number;
}

interface RunLike {
  readonly fold: RunFold;
  readonly graph?: RunGraph | undefined;
}

const isRecord = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A gate's checks anywhere in a value, a few levels down (a node's output mapping may nest them). */
export function findChecks(value: unknown, depth = 0): Reading[] | undefined {
  if (depth > 4 || typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((c) => isRecord(c) && typeof c.metric === 'string' && 'expected' in c && 'actual' in c)) {
      return value.map((c) => {
        const r = c as Record<string, JsonValue>;
        return { metric: String(r.metric), operator: String(r.operator ?? ''), limit: r.expected ?? null, actual: r.actual ?? null, passed: r.passed === true };
      });
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  if ('checks' in record) {
    const found = findChecks(record.checks, depth + 1);
    if (found) return found;
  }
  for (const [key, v] of Object.entries(record)) {
    if (key === 'checks') continue;
    const found = findChecks(v, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The readings of the last gate of a sub-flow run: from its output, or from its failure's details. */
function readingsOf(fold: RunFold): Reading[] {
  let found: Reading[] | undefined;
  for (const n of fold.nodes.values()) {
    const r = findChecks(n.status === 'failed' ? n.error?.details : n.output);
    if (r) found = r;
  }
  return found ?? [];
}

/** The items a for_each will go through: a literal list, or `{% $params.name %}` read from the run's params. */
export function plannedItems(forEach: JsonValue | undefined, params: Record<string, JsonValue> | undefined): JsonValue[] | undefined {
  if (Array.isArray(forEach)) return forEach;
  if (typeof forEach !== 'string') return undefined;
  const m = /^\{%\s*\$params\.([A-Za-z_][A-Za-z0-9_]*)\s*%\}$/.exec(forEach);
  const value = m ? params?.[m[1]!] : undefined;
  return Array.isArray(value) ? value : undefined;
}

/** Each for_each child run under its parent's run id, its node's id and its item, in one pass over the runs. */
function childrenByItem(runs: readonly RunLike[]): Map<string, Map<string, Map<number, RunLike[]>>> {
  const byParent = new Map<string, Map<string, Map<number, RunLike[]>>>();
  for (const child of runs) {
    const parent = child.fold.parent;
    const index = parent === undefined ? undefined : itemOfPath(parent.path);
    if (parent === undefined || index === undefined) continue;
    const nodeId = nodeOfPath(parent.path);
    let nodes = byParent.get(parent.runId);
    if (nodes === undefined) byParent.set(parent.runId, (nodes = new Map()));
    let items = nodes.get(nodeId);
    if (items === undefined) nodes.set(nodeId, (items = new Map()));
    const attempts = items.get(index);
    if (attempts === undefined) items.set(index, [child]);
    else attempts.push(child);
  }
  return byParent;
}

/** Every for_each sub-flow node in these runs that has iterations (started or planned). */
export function iterationsIn(runs: Iterable<RunLike>): Iterations[] {
  const all = [...runs];
  // Grouped once: a run tree holds thousands of item runs, and each parent and item looked its own up.
  const byParent = childrenByItem(all);
  const found: Iterations[] = [];
  for (const parent of all) {
    const byNode = byParent.get(parent.fold.runId) ?? new Map<string, Map<number, RunLike[]>>();
    const nodeIds = new Set([...byNode.keys(), ...(parent.graph?.nodes.filter((n) => n.type === 'subflow' && n.for_each !== undefined).map((n) => n.id) ?? [])]);
    for (const nodeId of nodeIds) {
      const node = parent.graph?.nodes.find((n) => n.id === nodeId);
      const planned = plannedItems(node?.for_each, parent.fold.params);
      const byItem = byNode.get(nodeId) ?? new Map<number, RunLike[]>();
      let count = planned?.length ?? 0;
      for (const index of byItem.keys()) if (index + 1 > count) count = index + 1;
      if (count === 0) continue;
      const steps: Step[] = [];
      for (let index = 0; index < count; index++) {
        // A retried item has a run per attempt: the last one tells.
        const runs = [...(byItem.get(index) ?? [])].sort((a, b) => (a.fold.startedAt ?? 0) - (b.fold.startedAt ?? 0));
        const run = runs.at(-1)?.fold;
        const item = planned?.[index] ?? percentParam(run);
        steps.push(
          run === undefined
            ? { index, item, status: 'pending', readings: [] }
            : {
                index,
                item,
                runId: run.runId,
                status: run.status,
                readings: readingsOf(run),
                ...(run.startedAt === undefined ? {} : { startedAt: run.startedAt }),
                ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
                ...(run.error ? { error: run.error.message } : {}),
              },
        );
      }
      const stoppedAt = steps.findIndex((s) => s.status !== 'succeeded' && s.status !== 'pending' && s.status !== 'running' && s.status !== 'waiting');
      const n = parent.fold.nodes.get(nodeId);
      const rollbackEvent = parent.fold.events.find((e) => e.nodeId === nodeId && e.type === 'compensation.started');
      found.push({
        runId: parent.fold.runId,
        nodeId,
        steps,
        percent: isPercent(nodeId, steps, [...byItem.values()].flat()),
        ...(stoppedAt >= 0 ? { stoppedAt } : {}),
        ...(n?.compensation ? { rollback: n.compensation } : {}),
        ...(rollbackEvent ? { rollbackAt: rollbackEvent.at } : {}),
      });
    }
  }
  return found;
}

/** A child run's parameter that reads as a share of traffic, when the flow did not say the items. */
function percentParam(run: RunFold | undefined): JsonValue | undefined {
  const params = run?.params ?? {};
  const key = Object.keys(params).find((k) => /percent|weight/i.test(k) && typeof params[k] === 'number');
  return key === undefined ? undefined : params[key];
}

function isPercent(nodeId: string, steps: readonly Step[], children: readonly RunLike[]): boolean {
  if (!steps.every((s) => typeof s.item === 'number' && s.item >= 0 && s.item <= 100)) return false;
  if (/traffic|shift|canary|rollout/i.test(nodeId)) return true;
  // A sub-flow that takes the item as a percentage, or a weight, says it is one.
  const items = new Set(steps.map((s) => s.item));
  return children.some((c) => Object.entries(c.fold.params ?? {}).some(([k, v]) => /percent|weight/i.test(k) && items.has(v)));
}
