import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { DeclaredNames } from '../name-checks.js';
import { GantryError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { systemClock, type Clock } from './clock.js';
import type { AgentRegistration, AgentTransport, Connector, ExecutorDefinition, FlowFunction } from './interfaces.js';
import { principalNameClashes, type PrincipalDirectory } from '../approvals.js';
import { MemoryStore, type RunStore } from './store.js';
import { resolveLimits, type EngineLimits, type EngineLimitsOptions } from '../value-limits.js';
import { resolveLogOptions, type LogOptions, type ResolvedLogOptions } from './log-options.js';

/** A notification from an error handler (DESIGN §3.4). */
export interface Notification {
  readonly runId: string;
  readonly flow: string;
  readonly severity: 'normal' | 'high';
  readonly message: string;
  readonly nodeId?: string;
  readonly status?: string;
}

export type Notifier = (notification: Notification) => Promise<void> | void;

/** Options of {@link createEngine}; every field is optional and documented with its default. */
export interface EngineOptions {
  /** Node executors. @default [] (register the built-ins from @gantry/executors) */
  executors?: readonly ExecutorDefinition<never>[];
  /** Functions for function nodes, by name. @default {} */
  functions?: Readonly<Record<string, FlowFunction>>;
  /** Agents by name: a transport, or a transport with a concurrency limit and compensations. @default {} */
  agents?: Readonly<Record<string, AgentTransport | AgentRegistration>>;
  /** Service connectors for external_api nodes. @default [] */
  connectors?: readonly Connector[];
  /**
   * Credential name → value resolver; flows name credentials, never hold them. Give a value
   * only for declared credentials: with `declared`, a node naming another one is refused
   * (CREDENTIAL_REFUSED) before its connector is called. @default none
   */
  credentials?: (name: string) => string | undefined;
  /**
   * Credential name → the origins (`https://api.github.com`) its value may be sent to; the
   * connectors refuse to send it anywhere else, redirects included (CREDENTIAL_REFUSED).
   * @default none: a credential goes only to the origin its connector was configured with (a
   * base URL), never to a URL from a flow
   */
  credentialOrigins?: (name: string) => readonly string[] | undefined;
  /** The run store. @default an in-memory store */
  store?: RunStore;
  /** @default the system clock */
  clock?: Clock;
  /** Run ids. @default time-ordered ids such as 20260101-120000-3f9a1c */
  ids?: () => string;
  /** Randomness for retry jitter. @default Math.random */
  random?: () => number;
  /** A pino logger; runs and nodes log through children of it. @default silent */
  logger?: Logger;
  /** Executor attempts at once across all runs. @default Infinity */
  concurrency?: number;
  /** Approver identities and roles; with none, a principal's name is its only role. @default none */
  principals?: PrincipalDirectory;
  /**
   * What the configuration declares (agents and their tasks, functions, services, credentials):
   * a flow this engine loads that names anything else is refused with its diagnostics.
   * @default not checked when loading (a run still needs what it names registered)
   */
  declared?: DeclaredNames;
  /**
   * The folder whose tree the sub-flow references of the flows inside it may name files in
   * (`gantry serve --flows`). @default each flow's own folder
   */
  flowsFolder?: string;
  /** Where error handlers' notifications go. @default the logger, at warn */
  notifier?: Notifier;
  /**
   * Size limits of node outputs, agent replies, connector answers and triggers (bytes of JSON),
   * and what one expression evaluation may do. @default DEFAULT_LIMITS (1 MiB each; see ExpressionLimits)
   */
  limits?: EngineLimitsOptions;
  /**
   * The crash-loop guard (DESIGN §11), on when the store keeps counts (`resumptions`): a run whose
   * resumption crashed the process `limit` times in a row is ended `failed` with CRASH_LOOP
   * instead of being resumed again. A resumption is taken back when the process lives
   * `survivalMs` after it (or `engine.close()` is called), and the count restarts when the run
   * makes progress. `limit: Infinity` turns the guard off.
   * @default { limit: 3, survivalMs: 30000 }
   */
  crashLoop?: CrashLoopOptions;
  /**
   * What each attempt keeps of what was logged during it (DESIGN §12): the executor's logger,
   * what agents and the programs they start print; bounded per attempt and per run, journaled
   * with the run as node.log events. `false` keeps nothing. @default LOG_DEFAULTS
   */
  logs?: LogOptions | false;
}

export interface CrashLoopOptions {
  /** Crashes in a row before a run is set aside: an integer ≥ 1, or Infinity (never). @default 3 */
  limit?: number;
  /** How long a process must live after resuming a run for that resumption not to count as a crash. @default 30000 */
  survivalMs?: number;
}

export interface ResolvedOptions {
  readonly executors: readonly ExecutorDefinition<never>[];
  readonly functions: Readonly<Record<string, FlowFunction>>;
  readonly agents: Readonly<Record<string, AgentTransport | AgentRegistration>>;
  readonly connectors: readonly Connector[];
  readonly credentials: (name: string) => string | undefined;
  readonly credentialOrigins: ((name: string) => readonly string[] | undefined) | undefined;
  readonly declared: DeclaredNames | undefined;
  readonly flowsFolder: string | undefined;
  readonly store: RunStore;
  readonly clock: Clock;
  /** The engine passes the run's start time: the default ids need not read the clock again. */
  readonly ids: (now?: number) => string;
  readonly random: () => number;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly principals: PrincipalDirectory;
  readonly notifier: Notifier | undefined;
  readonly limits: EngineLimits;
  readonly crashLoop: Readonly<Required<CrashLoopOptions>>;
  /** Undefined with `logs: false`. */
  readonly logs: ResolvedLogOptions | undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value === 'object' ? 'an object' : JSON.stringify(value)} (${typeof value})`;
}

function expect(ok: boolean, field: string, expected: string, got: unknown): void {
  if (!ok) throw new GantryError('CONFIG_INVALID', `createEngine: expected ${field} to be ${expected}, got ${describe(got)}`);
}

const OPTION_KEYS: readonly string[] = [
  'store',
  'executors',
  'functions',
  'agents',
  'connectors',
  'credentials',
  'credentialOrigins',
  'clock',
  'ids',
  'random',
  'logger',
  'concurrency',
  'limits',
  'principals',
  'declared',
  'flowsFolder',
  'crashLoop',
  'logs',
  'notifier',
] satisfies readonly (keyof EngineOptions)[];

/** Merges defaults, validates and freezes the options once (STYLE §7). */
export function resolveOptions(options: EngineOptions = {}): ResolvedOptions {
  expect(typeof options === 'object' && options !== null, 'options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new GantryError('CONFIG_INVALID', `createEngine: unknown option "${key}"${didYouMean(key, OPTION_KEYS)} (expected one of ${OPTION_KEYS.join(', ')})`);
    }
  }
  const { concurrency = Infinity } = options;
  expect(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1), 'concurrency', 'an integer ≥ 1 (or Infinity)', concurrency);
  for (const key of ['executors', 'connectors'] as const) {
    expect(options[key] === undefined || Array.isArray(options[key]), key, 'an array', options[key]);
  }
  for (const key of ['functions', 'agents', 'principals'] as const) {
    const v = options[key];
    expect(v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v)), key, 'an object', v);
  }
  const clash = principalNameClashes(options.principals)[0];
  if (clash !== undefined) throw new GantryError('CONFIG_INVALID', `createEngine: principals: ${clash.message}`);
  for (const key of ['credentials', 'credentialOrigins', 'ids', 'random', 'notifier'] as const) {
    expect(options[key] === undefined || typeof options[key] === 'function', key, 'a function', options[key]);
  }
  expect(options.declared === undefined || (typeof options.declared === 'object' && options.declared !== null), 'declared', 'an object of name sets', options.declared);
  expect(options.flowsFolder === undefined || (typeof options.flowsFolder === 'string' && options.flowsFolder !== ''), 'flowsFolder', 'a folder path', options.flowsFolder);
  const crashLoop = resolveCrashLoop(options.crashLoop);
  return Object.freeze({
    executors: options.executors ?? [],
    functions: options.functions ?? {},
    agents: options.agents ?? {},
    connectors: options.connectors ?? [],
    credentials: options.credentials ?? (() => undefined),
    credentialOrigins: options.credentialOrigins,
    declared: options.declared,
    flowsFolder: options.flowsFolder === undefined ? undefined : resolve(options.flowsFolder),
    store: options.store ?? new MemoryStore(),
    clock: options.clock ?? systemClock,
    ids: options.ids ?? timeOrderedIds(options.clock ?? systemClock),
    random: options.random ?? Math.random,
    logger: options.logger ?? silentLogger(),
    concurrency,
    principals: options.principals,
    notifier: options.notifier,
    limits: resolveLimits(options.limits),
    crashLoop,
    logs: resolveLogOptions(options.logs),
  });
}

function resolveCrashLoop(options: CrashLoopOptions | undefined): Readonly<Required<CrashLoopOptions>> {
  expect(options === undefined || (typeof options === 'object' && options !== null && !Array.isArray(options)), 'crashLoop', 'an object', options);
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'limit' && key !== 'survivalMs') throw new GantryError('CONFIG_INVALID', `createEngine: unknown crashLoop option "${key}"${didYouMean(key, ['limit', 'survivalMs'])} (expected limit, survivalMs)`);
  }
  const { limit = 3, survivalMs = 30_000 } = options ?? {};
  expect(limit === Infinity || (Number.isInteger(limit) && limit >= 1), 'crashLoop.limit', 'an integer ≥ 1 (or Infinity)', limit);
  expect(Number.isInteger(survivalMs) && survivalMs >= 1, 'crashLoop.survivalMs', 'an integer ≥ 1 (milliseconds)', survivalMs);
  return Object.freeze({ limit, survivalMs });
}

/**
 * Ids that sort by start time and read well in a terminal: 20260101-120000-3f9a1c. Within one
 * second the suffix counts up from a random start, so ids stay unique and in order; the stamp is
 * formatted once a second.
 */
export function timeOrderedIds(clock: Clock): (at?: number) => string {
  let second = -1;
  let stamp = '';
  let counter = 0;
  return (at = clock.now()) => {
    const now = Math.floor(at / 1000);
    if (now !== second) {
      second = now;
      stamp = new Date(now * 1000).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      counter = Math.floor(Math.random() * 0x7fffff);
    }
    // Joined rather than concatenated: a concatenation of this length is a rope (a ConsString)
    // in V8, slower to hash and compare, and a run id is a key of several maps for the run's
    // life (a 1-node run took 15 % longer with one).
    return [stamp, (counter++ & 0xffffff).toString(16).padStart(6, '0')].join('-');
  };
}

/**
 * The default logger, which logs nothing. pino is loaded here, when an engine is made without a
 * logger, rather than with the engine's modules: a program that only validates flows never loads it.
 */
function silentLogger(): Logger {
  const pino = createRequire(import.meta.url)('pino') as typeof import('pino').default;
  return pino({ level: 'silent' });
}
