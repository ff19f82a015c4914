import type { RunEvent } from '@gantry/engine';
import { parseCommandArgs, usageError } from '../args.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { engineFromConfig, loadConfig } from '../setup.js';
import { attachEngine, openStore, storeName } from '../store.js';
import { belongsTo, watchRun } from '../watch.js';
import { printLocalSummary } from './run.js';

export const retryHelp = `Usage: gantry retry <runId> [--from node] [--approve-as principal…] [--json] [--config f]

Retries a failed, rolled-back or cancelled run from where it failed, in its own journal: the
nodes whose failure ended it and every node after them run again as their next attempts, with
the same idempotency keys; every other node keeps its output, and a compensation already made
is not made again. A failed sub-flow runs again as a new child run. Fix the cause first (a
configuration, an agent, the environment): the run stays on the flow version it started with.
A running, waiting, succeeded or blocked run, or a sub-flow's run, is refused.

Options:
  --from node        run again from this node (and every node after it), succeeded ones included
  --approve-as name  approve every approval as this principal (repeatable, in order)
  --json             print every event as one JSON object per line
  --config f         the configuration (default: ./gantry.config.json if present)

Exit status: as gantry run: 0 succeeded, 1 failed / rolled back / cancelled, 2 not retryable or
usage, 3 blocked, 4 waiting for a human decision with no terminal to ask.`;

export async function retryCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('retry', argv, {
    from: { type: 'string' },
    'approve-as': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    config: { type: 'string' },
  });
  if (positionals.length !== 1) throw usageError('retry', `name exactly one run id, got ${positionals.length}`);
  const runId = positionals[0]!;
  const from = values.from as string | undefined;
  if (from === '') throw usageError('retry', '--from takes a node id');
  const json = values.json === true;
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const store = await openStore(loaded, io.cwd, 'write', { kind: 'retry' });
  try {
    const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {} });
    attachEngine(store, engine);
    // The journal as it ended, then what the retry adds (its run.retried first) as it happens.
    const before = await store.events(runId);
    const heard: RunEvent[] = [];
    const hear = engine.on('event', (e) => heard.push(e));
    let run;
    try {
      run = await engine.retry(runId, { ...(from === undefined ? {} : { from }), by: 'cli' });
    } finally {
      hear();
    }
    const options = { json, approveAs: (values['approve-as'] as string[] | undefined) ?? [], storeFile: storeName(store, io.cwd) };
    const code = await watchRun(engine, run, io, options, [...before, ...heard.filter((e) => belongsTo(e, run.id))]);
    if (loaded.isDefault && !json) await printLocalSummary(run.id, io);
    // The run has finished or waits: carrying it on did not crash this process.
    engine.close();
    return code;
  } finally {
    await store.close();
  }
}
