import { forEachItems, type CompiledFlow, type RunEvent, type RunState } from '@gantry/engine';
import { Board, newItems, type Items, type Line, type Row } from './board.js';

/** What the tree reads of a live run (the engine's `run(id)`): its flow, and its state for a run first heard of midway. */
export type RunLookup = (runId: string) => { readonly flow: CompiledFlow; state(): Readonly<RunState> } | undefined;

/** Where a sub-flow run hangs: under a node of its parent run, or under one of its for_each items. */
export interface Attachment {
  readonly board: Board;
  readonly row: Row;
  readonly item?: number;
}

/**
 * A node path in a parent run, as the engine names child runs `<parent>.<path>`: `node`,
 * `node[3]` (a for_each item), `node~2` (a later attempt), `node:agent.task` (a parallel node's agent).
 */
const NODE_PATH = /^([A-Za-z_][A-Za-z0-9_-]*)(?:\[(\d+)\])?(?:~\d+)?(?::[\s\S]*)?$/;

/**
 * A run and its sub-flow runs, at any depth, as boards hung under the nodes that started them
 * (complete-deployment → production_deployment → gradual_traffic_switch[0] → metrics_gate).
 */
export class RunTree {
  readonly root: Board;
  private readonly boards = new Map<string, Board>();
  private readonly attachments = new Map<Board, Attachment>();

  constructor(
    readonly runId: string,
    flow: CompiledFlow,
    private readonly lookup: RunLookup,
  ) {
    this.root = new Board(runId, flow);
    this.boards.set(runId, this.root);
  }

  /** Applies an event of the run or of a sub-flow run below it: the board it changed and its lines, or undefined. */
  apply(event: RunEvent): { board: Board; lines: Line[] } | undefined {
    if (event.runId !== this.runId && !event.runId.startsWith(`${this.runId}.`)) return undefined;
    const board = this.boardOf(event.runId, event.type === 'run.started' ? event.parent : undefined);
    if (board === undefined) return undefined;
    const lines = board.apply(event);
    if (lines === undefined) return undefined;
    if (event.type === 'node.started' && event.item === undefined) this.learnItems(board, event.nodeId);
    return { board, lines };
  }

  /** Where a sub-flow's board hangs; undefined for the top run. */
  attachment(board: Board): Attachment | undefined {
    return this.attachments.get(board);
  }

  /** `production_deployment › gradual_traffic_switch[0]`: the node paths from the top run down to a board. */
  pathOf(board: Board): string {
    const parts: string[] = [];
    for (let b: Board | undefined = board; b?.path !== undefined; b = this.attachments.get(b)?.board) parts.unshift(b.path);
    return parts.join(' › ');
  }

  /** Columns a board's rows are indented by: two per level, four under a for_each item. */
  indentOf(board: Board): number {
    const at = this.attachments.get(board);
    return at === undefined ? 2 : this.indentOf(at.board) + (at.item === undefined ? 2 : 4);
  }

  /** Whether `ancestor` is `board` or a board above it. */
  contains(ancestor: Board, board: Board): boolean {
    for (let b: Board | undefined = board; b !== undefined; b = this.attachments.get(b)?.board) if (b === ancestor) return true;
    return false;
  }

  /**
   * The board of a run below the top one, made when first heard of: from its run.started (its
   * parent named there), or — a sub-flow run resumed after a restart — from its state so far.
   */
  private boardOf(runId: string, parent?: { readonly runId: string; readonly path: string }): Board | undefined {
    const known = this.boards.get(runId);
    if (known !== undefined) return known;
    const run = this.lookup(runId);
    const origin = parent ?? run?.state().started?.parent;
    if (run === undefined || origin === undefined) return undefined;
    const above = this.boardOf(origin.runId);
    const match = NODE_PATH.exec(origin.path);
    const row = match === null ? undefined : above?.row(match[1]!);
    if (above === undefined || row === undefined) return undefined;
    const board = new Board(runId, run.flow, origin.path);
    if (parent === undefined) board.seed(run.state());
    this.boards.set(runId, board);
    const item = match![2] === undefined ? undefined : Number(match![2]);
    if (item === undefined) row.children.push(board);
    else above.item(row, item).child = board;
    this.attachments.set(board, item === undefined ? { board: above, row } : { board: above, row, item });
    return board;
  }

  /** A for_each node has started: its items, to show those not started yet too. */
  private learnItems(board: Board, nodeId: string): void {
    const row = board.row(nodeId);
    const spec = board.flow.nodes.get(nodeId)?.definition.for_each;
    if (row === undefined || spec === undefined) return;
    const items: Items = (row.items ??= newItems());
    if (Array.isArray(spec)) {
      items.values = spec;
      return;
    }
    const run = this.lookup(board.runId);
    if (run === undefined) return;
    void forEachItems(board.flow, run.state(), nodeId).then((values) => {
      if (values !== undefined && row.items === items) items.values = values;
    });
  }
}
