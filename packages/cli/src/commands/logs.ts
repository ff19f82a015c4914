import { GantryError, linesOf, readEventsAfter, readRuns, underNode, type DroppedLines, type PlacedLine } from '@gantry/engine';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io, type Printer } from '../io.js';
import { oneLine } from '../render/values.js';
import { loadConfig } from '../setup.js';
import { logsTarget } from './logs-target.js';
import { openStore, storeWhere } from '../store.js';

export const logsHelp = `Usage: gantry logs <runId> [node] [--attempt n] [--follow] [--json] [--config f]

What each attempt of the run's nodes kept of what was logged during it — an executor's logger, a
command agent's stderr, the output of the programs and processes an agent started for the task —
with the lines of its sub-flow runs under the node that started them, in the order they were
written. Each attempt keeps at most 1000 lines and 128 KiB, a run 1 MiB (logs in the
configuration); what was dropped is counted.

Arguments:
  node          only this node of the run (and the sub-flow runs it started); a node of a
                sub-flow run by its place: outer.inner, or "outer › inner" as printed

Options:
  --attempt n   only this attempt of the node
  --follow      keep printing lines as they are written, until the run and its sub-flow runs end
  --json        one JSON object per line: run, path, node, attempt, at, source, level, text
  --config f    the configuration (its store.path) (default: ./gantry.config.json if present)`;

/** How often --follow reads the store for what is new. */
const FOLLOW_MS = 250;

export async function logsCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('logs', argv, {
    attempt: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
    json: { type: 'boolean' },
    config: { type: 'string' },
  });
  if (positionals.length < 1 || positionals.length > 2) throw usageError('logs', `name a run id and at most one node, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`);
  const [topRunId, given] = positionals as [string, string | undefined];
  const attempt = values.attempt === undefined ? undefined : Number(values.attempt);
  if (attempt !== undefined && !(Number.isInteger(attempt) && attempt >= 1)) throw usageError('logs', `--attempt must be a whole number ≥ 1, got "${String(values.attempt)}"`);
  if (attempt !== undefined && given === undefined) throw usageError('logs', '--attempt needs a node: gantry logs <runId> <node> --attempt n');
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const store = await openStore(loaded, io.cwd, 'read');
  try {
    const top = await store.getRun(topRunId);
    if (top === undefined) throw new GantryError('RUN_NOT_FOUND', `no run ${topRunId} in ${storeWhere(store, io.cwd)}; "gantry runs" lists the runs there`);
    // A node of a sub-flow run (given as its place) is read as that run's node.
    const { record, node } = await logsTarget(store, top, given);
    const runId = record.runId;
    const filter = { ...(node === undefined ? {} : { node }), ...(attempt === undefined ? {} : { attempt }) };
    const p = printer(io);
    const show = values.json === true ? (l: PlacedLine) => p.out(JSON.stringify(jsonLine(l))) : (l: PlacedLine) => p.out(textLine(l, p));
    // The run and its sub-flow runs under `node`, as they are found, and how many events of each
    // have been read: a follow reads and prints only what came after (by the journal's seq). A run
    // seen ended is read once more, its sub-flow runs listed once more (a run makes them before it
    // ends), then no more.
    const ids = [runId];
    const known = new Set(ids);
    const read = new Map<string, number>();
    const ended = new Set<string>();
    let printed = 0;
    for (;;) {
      // The statuses first, in one read: a run that had ended then has all its events and sub-flow runs in what follows.
      const final = new Set((await readRuns(store, ids.filter((id) => !ended.has(id)))).filter((r) => isFinal(r.status)).map((r) => r.runId));
      const fresh: PlacedLine[] = [];
      const drops: DroppedLines[] = [];
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (ended.has(id)) continue;
        for (const child of await store.listRuns({ parentRunId: id })) {
          if (!known.has(child.runId) && underNode(runId, child.runId, node)) {
            known.add(child.runId);
            ids.push(child.runId);
          }
        }
        if (final.has(id)) ended.add(id);
        const seen = read.get(id) ?? 0;
        const events = await readEventsAfter(store, id, seen);
        if (events.length === 0) continue;
        read.set(id, seen + events.length);
        const { lines, dropped } = linesOf(runId, id, events, filter);
        fresh.push(...lines);
        drops.push(...dropped);
      }
      // Runs write at once: their lines are merged by time, each run's in its own order.
      fresh.sort((a, b) => a.at - b.at);
      for (const line of fresh) show(line);
      if (values.json !== true) for (const d of drops) p.out(p.outStyle.yellow(`… ${d.dropped} line${d.dropped === 1 ? '' : 's'} of ${d.path} #${d.attempt} dropped: the attempt or the run reached its bound (logs in the configuration)`));
      printed += fresh.length;
      if (values.follow !== true || ids.every((id) => ended.has(id))) break;
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS));
    }
    if (printed === 0 && values.json !== true) p.out(`no log lines kept for run ${runId}${node === undefined ? '' : ` node ${node}`}${attempt === undefined ? '' : ` attempt ${attempt}`}`);
    return EXIT.succeeded;
  } finally {
    await store.close();
  }
}

function isFinal(status: string | undefined): boolean {
  return status !== undefined && status !== 'running' && status !== 'waiting';
}

function clockTime(at: number): string {
  const d = new Date(at);
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function textLine(l: PlacedLine, p: Printer): string {
  const s = p.outStyle;
  const source = l.level === undefined ? l.source : `${l.source} ${l.level}`;
  // A program's output, shown escaped where it would act on the terminal (DESIGN §11); --json gives it as it came.
  return `${s.dim(clockTime(l.at))}  ${l.path} #${l.attempt}  ${s.dim(source)}  ${oneLine(l.text)}`;
}

function jsonLine(l: PlacedLine) {
  return { run: l.runId, path: l.path, node: l.nodeId, attempt: l.attempt, ...(l.item === undefined ? {} : { item: l.item }), at: new Date(l.at).toISOString(), source: l.source, ...(l.level === undefined ? {} : { level: l.level }), text: l.text };
}
