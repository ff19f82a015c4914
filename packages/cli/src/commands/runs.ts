import { GantryError, type RunStatus } from '@gantry/engine';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { duration } from '../progress/board.js';
import { loadConfig } from '../setup.js';
import { openStore, storeWhere } from '../store.js';
import { renderTimeline } from '../render/timeline.js';
import { when } from '../summarize.js';

const STATUSES: readonly RunStatus[] = ['running', 'waiting', 'succeeded', 'failed', 'blocked', 'rolled_back', 'cancelled'];

export const runsHelp = `Usage: gantry runs [--status s] [--limit n] [--all] [--json] [--config f]

Lists the stored runs, newest first: id, flow, status, when it started and how long it took.
Sub-flow runs (named <parent run>.<node>) are left out unless --all; "gantry show" lists a
run's own. Works while another gantry process runs flows.

Options:
  --status s   only runs with this status: ${STATUSES.join(', ')}
  --all        sub-flow runs too
  --limit n    at most n runs (default: 50)
  --json       print the runs as JSON
  --config f   the configuration (its store.path) (default: ./gantry.config.json if present)`;

export async function runsCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('runs', argv, {
    status: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    config: { type: 'string' },
  });
  if (positionals.length > 0) throw usageError('runs', `takes no arguments, got ${positionals.join(' ')}`);
  const status = values.status as string | undefined;
  if (status !== undefined && !STATUSES.includes(status as RunStatus)) throw usageError('runs', `--status must be one of ${STATUSES.join(', ')}, got "${status}"`);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usageError('runs', `--limit must be a whole number ≥ 1, got "${String(values.limit)}"`);
  const store = await openStore(loadConfig(values.config as string | undefined, io.cwd), io.cwd, 'read');
  try {
    const runs = await store.listRuns({ ...(status ? { status: status as RunStatus } : {}), ...(values.all === true ? {} : { parentRunId: null }), limit });
    const p = printer(io);
    if (values.json === true) {
      p.out(JSON.stringify(runs.map(({ flowText: _text, ...run }) => run), null, 2));
      return EXIT.succeeded;
    }
    if (runs.length === 0) {
      const where = storeWhere(store, io.cwd);
      p.out(status ? `no ${status} runs in ${where}` : `no runs yet in ${where}: start one with "gantry run <flow>"`);
      return EXIT.succeeded;
    }
    const rows = runs.map((r) => [r.runId, r.flowName, r.status, when(r.startedAt), r.finishedAt === undefined ? '' : duration(r.finishedAt - r.startedAt)]);
    const header = ['RUN', 'FLOW', 'STATUS', 'STARTED', 'TOOK'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    p.out(p.outStyle.bold(line(header)));
    for (const row of rows) p.out(line(row));
    return EXIT.succeeded;
  } finally {
    await store.close();
  }
}

export const showHelp = `Usage: gantry show <runId> [--json] [--config f]

A run's timeline: its status and, for a failure, what failed at the bottom and where; its params;
then for each node its start, duration, attempts (each with its time and error), input and output
(short values in full, long ones cut with their size), a router's labels, a gate's readings
against their limits, the decisions taken on it and its error; under a node, the sub-flow runs it
started, nested, and a for_each node's items, and how many log lines
each attempt kept ("gantry logs" prints them).

Options:
  --json       print the run's record and journal as JSON
  --config f   the configuration (its store.path) (default: ./gantry.config.json if present)`;

export async function showCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('show', argv, { json: { type: 'boolean' }, config: { type: 'string' } });
  if (positionals.length !== 1) throw usageError('show', `name exactly one run id, got ${positionals.length}`);
  const runId = positionals[0]!;
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const store = await openStore(loaded, io.cwd, 'read');
  try {
    const record = await store.getRun(runId);
    if (record === undefined) throw new GantryError('RUN_NOT_FOUND', `no run ${runId} in ${storeWhere(store, io.cwd)}; "gantry runs" lists the runs there`);
    const events = await store.events(runId);
    const p = printer(io);
    if (values.json === true) {
      const { flowText: _text, ...run } = record;
      p.out(JSON.stringify({ run, events }, null, 2));
      return EXIT.succeeded;
    }
    for (const line of await renderTimeline(store, runId, p.outStyle, Math.max(80, io.out.columns ?? 100))) p.out(line);
    return EXIT.succeeded;
  } finally {
    await store.close();
  }
}
