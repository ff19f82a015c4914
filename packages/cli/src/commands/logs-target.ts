import { didYouMean, type RunRecord, type RunStore } from '@gantry/engine';
import { usageError } from '../args.js';
import { storedNodes } from '../render/stored-flow.js';

/** How many sub-flow runs are looked through for a node the run's own flow lacks. */
const SEARCH_RUNS = 1_000;
/** How many of the sub-flow runs that have it an error names ("…" when there are more). */
const NAMED = 3;

/** The run whose node is read, and the node. */
export interface LogsTarget {
  readonly record: RunRecord;
  readonly node: string | undefined;
}

/**
 * The run and node `gantry logs <runId> [node]` reads. The node may be given as the place
 * `gantry logs` prints (`build_pipeline › run_unit_tests`) or with dots
 * (`build_pipeline.run_unit_tests`): that node of that sub-flow run (node ids hold neither). A
 * node the run's flow lacks is looked for in its sub-flow runs, and the error says where it is.
 */
export async function logsTarget(store: RunStore, top: RunRecord, given: string | undefined): Promise<LogsTarget> {
  if (given === undefined) return { record: top, node: undefined };
  const segments = given.split(/›|\./).map((s) => s.trim());
  const node = segments.pop()!;
  let record = top;
  if (segments.length > 0) {
    const runId = `${top.runId}.${segments.join('.')}`;
    const sub = await store.getRun(runId);
    if (sub === undefined) throw usageError('logs', `run ${top.runId} has no sub-flow run ${runId} ("${given}"); "gantry runs --all" lists the sub-flow runs`);
    record = sub;
  }
  const ids = nodeIds(record);
  if (ids.includes(node)) return { record, node };
  // One more than are named: the "…" says there are more.
  const holders = await subRunsWith(store, record, node, NAMED + 1);
  const named = holders.slice(0, NAMED);
  // Quoted: a for_each item's place (`steps[2]`) is a pattern to zsh.
  const hint =
    holders.length === 0
      ? didYouMean(node, ids)
      : `; it is a node of sub-flow run${named.length === 1 ? '' : 's'} ${named.join(', ')}${holders.length > NAMED ? ', …' : ''}: gantry logs ${top.runId} '${holders[0]!.slice(top.runId.length + 1)}.${node}'`;
  throw usageError('logs', `run ${record.runId}'s flow "${record.flowName}" has no node "${node}"${hint}`);
}

/** The node ids of a stored run's flow, read from its text, not compiled (stored-flow.ts says why). */
function nodeIds(record: RunRecord): string[] {
  return storedNodes(record.flowText).flatMap((n) => (typeof n.id === 'string' ? [n.id] : []));
}

/** Up to `most` sub-flow runs of `record` (any depth, the first SEARCH_RUNS) whose flow has `node`; each flow version read once. */
async function subRunsWith(store: RunStore, record: RunRecord, node: string, most: number): Promise<string[]> {
  const found: string[] = [];
  const has = new Map<string, boolean>();
  const queue = [record.runId];
  for (let i = 0, seen = 0; i < queue.length && seen < SEARCH_RUNS && found.length < most; i++) {
    for (const child of await store.listRuns({ parentRunId: queue[i]! })) {
      if (++seen > SEARCH_RUNS || found.length >= most) break;
      let holds = has.get(child.flowHash);
      if (holds === undefined) has.set(child.flowHash, (holds = nodeIds(child).includes(node)));
      if (holds) found.push(child.runId);
      queue.push(child.runId);
    }
  }
  return found;
}
