import { isGantryError, type ApprovalRequestedEvent, type Engine, type Run, type RunEvent } from '@gantry/engine';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printer, type Io } from './io.js';
import type { Board, Line } from './progress/board.js';
import { LiveView } from './progress/live-view.js';
import { promptForApproval } from './progress/prompt.js';
import { headerText, itemText, renderSummary, rowText, wrapTail } from './progress/render.js';
import { RunTree } from './progress/tree.js';
import type { Style } from './style.js';

export interface WatchOptions {
  /** One event per line on stdout instead of the live view. */
  readonly json: boolean;
  /** Principals who approve every approval, in order. */
  readonly approveAs: readonly string[];
  /** Where the run is kept, for the message when it is left waiting. */
  readonly storeFile: string;
}

const STATUS_EXIT: Record<string, ExitCode> = {
  succeeded: EXIT.succeeded,
  failed: EXIT.failed,
  rolled_back: EXIT.failed,
  cancelled: EXIT.failed,
  blocked: EXIT.blocked,
};

/**
 * Shows a run until it ends (live view on a terminal, a line per node otherwise, or JSON
 * events), gives approvals from --approve-as or the prompt, cancels on Ctrl-C, and returns the
 * exit code of DESIGN §7. `history` holds the events the run had before the watch began (a
 * resumed run's journal, and what happened while it was being started).
 */
export async function watchRun(engine: Engine, run: Run, io: Io, options: WatchOptions, history: readonly RunEvent[]): Promise<ExitCode> {
  const p = printer(io);
  const { json, approveAs } = options;
  const canAsk = !json && io.in?.isTTY === true;
  const now = () => engine.options.clock.now();
  const tree = new RunTree(run.id, run.flow, (id) => engine.run(id));
  const view = !json && io.out.isTTY === true ? new LiveView(tree, io.out, p.outStyle, now) : undefined;
  const lines = view ? undefined : new LinePrinter(tree, p.outStyle, (line) => p.out(line), now);
  const onEvent = (event: RunEvent) => {
    if (json) return belongsTo(event, run.id) ? p.out(JSON.stringify(event)) : undefined;
    const changed = tree.apply(event);
    if (changed !== undefined) lines?.print(changed.board, changed.lines);
  };
  if (!json) p.out(p.outStyle.bold(`${run.flow.name} — run ${run.id}`));
  view?.start();
  for (const event of history) onEvent(event);
  const unsubscribe = [engine.on('event', onEvent)];

  let leftWaiting = false;
  let prompts = Promise.resolve();
  const exitWaiting = new Promise<'waiting'>((resolveWaiting) => {
    const onApproval = (event: ApprovalRequestedEvent) => {
      for (const principal of approveAs) {
        // Decided here and now, in order; a refusal is told when the promise settles.
        engine.decide(event.runId, event.nodeId, { principal, decision: 'approve', channel: 'cli' }).catch((error: unknown) => {
          if (!isGantryError(error)) throw error;
          if (error.code === 'APPROVAL_NOT_WAITING') return;
          if (!json) p.err(p.errStyle.yellow(`--approve-as ${principal}: ${error.message}`));
        });
      }
      if (!canAsk) return;
      prompts = prompts.then(async () => {
        // Decided meanwhile (--approve-as): the view goes on undisturbed.
        if (!engine.run(event.runId)?.waitingApprovals().some((w) => w.nodeId === event.nodeId)) return;
        view?.pause();
        const decided = await promptForApproval(engine, event, io.in!, io.out);
        view?.resume();
        if (!decided) {
          leftWaiting = true;
          resolveWaiting('waiting');
        }
      });
    };
    const waiting = (event: Extract<RunEvent, { type: 'run.waiting' }>) => {
      // Nothing left but human decisions, and nobody at a terminal to give them.
      if (event.runId === run.id && !canAsk && event.on.length > 0 && event.on.every((w) => w.kind === 'approval')) resolveWaiting('waiting');
    };
    for (const e of history) if (e.type === 'approval.requested' && run.waitingApprovals().some((w) => w.nodeId === e.nodeId)) onApproval(e);
    const last = history.at(-1);
    if (last?.type === 'run.waiting') waiting(last);
    unsubscribe.push(engine.on('approval.requested', onApproval), engine.on('run.waiting', waiting));
  });

  let interrupted = 0;
  const onSigint = () => {
    if (++interrupted > 1) process.exit(130);
    p.err('\ncancelling the run (Ctrl-C again to quit at once)…');
    run.cancel();
  };
  process.on('SIGINT', onSigint);
  try {
    const outcome = await Promise.race([run.finished, exitWaiting]);
    view?.stop();
    if (outcome === 'waiting') {
      const waits = run.waitingApprovals();
      if (!json) {
        p.out(renderSummary(tree.root, p.outStyle).join('\n'));
        const what = waits.map((w) => `${w.nodeId} (by ${w.approvers.join(', ')})`).join('; ') || 'an approval in a sub-flow';
        p.out(p.outStyle.yellow(`waiting for a human decision: ${what}.`));
        const node = waits[0]?.nodeId ?? '<node>';
        p.out(`The run is kept in ${options.storeFile}. Decide it with "gantry approve ${run.id} ${node} --as <principal>" (or reject), then continue it with "gantry resume ${run.id}".`);
        p.out(`Next time, --approve-as <principal> approves as the run goes${leftWaiting ? '' : ', and on a terminal you are asked'}.`);
      }
      return EXIT.waiting;
    }
    if (!json) p.out(renderSummary(tree.root, p.outStyle).join('\n'));
    return STATUS_EXIT[outcome.status] ?? EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
    for (const off of unsubscribe) off();
  }
}

/** Whether an event is of the run or of one of its sub-flow runs (named `runId.nodePath`). */
export function belongsTo(event: RunEvent, runId: string): boolean {
  return event.runId === runId || event.runId.startsWith(`${runId}.`);
}

/** Output width when it is not a terminal (a CI log, a file): lines longer than this wrap at words. */
const LOG_WIDTH = 80;

/**
 * Without a terminal, one line per finished node of every depth, indented under the node that
 * started its run; a line of another run than the one before is preceded by that run's path
 * (`▸ production_deployment › gradual_traffic_switch[1]`), unless it is one the lines came up from.
 */
class LinePrinter {
  private last: Board | undefined;

  constructor(
    private readonly tree: RunTree,
    private readonly s: Style,
    private readonly write: (line: string) => void,
    private readonly now: () => number,
  ) {}

  print(board: Board, lines: readonly Line[]): void {
    for (const { row, item } of lines) {
      if (board !== this.tree.root && board !== this.last && !(this.last !== undefined && this.tree.contains(board, this.last))) {
        this.write(headerText(this.tree, board, this.s, LOG_WIDTH));
      }
      this.last = board;
      const indent = this.tree.indentOf(board) + (item ? 2 : 0);
      const text = item ? itemText(row, item, this.s, this.now()) : rowText(board, row, this.s, this.now());
      for (const line of wrapTail(' '.repeat(indent) + text, LOG_WIDTH, indent + 4)) this.write(line);
    }
  }
}
