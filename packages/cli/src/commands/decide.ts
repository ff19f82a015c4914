import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { engineFromConfig, loadConfig } from '../setup.js';
import { attachEngine, isPostgres, openStore } from '../store.js';

const decideHelp = (verb: 'approve' | 'reject') => `Usage: gantry ${verb} <runId> <nodeId> --as <principal> [--comment c] [--config f]

${verb === 'approve' ? 'Approves' : 'Rejects'} a stored run's waiting approval as a principal: only a holder of a listed
role may decide, the run's initiator may not approve unless the node allows it, and not after
the deadline. The decision is kept in the run's journal; "gantry resume <runId>" carries the
run on. While a "gantry run" of this folder is still going, answer at its prompt instead: one
process writes the store at a time.`;

export const approveHelp = decideHelp('approve');
export const rejectHelp = decideHelp('reject');

function decideCommand(verb: 'approve' | 'reject') {
  return async (argv: string[], io: Io): Promise<ExitCode> => {
    const { values, positionals } = parseCommandArgs(verb, argv, {
      as: { type: 'string' },
      comment: { type: 'string' },
      config: { type: 'string' },
    });
    if (positionals.length !== 2) throw usageError(verb, `name a run id and a node id, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`);
    if (typeof values.as !== 'string' || values.as === '') throw usageError(verb, '--as <principal> is required: who decides');
    const [runId, nodeId] = positionals as [string, string];
    const loaded = loadConfig(values.config as string | undefined, io.cwd);
    const store = await openStore(loaded, io.cwd, 'write', { kind: verb });
    try {
      const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {} });
      attachEngine(store, engine);
      await engine.decide(runId, nodeId, {
        principal: values.as,
        decision: verb,
        channel: 'cli',
        ...(typeof values.comment === 'string' ? { comment: values.comment } : {}),
      });
      const next = isPostgres(store) ? 'a gantry serve peer on this database carries it on (or "gantry resume ' + runId + '")' : `continue it with "gantry resume ${runId}"`;
      printer(io).out(`${verb === 'approve' ? 'approved' : 'rejected'} "${nodeId}" of run ${runId} as ${values.as}; ${next}`);
      return EXIT.succeeded;
    } finally {
      await store.close();
    }
  };
}

export const approveCommand = decideCommand('approve');
export const rejectCommand = decideCommand('reject');

export const cancelHelp = `Usage: gantry cancel <runId> [--config f]

Cancels a stored unfinished run (and its sub-flow runs): every node not yet ended is recorded as
skipped and the run ends cancelled. A run that a "gantry run" is still running is cancelled
there, with Ctrl-C.`;

export async function cancelCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('cancel', argv, { config: { type: 'string' } });
  if (positionals.length !== 1) throw usageError('cancel', `name exactly one run id, got ${positionals.length}`);
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const store = await openStore(loaded, io.cwd, 'write', { kind: 'cancel' });
  try {
    const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {} });
    attachEngine(store, engine);
    await engine.cancel(positionals[0]!);
    printer(io).out(`cancelled run ${positionals[0]}`);
    return EXIT.succeeded;
  } finally {
    await store.close();
  }
}
