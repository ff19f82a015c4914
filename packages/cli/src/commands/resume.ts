import { relative } from 'node:path';
import type { RunEvent } from '@gantry/engine';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { engineFromConfig, loadConfig } from '../setup.js';
import { openStore, storePath } from '../store.js';
import { watchRun } from '../watch.js';

export const resumeHelp = `Usage: gantry resume [runId] [--approve-as principal…] [--json] [--config f]

Continues stored runs from their journals: one run, or every unfinished one. Nodes that
succeeded do not run again; nodes that had started run again with the same idempotency key;
timers and approval deadlines keep their times.

Options:
  --approve-as name  approve every approval as this principal (repeatable, in order)
  --json             print every event as one JSON object per line
  --config f         the configuration (default: ./gantry.config.json if present)

Exit status: as gantry run, for the last run resumed; 0 when there was nothing to resume.`;

export async function resumeCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('resume', argv, {
    'approve-as': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    config: { type: 'string' },
  });
  if (positionals.length > 1) throw usageError('resume', `name at most one run id, got ${positionals.length}`);
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const store = await openStore(loaded, io.cwd, 'write');
  try {
    const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {} });
    const history: RunEvent[] = [];
    const early = engine.on('event', (e) => history.push(e));
    const stored = positionals[0] === undefined ? undefined : store.events(positionals[0]);
    const runs = engine.resume(positionals[0]);
    early();
    const p = printer(io);
    if (runs.length === 0) {
      if (values.json !== true) p.out('nothing to resume: every stored run has finished');
      return EXIT.succeeded;
    }
    let code: ExitCode = EXIT.succeeded;
    const heard = new Set(history);
    for (const run of runs) {
      const before = stored ?? store.events(run.id).filter((e) => !heard.has(e));
      const options = { json: values.json === true, approveAs: (values['approve-as'] as string[] | undefined) ?? [], storeFile: relative(io.cwd, storePath(loaded, io.cwd)) };
      code = await watchRun(engine, run, io, options, [...before, ...history.filter((e) => e.runId === run.id)]);
    }
    return code;
  } finally {
    store.close();
  }
}
