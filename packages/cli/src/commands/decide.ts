import pino from 'pino';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { engineFromConfig, loadConfig } from '../setup.js';
import { openStore } from '../store.js';

const decideHelp = (verb: 'approve' | 'reject') => `Usage: gantry ${verb} <runId> <nodeId> --as <principal> [--comment c] [--config f]

${verb === 'approve' ? 'Approves' : 'Rejects'} a stored run's waiting approval as a principal (DESIGN §3.5: only holders of a
listed role, not the run's initiator unless allowed, before the deadline). The decision is kept
in the run's journal; "gantry resume <runId>" carries the run on.`;

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
    const store = openStore(loaded, io.cwd, 'write');
    try {
      const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {}, logger: pino({ level: 'silent' }) });
      engine.decide(runId, nodeId, {
        principal: values.as,
        decision: verb,
        channel: 'cli',
        ...(typeof values.comment === 'string' ? { comment: values.comment } : {}),
      });
      printer(io).out(`${verb === 'approve' ? 'approved' : 'rejected'} "${nodeId}" of run ${runId} as ${values.as}; continue it with "gantry resume ${runId}"`);
      return EXIT.succeeded;
    } finally {
      store.close();
    }
  };
}

export const approveCommand = decideCommand('approve');
export const rejectCommand = decideCommand('reject');

export const cancelHelp = `Usage: gantry cancel <runId> [--config f]

Cancels a stored unfinished run (and its sub-flow runs): every node not yet ended is recorded as
skipped and the run ends cancelled. A run that another gantry process is running is cancelled
there (Ctrl-C, or the HTTP API of gantry serve).`;

export async function cancelCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('cancel', argv, { config: { type: 'string' } });
  if (positionals.length !== 1) throw usageError('cancel', `name exactly one run id, got ${positionals.length}`);
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const store = openStore(loaded, io.cwd, 'write');
  try {
    const engine = await engineFromConfig(loaded, { env: io.env, store, fallbackNotifier: () => {}, logger: pino({ level: 'silent' }) });
    engine.cancel(positionals[0]!);
    printer(io).out(`cancelled run ${positionals[0]}`);
    return EXIT.succeeded;
  } finally {
    store.close();
  }
}
