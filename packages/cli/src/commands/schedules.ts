import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { duration } from '../progress/board.js';
import { engineFromConfig, loadConfig } from '../setup.js';
import { openStore } from '../store.js';
import { when } from '../summarize.js';

export const schedulesHelp = `Usage: gantry schedules [--flows dir] [--json] [--config f]

Lists the schedule nodes of a flows folder — what "gantry serve --flows dir" starts on the clock —
with their next due time and their last run in the store. A due time's run is named by the flow,
the node and the time (schedule-<flow>-<node>-<hash>-<time>), so that one due time makes one
run, whatever the restarts and however many servers share the store.

Options:
  --flows dir   the folder of flow files (default: ./flows)
  --json        the schedules as JSON
  --config f    the configuration (its store.path) (default: ./gantry.config.json if present)`;

export async function schedulesCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('schedules', argv, { flows: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } });
  if (positionals.length > 0) throw usageError('schedules', `takes no arguments, got ${positionals.join(' ')}; name the flows folder with --flows`);
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const { loadFlowsFolder, scheduleSlots, lastRunOf } = await import('@gantry/server');
  const store = await openStore(loaded, io.cwd, 'read');
  try {
    const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {} });
    const folder = (values.flows as string | undefined) ?? 'flows';
    const slots = scheduleSlots(await loadFlowsFolder(engine, folder, io.cwd));
    const now = engine.options.clock.now();
    const rows = [];
    for (const slot of slots) {
      const next = slot.schedule.next(now);
      const last = await lastRunOf(store, slot, now);
      rows.push({
        flow: slot.flow.name,
        node: slot.nodeId,
        schedule: slot.schedule.describe,
        catch_up: slot.schedule.catchUp,
        next: next === undefined ? null : new Date(next).toISOString(),
        last_run: last === undefined ? null : { run_id: last.record.runId, due: new Date(last.due).toISOString(), status: last.record.status, missed_since: last.missed.length },
      });
    }
    const p = printer(io);
    if (values.json === true) {
      p.out(JSON.stringify(rows, null, 2));
      return EXIT.succeeded;
    }
    if (rows.length === 0) {
      p.out(`no schedule nodes in the flows of ${folder}`);
      return EXIT.succeeded;
    }
    for (const [i, r] of rows.entries()) {
      if (i > 0) p.out('');
      p.out(`${p.outStyle.bold(`${r.flow} › ${r.node}`)}  ${r.schedule}, catch_up ${r.catch_up}`);
      const nextAt = slots[i]!.schedule.next(now);
      p.out(`  next  ${nextAt === undefined ? 'none: past its end_at' : `${when(nextAt)} (in ${duration(nextAt - now)})`}`);
      const last = r.last_run;
      p.out(`  last  ${last === null ? 'no run yet among its last due times' : `${last.run_id} ${last.status}, due ${when(Date.parse(last.due))}${last.missed_since > 0 ? `; ${last.missed_since} due time${last.missed_since === 1 ? '' : 's'} since with no run (a server starts them as catch_up says)` : ''}`}`);
    }
    return EXIT.succeeded;
  } finally {
    await store.close();
  }
}
