import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import pino from 'pino';
import { coerceParam, readFailure, type CompiledFlow, type JsonObject, type JsonValue, type RunEvent } from '@gantry/engine';
import { parseCommandArgs, usageError, type ParsedArgs } from '../args.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { readFlowText } from '../flow-files.js';
import { loadFlowTree } from '../flow-tree.js';
import { engineFromConfig, loadConfig, type LoadedConfig } from '../setup.js';
import { attachEngine, openStore, storeName, type CliStore } from '../store.js';
import { wrap } from '../progress/render.js';
import { watchRun } from '../watch.js';

export const runHelp = `Usage: gantry run <flow> [--param k=v…] [--input trigger.json] [--config f] [--approve-as principal…] [--json]

Runs a flow and shows every node's progress, and under a node the sub-flow run it started, at
any depth (a for_each as its items). Without a terminal, one line per finished node of every
depth. Waits for timers; asks for approvals at the terminal (or takes them from --approve-as).
A failure is summed up by what failed at the bottom, then where.

Options:
  --param k=v        a run parameter (repeatable); JSON values are parsed: --param steps=[10,100]
  --input file       the trigger payload (a webhook body) as JSON; - reads standard input
  --config file      the configuration (agents, principals, credentials…) (default: ./gantry.config.json if present)
  --approve-as name  approve every approval as this principal (repeatable, in order)
  --json             print every event as one JSON object per line instead of the live view
  --log-level level  engine logs on stderr: fatal, error, warn, info, debug (default: silent)
  -h, --help         show this help

Exit status: 0 succeeded, 1 failed / rolled back / cancelled, 2 invalid flow or usage, 3 blocked,
4 waiting for a human decision with no terminal to ask.`;

function parseParams(flow: CompiledFlow, raw: readonly string[]): JsonObject {
  const params: JsonObject = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError('run', `--param takes name=value, got "${item}"`);
    params[item.slice(0, eq)] = coerceParam(flow, item.slice(0, eq), item.slice(eq + 1));
  }
  return params;
}

function readTrigger(path: string | undefined, io: Io): JsonValue {
  if (path === undefined) return {};
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (cause) {
    throw usageError('run', `cannot read --input ${path}: ${readFailure(cause)}`);
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (cause) {
    throw usageError('run', `--input ${path} is not JSON: ${(cause as Error).message}`);
  }
}

export async function runCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('run', argv, {
    param: { type: 'string', multiple: true },
    input: { type: 'string' },
    config: { type: 'string' },
    'approve-as': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    'log-level': { type: 'string' },
  });
  if (positionals.length !== 1) throw usageError('run', `name exactly one flow file, got ${positionals.length}`);
  const json = values.json === true;
  const logLevel = String(values['log-level'] ?? 'silent');
  if (!['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(logLevel)) throw usageError('run', `--log-level must be silent, fatal, error, warn, info, debug or trace, got "${logLevel}"`);
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  readFlowText(positionals[0]!, io.cwd); // says "cannot read flows/x.json: no such file" as the user typed it
  if (loaded.isDefault) {
    const shown = relative(io.cwd, loaded.path!).startsWith('..') ? loaded.path! : relative(io.cwd, loaded.path!);
    io.err.write(`using the default configuration ${shown} (the local agent pack: no gantry.config.json in this folder)\n`);
  }
  const store = await openStore(loaded, io.cwd, 'write', { kind: 'run' });
  try {
    return await runWith(store, loaded, positionals[0]!, values, json, logLevel, io);
  } finally {
    await store.close();
  }
}

async function runWith(store: CliStore, loaded: LoadedConfig, file: string, values: ParsedArgs['values'], json: boolean, logLevel: string, io: Io): Promise<ExitCode> {
  const path = resolve(io.cwd, file);
  const engine = await engineFromConfig(loaded, {
    env: io.env,
    store,
    fallbackNotifier: () => {},
    logger: pino({ level: logLevel, redact: ['*.authorization', '*.token', '*.password', '*.secret'] }, pino.destination(2)),
  });
  attachEngine(store, engine);
  const flow = await engine.loadFlow(path);
  await loadFlowTree(engine, flow, loaded.config, loaded.path === undefined ? io.cwd : dirname(loaded.path));
  const params = parseParams(flow, (values.param as string[] | undefined) ?? []);
  const trigger = readTrigger(values.input as string | undefined, io);
  const approveAs = (values['approve-as'] as string[] | undefined) ?? [];

  const history: RunEvent[] = [];
  const early = engine.on('event', (e) => history.push(e));
  const run = await engine.start(flow, { params, trigger });
  early();
  const code = await watchRun(engine, run, io, { json, approveAs, storeFile: storeName(store, io.cwd) }, history);
  if (loaded.isDefault && !json) await printLocalSummary(run.id, io);
  return code;
}

/** With the local pack a run leaves a deployment's evidence on disk: says where. */
export async function printLocalSummary(runId: string, io: Io): Promise<void> {
  const { localSummary } = await import('@gantry/agents-local');
  for (const line of localSummary(runId, io.cwd)) {
    // Its lines are "  label         text": wrapped, the text stays in its column.
    for (const part of wrap(line.trimStart(), 80, line.length - line.trimStart().length, 16)) io.out.write(`${part}\n`);
  }
}

