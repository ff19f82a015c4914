import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { coerceParam, GantryError, isGantryError, type ApprovalRequestedEvent, type Engine, type JsonObject, type JsonValue, type RunEvent } from '@gantry/engine';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { readFlowText } from '../flow-files.js';
import { Board } from '../progress/board.js';
import { LiveView } from '../progress/live-view.js';
import { promptForApproval } from '../progress/prompt.js';
import { renderRows, renderSummary } from '../progress/render.js';
import { engineFromConfig, loadConfig } from '../setup.js';

export const runHelp = `Usage: gantry run <flow> [--param k=v…] [--input trigger.json] [--config f] [--approve-as principal…] [--json]

Runs a flow and shows every node's progress. Waits for timers; asks for approvals at the
terminal (or takes them from --approve-as).

Options:
  --param k=v        a run parameter (repeatable); JSON values are parsed: --param steps=[10,100]
  --input file       the trigger payload (a webhook body) as JSON; - reads standard input
  --config file      the configuration (agents, principals, credentials…) @default ./gantry.config.json if present
  --approve-as name  approve every approval as this principal (repeatable, in order)
  --json             print every event as one JSON object per line instead of the live view
  --log-level level  engine logs on stderr: fatal, error, warn, info, debug @default silent
  -h, --help         show this help

Exit status: 0 succeeded, 1 failed / rolled back / cancelled, 2 invalid flow or usage, 3 blocked,
4 waiting for a human decision with no terminal to ask.`;

const STATUS_EXIT: Record<string, ExitCode> = {
  succeeded: EXIT.succeeded,
  failed: EXIT.failed,
  rolled_back: EXIT.failed,
  cancelled: EXIT.failed,
  blocked: EXIT.blocked,
};

function parseParams(engine: Engine, flowParams: Parameters<typeof coerceParam>[0], raw: readonly string[]): JsonObject {
  const params: JsonObject = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError('run', `--param takes name=value, got "${item}"`);
    params[item.slice(0, eq)] = coerceParam(flowParams, item.slice(0, eq), item.slice(eq + 1));
  }
  void engine;
  return params;
}

function readTrigger(path: string | undefined, io: Io): JsonValue {
  if (path === undefined) return {};
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (cause) {
    throw usageError('run', `cannot read --input ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause}`);
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (cause) {
    throw usageError('run', `--input ${path} is not JSON: ${(cause as Error).message}`);
  }
}

export async function runCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('run', argv, {
    param: { type: 'string', multiple: true },
    input: { type: 'string' },
    config: { type: 'string' },
    'approve-as': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    'log-level': { type: 'string' },
  });
  if (positionals.length !== 1) throw usageError('run', `name exactly one flow file, got ${positionals.length}`);
  const p = printer(io);
  const json = values.json === true;
  const interactive = !json && io.out.isTTY === true;
  const canAsk = !json && io.in?.isTTY === true;
  const logLevel = String(values['log-level'] ?? 'silent');
  if (!['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(logLevel)) throw usageError('run', `--log-level must be silent, fatal, error, warn, info, debug or trace, got "${logLevel}"`);
  const engine = await engineFromConfig(loadConfig(values.config as string | undefined, io.cwd), {
    env: io.env,
    fallbackNotifier: () => {},
    logger: pino({ level: logLevel, redact: ['*.authorization', '*.token', '*.password', '*.secret'] }, pino.destination(2)),
  });
  readFlowText(positionals[0]!, io.cwd); // says "cannot read flows/x.json: no such file" as the user typed it
  const flow = await engine.loadFlow(resolve(io.cwd, positionals[0]!));
  const params = parseParams(engine, flow, (values.param as string[] | undefined) ?? []);
  const trigger = readTrigger(values.input as string | undefined, io);
  const approveAs = (values['approve-as'] as string[] | undefined) ?? [];

  const events: RunEvent[] = [];
  const early = engine.on('event', (e) => events.push(e));
  const run = await engine.start(flow, { params, trigger });
  early();
  const board = new Board(flow);
  const view = interactive ? new LiveView(board, io.out, p.outStyle, () => engine.options.clock.now()) : undefined;
  const onEvent = (event: RunEvent) => {
    if (json) return p.out(JSON.stringify(event));
    const changed = board.apply(event, run.id);
    if (view) return;
    if (changed && 'nodeId' in event && event.runId === run.id && isLineWorthy(event)) {
      const index = board.rows.findIndex((r) => r.id === event.nodeId);
      p.out(renderRows(board, p.outStyle, engine.options.clock.now(), 200)[index]);
    }
  };
  if (!json) p.out(p.outStyle.bold(`${flow.name} — run ${run.id}`));
  view?.start();
  for (const event of events) onEvent(event);
  engine.on('event', onEvent);

  let leftWaiting = false;
  let prompts = Promise.resolve();
  const exitWaiting = new Promise<'waiting'>((resolveWaiting) => {
    const onApproval = (event: ApprovalRequestedEvent) => {
      for (const principal of approveAs) {
        try {
          engine.decide(event.runId, event.nodeId, { principal, decision: 'approve', channel: 'cli' });
        } catch (error) {
          if (!isGantryError(error) || error.code === 'APPROVAL_NOT_WAITING') continue;
          if (!json) p.err(p.errStyle.yellow(`--approve-as ${principal}: ${error.message}`));
        }
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
    for (const e of events) if (e.type === 'approval.requested') onApproval(e);
    engine.on('approval.requested', onApproval);
    engine.on('run.waiting', (event) => {
      // Nothing left but human decisions, and nobody at a terminal to give them.
      if (!canAsk && event.on.length > 0 && event.on.every((w) => w.kind === 'approval')) resolveWaiting('waiting');
    });
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
      const waits = run.waitingApprovals().map((w) => `${w.nodeId} (by ${w.approvers.join(', ')})`);
      if (!json) {
        p.out(renderSummary(board, run.id, p.outStyle).join('\n'));
        p.out(p.outStyle.yellow(`waiting for a human decision: ${waits.join('; ') || 'an approval in a sub-flow'}.`));
        p.out(`Give it with --approve-as <principal>${leftWaiting ? '' : ', or run on a terminal to be asked'}. This run was kept in memory only and ends with this process.`);
      }
      return EXIT.waiting;
    }
    if (!json) p.out(renderSummary(board, run.id, p.outStyle).join('\n'));
    return STATUS_EXIT[outcome.status] ?? EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function isLineWorthy(event: RunEvent): boolean {
  return ['node.succeeded', 'node.failed', 'node.skipped', 'node.retrying', 'approval.requested', 'approval.decided', 'compensation.succeeded', 'compensation.failed'].includes(event.type) && !('item' in event && event.item !== undefined);
}

export { GantryError };
