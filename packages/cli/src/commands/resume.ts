import type { RunEvent } from '@gantry/engine';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, mostUrgent, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { engineFromConfig, loadConfig } from '../setup.js';
import { attachEngine, openStore, storeName } from '../store.js';
import { belongsTo, watchRun } from '../watch.js';

export const resumeHelp = `Usage: gantry resume [runId] [--approve-as principal…] [--json] [--config f]

Continues stored runs from their journals: one run, or every unfinished one. Nodes that
succeeded do not run again; nodes that had started run again with the same idempotency key;
timers and approval deadlines keep their times. A run whose resumption crashed the process 3
times in a row (crash_loop in the configuration) is ended failed with CRASH_LOOP instead.

Options:
  --approve-as name  approve every approval as this principal (repeatable, in order)
  --json             print every event as one JSON object per line
  --config f         the configuration (default: ./gantry.config.json if present)

Exit status: as gantry run; with several runs the most urgent of theirs (1 failed, then 3
blocked, then 4 waiting, then 0); 0 when there was nothing to resume.`;

export async function resumeCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('resume', argv, {
    'approve-as': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    config: { type: 'string' },
  });
  if (positionals.length > 1) throw usageError('resume', `name at most one run id, got ${positionals.length}`);
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const store = await openStore(loaded, io.cwd, 'write', { kind: 'resume' });
  try {
    const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {} });
    attachEngine(store, engine);
    // Every run resumes at once, but they are shown one after the other: what a run does while an
    // earlier one is shown (coming to wait, say) must reach its own watch later.
    const history: RunEvent[] = [];
    const hear = engine.on('event', (e) => history.push(e));
    try {
      // Each run's journal as it was before resuming: what resuming adds is heard as it happens.
      const ids = positionals[0] === undefined ? (await store.listRuns({ status: ['running', 'waiting'], parentRunId: null })).map((r) => r.runId) : [positionals[0]];
      const stored = new Map<string, readonly RunEvent[]>();
      for (const id of ids) stored.set(id, await store.events(id));
      const runs = await engine.resume(positionals[0]);
      const p = printer(io);
      if (runs.length === 0) {
        if (values.json !== true) p.out('nothing to resume: every stored run has finished');
        return EXIT.succeeded;
      }
      let code: ExitCode = EXIT.succeeded;
      for (const run of runs) {
        const before = stored.get(run.id) ?? [];
        const options = { json: values.json === true, approveAs: (values['approve-as'] as string[] | undefined) ?? [], storeFile: storeName(store, io.cwd) };
        code = mostUrgent(code, await watchRun(engine, run, io, options, [...before, ...history.filter((e) => belongsTo(e, run.id))]));
      }
      // Every run has finished or waits: carrying them on did not crash this process.
      engine.close();
      return code;
    } finally {
      hear();
    }
  } finally {
    await store.close();
  }
}
