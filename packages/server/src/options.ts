import type { Logger } from 'pino';
import { GantryError, principalNameClashes, type CompiledFlow, type Engine } from '@gantry/engine';
import type { PrincipalTokens } from './principals.js';
import type { ClusterView } from './cluster.js';
import { defaultUiDir, normalizeBasePath } from './ui-files.js';

/** Options of {@link createServer}; every field but `engine` has a documented default. */
export interface ServerOptions {
  /** The engine that runs the flows; its store is where runs are read and written. */
  readonly engine: Engine;
  /** The flows whose webhook nodes are served (those with an `endpoint`). @default [] */
  readonly flows?: readonly CompiledFlow[];
  /** Credential name → value, for webhook authentication. @default the engine's `credentials` */
  readonly credentials?: (name: string) => string | undefined;
  /** Where a credential is looked for, in words, for start-up errors. @default `the credential "<name>"` */
  readonly describeCredential?: (name: string) => string;
  /** Approvers with the sha256 of their API tokens (the configuration's `principals`). @default the engine's principals */
  readonly principals?: PrincipalTokens;
  /** A webhook body's largest size in bytes. @default 26214400 (25 MiB, GitHub's cap on a payload) */
  readonly bodyLimitBytes?: number;
  /**
   * Request body bytes held in memory at once, across all requests; a body that does not fit is
   * answered 503 with Retry-After. At least `bodyLimitBytes`. @default 67108864 (64 MiB), or `bodyLimitBytes` if larger
   */
  readonly bufferedBytesLimit?: number;
  /** Connections open at once; those beyond are answered 503 with Retry-After (GET /health excepted) and closed. @default 256 */
  readonly connectionLimit?: number;
  /** How deep a JSON body may nest arrays and objects; deeper is answered 400. @default 100 */
  readonly jsonDepthLimit?: number;
  /** How long a client has to send a request's headers, in ms (slow senders are cut off, 408). @default 10000 */
  readonly headersTimeoutMs?: number;
  /** How long a client has to send a whole request, headers and body, in ms (408). At least `headersTimeoutMs`. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** @default the engine's logger */
  readonly logger?: Logger;
  /** Resume the store's unfinished runs when the server starts listening. @default true */
  readonly resume?: boolean;
  /** Start the runs of the flows' schedule nodes at their due times (DESIGN §12) once listening. @default true */
  readonly schedules?: boolean;
  /** How long close() lets requests in progress finish before it drops their connections, in ms. @default 10000 */
  readonly closeGraceMs?: number;
  /** The path prefix a reverse proxy serves Gantry under (`/gantry`): requests are answered with it or without it, and the web UI's links carry it. @default '' (none) */
  readonly basePath?: string;
  /** The web UI under /ui: the folder of its built files, or false for no UI. @default the files built in @gantry/ui */
  readonly ui?: { readonly dir?: string } | false;
  /** How often the live streams (GET /runs/:id/events, GET /events) send a heartbeat, in ms. @default 15000 */
  readonly heartbeatMs?: number;
  /**
   * The peers this server belongs to, on a store several processes share (DESIGN §9): GET /peers,
   * the lease metrics, and live streams that follow what the other peers write (polled every
   * `pollMs` while a stream is open). Pass `resume: false` too: a peer claims runs rather than resuming all. @default none
   */
  readonly cluster?: ClusterView;
}

export interface ResolvedServerOptions {
  readonly engine: Engine;
  readonly flows: readonly CompiledFlow[];
  readonly credentials: (name: string) => string | undefined;
  readonly describeCredential: (name: string) => string;
  readonly principals: PrincipalTokens | undefined;
  readonly bodyLimitBytes: number;
  readonly bufferedBytesLimit: number;
  readonly connectionLimit: number;
  readonly jsonDepthLimit: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  readonly resume: boolean;
  readonly schedules: boolean;
  readonly closeGraceMs: number;
  readonly basePath: string;
  /** undefined: no UI; a dir of undefined: @gantry/ui is not installed. */
  readonly ui: { readonly dir: string | undefined } | undefined;
  readonly heartbeatMs: number;
  readonly cluster: ClusterView | undefined;
}

export const DEFAULT_BODY_LIMIT = 25 * 1024 * 1024;

/** The defaults of the options that bound what clients may make the server hold (DESIGN §11). */
export const SERVER_LIMIT_DEFAULTS = {
  bufferedBytesLimit: 64 * 1024 * 1024,
  connectionLimit: 256,
  // GitHub's payloads nest about ten deep; what reads a payload later recurses.
  jsonDepthLimit: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
} as const;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value === 'object' ? 'an object' : JSON.stringify(value)} (${typeof value})`;
}

function expect(ok: boolean, field: string, expected: string, got: unknown): void {
  if (!ok) throw new GantryError('CONFIG_INVALID', `createServer: expected ${field} to be ${expected}, got ${describe(got)}`);
}

/** Merges defaults, validates and freezes the options once (STYLE §7). */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  expect(typeof options === 'object' && options !== null, 'options', 'an object', options);
  const { engine } = options;
  expect(typeof engine?.start === 'function' && typeof engine.on === 'function', 'engine', 'an engine from createEngine', engine);
  const flows = options.flows ?? [];
  expect(Array.isArray(flows) && flows.every((f) => typeof f?.hash === 'string' && f.nodes instanceof Map), 'flows', 'an array of compiled flows (engine.loadFlow, loadFlowsFolder)', flows);
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  expect(Number.isInteger(bodyLimitBytes) && bodyLimitBytes >= 1, 'bodyLimitBytes', 'an integer ≥ 1', bodyLimitBytes);
  const closeGraceMs = options.closeGraceMs ?? 10_000;
  expect(Number.isInteger(closeGraceMs) && closeGraceMs >= 0, 'closeGraceMs', 'an integer ≥ 0', closeGraceMs);
  const bufferedBytesLimit = options.bufferedBytesLimit ?? Math.max(SERVER_LIMIT_DEFAULTS.bufferedBytesLimit, bodyLimitBytes);
  expect(Number.isInteger(bufferedBytesLimit) && bufferedBytesLimit >= bodyLimitBytes, 'bufferedBytesLimit', `an integer ≥ bodyLimitBytes (${bodyLimitBytes}), so that a body of the largest size can be read`, bufferedBytesLimit);
  const limits = {
    connectionLimit: options.connectionLimit ?? SERVER_LIMIT_DEFAULTS.connectionLimit,
    jsonDepthLimit: options.jsonDepthLimit ?? SERVER_LIMIT_DEFAULTS.jsonDepthLimit,
    headersTimeoutMs: options.headersTimeoutMs ?? SERVER_LIMIT_DEFAULTS.headersTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? SERVER_LIMIT_DEFAULTS.requestTimeoutMs,
  };
  for (const [key, value] of Object.entries(limits)) expect(Number.isInteger(value) && value >= 1, key, 'an integer ≥ 1', value);
  expect(limits.requestTimeoutMs >= limits.headersTimeoutMs, 'requestTimeoutMs', `an integer ≥ headersTimeoutMs (${limits.headersTimeoutMs}): the headers are part of the request`, limits.requestTimeoutMs);
  for (const key of ['credentials', 'describeCredential'] as const) {
    expect(options[key] === undefined || typeof options[key] === 'function', key, 'a function', options[key]);
  }
  const cluster = options.cluster;
  expect(
    cluster === undefined || (typeof cluster === 'object' && cluster !== null && typeof cluster.peers === 'function' && typeof cluster.heads === 'function' && Number.isInteger(cluster.pollMs) && cluster.pollMs >= 10),
    'cluster',
    '{ peerId, peers(), stats, onClaim(), heads(), pollMs ≥ 10 }',
    cluster,
  );
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  expect(Number.isInteger(heartbeatMs) && heartbeatMs >= 10, 'heartbeatMs', 'an integer ≥ 10', heartbeatMs);
  const ui = options.ui ?? {};
  expect(ui === false || (typeof ui === 'object' && ui !== null && (ui.dir === undefined || typeof ui.dir === 'string')), 'ui', 'false or { dir?: string }', ui);
  const principals = options.principals ?? (engine.options.principals as PrincipalTokens | undefined);
  expect(principals === undefined || (typeof principals === 'object' && principals !== null && !Array.isArray(principals)), 'principals', 'an object', principals);
  const clash = principalNameClashes(principals)[0];
  if (clash !== undefined) throw new GantryError('CONFIG_INVALID', `createServer: principals: ${clash.message}`);
  return Object.freeze({
    engine,
    flows,
    credentials: options.credentials ?? engine.options.credentials,
    describeCredential: options.describeCredential ?? ((name: string) => `the credential "${name}"`),
    principals,
    bodyLimitBytes,
    bufferedBytesLimit,
    ...limits,
    logger: options.logger ?? engine.options.logger,
    resume: options.resume ?? true,
    schedules: options.schedules ?? true,
    closeGraceMs,
    basePath: normalizeBasePath(options.basePath),
    ui: ui === false ? undefined : { dir: ui.dir ?? defaultUiDir() },
    heartbeatMs,
    cluster: options.cluster,
  });
}
