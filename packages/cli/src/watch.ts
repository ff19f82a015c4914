import { isGantryError, type ApprovalRequestedEvent, type Engine, type Run, type RunEvent } from '@gantry/engine';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printer, type Io } from './io.js';
import { Board } from './progress/board.js';
import { LiveView } from './progress/live-view.js';
import { promptForApproval } from './progress/prompt.js';
import { renderRows, renderSummary } from './progress/render.js';

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
  const board = new Board(run.flow);
  const view = !json && io.out.isTTY === true ? new LiveView(board, io.out, p.outStyle, () => engine.options.clock.now()) : undefined;
  const onEvent = (event: RunEvent) => {
    if (json) return belongsTo(event, run.id) ? p.out(JSON.stringify(event)) : undefined;
    const changed = board.apply(event, run.id);
    if (view || !changed || !('nodeId' in event) || event.runId !== run.id || !isLineWorthy(event)) return;
    const index = board.rows.findIndex((r) => r.id === event.nodeId);
    p.out(renderRows(board, p.outStyle, engine.options.clock.now(), 200)[index]);
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
        p.out(renderSummary(board, run.id, p.outStyle).join('\n'));
        const what = waits.map((w) => `${w.nodeId} (by ${w.approvers.join(', ')})`).join('; ') || 'an approval in a sub-flow';
        p.out(p.outStyle.yellow(`waiting for a human decision: ${what}.`));
        const node = waits[0]?.nodeId ?? '<node>';
        p.out(`The run is kept in ${options.storeFile}. Decide it with "gantry approve ${run.id} ${node} --as <principal>" (or reject), then continue it with "gantry resume ${run.id}".`);
        p.out(`Next time, --approve-as <principal> approves as the run goes${leftWaiting ? '' : ', and on a terminal you are asked'}.`);
      }
      return EXIT.waiting;
    }
    if (!json) p.out(renderSummary(board, run.id, p.outStyle).join('\n'));
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

function isLineWorthy(event: RunEvent): boolean {
  return ['node.succeeded', 'node.failed', 'node.skipped', 'node.retrying', 'approval.requested', 'approval.decided', 'compensation.succeeded', 'compensation.failed'].includes(event.type) && !('item' in event && event.item !== undefined);
}
