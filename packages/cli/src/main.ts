import { EXIT, type ExitCode } from './exit-codes.js';
import { printer, processIo, type Io } from './io.js';
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
  'RUN_NOT_RETRYABLE',
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

/** What a command's module gives: its help and the command itself. */
interface CommandModule {
  readonly help: string;
  readonly run: (argv: string[], io: Io) => Promise<ExitCode>;
}

interface Command {
  readonly summary: string;
  /**
   * The command's module, imported only when the command runs or its help is asked for: each
   * loads what it needs (validate no SQLite, HTTP client or server), and `gantry --help` none.
   */
  readonly load: () => Promise<CommandModule>;
}

const COMMANDS: Record<string, Command> = {
  validate: { summary: 'check flow files and list every problem', load: () => import('./commands/validate.js').then((m) => ({ help: m.validateHelp, run: m.validateCommand })) },
  graph: { summary: 'print a flow as a Mermaid or Graphviz diagram', load: () => import('./commands/graph.js').then((m) => ({ help: m.graphHelp, run: m.graphCommand })) },
  run: { summary: 'run a flow, with live progress', load: () => import('./commands/run.js').then((m) => ({ help: m.runHelp, run: m.runCommand })) },
  runs: { summary: 'list the stored runs', load: () => import('./commands/runs.js').then((m) => ({ help: m.runsHelp, run: m.runsCommand })) },
  show: { summary: "a run's timeline: nodes, times, inputs, outputs, decisions, errors", load: () => import('./commands/runs.js').then((m) => ({ help: m.showHelp, run: m.showCommand })) },
  logs: { summary: "what a run's nodes logged, attempt by attempt; --follow while it runs", load: () => import('./commands/logs.js').then((m) => ({ help: m.logsHelp, run: m.logsCommand })) },
  resume: { summary: 'carry on stored runs from their journals', load: () => import('./commands/resume.js').then((m) => ({ help: m.resumeHelp, run: m.resumeCommand })) },
  retry: { summary: 'retry a failed, rolled-back or cancelled run from where it failed', load: () => import('./commands/retry.js').then((m) => ({ help: m.retryHelp, run: m.retryCommand })) },
  approve: { summary: "approve a stored run's waiting approval", load: () => import('./commands/decide.js').then((m) => ({ help: m.approveHelp, run: m.approveCommand })) },
  reject: { summary: "reject a stored run's waiting approval", load: () => import('./commands/decide.js').then((m) => ({ help: m.rejectHelp, run: m.rejectCommand })) },
  cancel: { summary: 'cancel a stored run', load: () => import('./commands/decide.js').then((m) => ({ help: m.cancelHelp, run: m.cancelCommand })) },
  serve: { summary: 'serve webhooks, the approvals and runs API, and metrics over HTTP', load: () => import('./commands/serve.js').then((m) => ({ help: m.serveHelp, run: m.serveCommand })) },
  schedules: { summary: 'list the schedule nodes of a flows folder with their next and last runs', load: () => import('./commands/schedules.js').then((m) => ({ help: m.schedulesHelp, run: m.schedulesCommand })) },
  test: { summary: 'run flow tests on a fake clock against scripted agents and connectors', load: () => import('./commands/test.js').then((m) => ({ help: m.testHelp, run: m.testCommand })) },
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
    (name === undefined ? p.err : p.out)(command === undefined ? mainHelp() : (await command.load()).help);
    return name === undefined ? EXIT.invalid : EXIT.succeeded;
  }
  if (name === '-v' || name === '--version') {
    p.out(version());
    return EXIT.succeeded;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    const { closest } = await import('@gantry/engine/validation');
    const suggestion = closest(name, Object.keys(COMMANDS));
    p.err(`gantry: unknown command "${name}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`);
    p.err('Run "gantry --help" for the list of commands.');
    return EXIT.invalid;
  }
  try {
    const loaded = await command.load();
    if (rest.includes('-h') || rest.includes('--help')) {
      p.out(loaded.help);
      return EXIT.succeeded;
    }
    let args = rest;
    if (!NO_STORE.has(name)) {
      const [{ takeStoreOption }, { selectStore }] = await Promise.all([import('./args.js'), import('./store.js')]);
      let store: string | undefined;
      ({ store, rest: args } = takeStoreOption(name, rest));
      selectStore(store, io.env);
    }
    return await loaded.run(args, io);
  } catch (error) {
    // The command has loaded the engine already: importing it here costs nothing.
    const { isGantryError } = await import('@gantry/engine/validation');
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
