import type { Logger } from 'pino';
import { GantryError, type CompiledFlow, type Engine } from '@gantry/engine';
import type { PrincipalTokens } from './principals.js';
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
  /** @default the engine's logger */
  readonly logger?: Logger;
  /** Resume the store's unfinished runs when the server starts listening. @default true */
  readonly resume?: boolean;
  /** How long close() lets requests in progress finish before it drops their connections, in ms. @default 10000 */
  readonly closeGraceMs?: number;
  /** The path prefix a reverse proxy serves Gantry under (`/gantry`): requests are answered with it or without it, and the web UI's links carry it. @default '' (none) */
  readonly basePath?: string;
  /** The web UI under /ui: the folder of its built files, or false for no UI. @default the files built in @gantry/ui */
  readonly ui?: { readonly dir?: string } | false;
  /** How often the live streams (GET /runs/:id/events, GET /events) send a heartbeat, in ms. @default 15000 */
  readonly heartbeatMs?: number;
}

export interface ResolvedServerOptions {
  readonly engine: Engine;
  readonly flows: readonly CompiledFlow[];
  readonly credentials: (name: string) => string | undefined;
  readonly describeCredential: (name: string) => string;
  readonly principals: PrincipalTokens | undefined;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  readonly resume: boolean;
  readonly closeGraceMs: number;
  readonly basePath: string;
  /** undefined: no UI; a dir of undefined: @gantry/ui is not installed. */
  readonly ui: { readonly dir: string | undefined } | undefined;
  readonly heartbeatMs: number;
}

export const DEFAULT_BODY_LIMIT = 25 * 1024 * 1024;

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
  for (const key of ['credentials', 'describeCredential'] as const) {
    expect(options[key] === undefined || typeof options[key] === 'function', key, 'a function', options[key]);
  }
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  expect(Number.isInteger(heartbeatMs) && heartbeatMs >= 10, 'heartbeatMs', 'an integer ≥ 10', heartbeatMs);
  const ui = options.ui ?? {};
  expect(ui === false || (typeof ui === 'object' && ui !== null && (ui.dir === undefined || typeof ui.dir === 'string')), 'ui', 'false or { dir?: string }', ui);
  const principals = options.principals ?? (engine.options.principals as PrincipalTokens | undefined);
  expect(principals === undefined || (typeof principals === 'object' && principals !== null && !Array.isArray(principals)), 'principals', 'an object', principals);
  return Object.freeze({
    engine,
    flows,
    credentials: options.credentials ?? engine.options.credentials,
    describeCredential: options.describeCredential ?? ((name: string) => `the credential "${name}"`),
    principals,
    bodyLimitBytes,
    logger: options.logger ?? engine.options.logger,
    resume: options.resume ?? true,
    closeGraceMs,
    basePath: normalizeBasePath(options.basePath),
    ui: ui === false ? undefined : { dir: ui.dir ?? defaultUiDir() },
    heartbeatMs,
  });
}
