import { closest, isGantryError } from '@gantry/engine';
import { graphCommand, graphHelp } from './commands/graph.js';
import { runCommand, runHelp } from './commands/run.js';
import { runsCommand, runsHelp, showCommand, showHelp } from './commands/runs.js';
import { resumeCommand, resumeHelp } from './commands/resume.js';
import { approveCommand, approveHelp, cancelCommand, cancelHelp, rejectCommand, rejectHelp } from './commands/decide.js';
import { validateCommand, validateHelp } from './commands/validate.js';
import { serveCommand, serveHelp } from './commands/serve.js';
import { testCommand, testHelp } from './commands/test.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printer, processIo, type Io } from './io.js';
import { takeStoreOption } from './args.js';
import { selectStore } from './store.js';
import { gantryVersion } from './version.js';


/** Errors that mean the flow, the configuration or the command line is wrong: exit 2. */
const EXIT_2 = new Set([
  'USAGE',
  'FLOW_INVALID',
  'FLOW_NOT_FOUND',
  'CONFIG_INVALID',
  'PARAM_INVALID',
  'EXECUTOR_NOT_FOUND',
  'FUNCTION_NOT_FOUND',
  'AGENT_NOT_FOUND',
  'CONNECTOR_NOT_FOUND',
  'RUN_NOT_FOUND',
  'RUN_FINISHED',
  'STORE_LOCKED',
  'STORE_INVALID',
  'STORE_READ_ONLY',
  'STORE_UNAVAILABLE',
  'RUN_HELD',
  'APPROVAL_NOT_WAITING',
  'APPROVAL_ALREADY_DECIDED',
  'APPROVAL_FORBIDDEN',
  'APPROVAL_EXPIRED',
]);

/** Commands that open no run store: --store is theirs to refuse, as any unknown option. */
const NO_STORE = new Set(['validate', 'graph', 'test']);

interface Command {
  readonly summary: string;
  readonly help: string;
  readonly run: (argv: string[], io: Io) => Promise<ExitCode>;
}

const COMMANDS: Record<string, Command> = {
  validate: { summary: 'check flow files and list every problem', help: validateHelp, run: validateCommand },
  graph: { summary: 'print a flow as a Mermaid or Graphviz diagram', help: graphHelp, run: graphCommand },
  run: { summary: 'run a flow, with live progress', help: runHelp, run: runCommand },
  runs: { summary: 'list the stored runs', help: runsHelp, run: runsCommand },
  show: { summary: "a run's timeline: nodes, times, inputs, outputs, decisions, errors", help: showHelp, run: showCommand },
  resume: { summary: 'carry on stored runs from their journals', help: resumeHelp, run: resumeCommand },
  approve: { summary: "approve a stored run's waiting approval", help: approveHelp, run: approveCommand },
  reject: { summary: "reject a stored run's waiting approval", help: rejectHelp, run: rejectCommand },
  cancel: { summary: 'cancel a stored run', help: cancelHelp, run: cancelCommand },
  serve: { summary: 'serve webhooks, the approvals and runs API, and metrics over HTTP', help: serveHelp, run: serveCommand },
  test: { summary: 'run flow tests on a fake clock against scripted agents and connectors', help: testHelp, run: testCommand },
};

function version(): string {
  return gantryVersion();
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const list = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n');
  return `Gantry ${version()}: a declarative workflow engine for JSON flow graphs.

Usage: gantry <command> [options]

Commands:
${list}

Run "gantry <command> --help" for a command's options. Every command that opens the run store
takes --store <file | postgres://…> (instead of the configuration's store).

Exit status: 0 succeeded, 1 failed, 2 invalid flow or usage, 3 blocked, 4 waiting.`;
}

/** Runs the gantry command line; returns the exit code rather than exiting, for tests. */
export async function main(argv: string[], io: Io = processIo()): Promise<ExitCode> {
  const p = printer(io);
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : COMMANDS[topic];
    (name === undefined ? p.err : p.out)(command?.help ?? mainHelp());
    return name === undefined ? EXIT.invalid : EXIT.succeeded;
  }
  if (name === '-v' || name === '--version') {
    p.out(version());
    return EXIT.succeeded;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    const suggestion = closest(name, Object.keys(COMMANDS));
    p.err(`gantry: unknown command "${name}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`);
    p.err('Run "gantry --help" for the list of commands.');
    return EXIT.invalid;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    p.out(command.help);
    return EXIT.succeeded;
  }
  try {
    let args = rest;
    let store: string | undefined;
    if (!NO_STORE.has(name)) ({ store, rest: args } = takeStoreOption(name, rest));
    selectStore(store, io.env);
    return await command.run(args, io);
  } catch (error) {
    if (isGantryError(error) && EXIT_2.has(error.code)) {
      p.err(error.message);
      return EXIT.invalid;
    }
    const message = error instanceof Error ? error.message : String(error);
    p.err(`gantry ${name}: ${message}`);
    if (io.env.GANTRY_DEBUG) p.err(error instanceof Error ? (error.stack ?? '') : '');
    return EXIT.failed;
  }
}
