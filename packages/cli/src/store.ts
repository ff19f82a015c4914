import { dirname, relative, resolve } from 'node:path';
import { GantryError, type Awaitable, type Engine, type RunStore } from '@gantry/engine';
import type { PostgresStore, StoreLogger } from '@gantry/store-postgres';
import type { LoadedConfig } from './setup.js';
import { gantryVersion } from './version.js';

/** A store a command opened: the RunStore contract, closed when the command ends. */
export type CliStore = RunStore & { close(): Awaitable<void> };

/** Where the run store is: a SQLite file, or a Postgres database several processes share. */
export type StoreChoice = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string; readonly from: string };

/** What main was given for the command it runs: `--store`, and the environment store.postgres.url_env is read from. */
let selection: { flag: string | undefined; env: NodeJS.ProcessEnv } = { flag: undefined, env: process.env };

/** Set by main for each command: the --store option (a file, or a postgres:// URL) and the environment. */
export function selectStore(flag: string | undefined, env: NodeJS.ProcessEnv): void {
  selection = { flag, env };
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * The run store's file: `--store`, the configuration's `store.path` (relative to it), else
 * .gantry/gantry.db here; for a Postgres store, where its URL comes from (for messages: see
 * also storeName).
 */
export function storePath(loaded: LoadedConfig, cwd: string): string {
  const choice = storeChoice(loaded, cwd);
  if (choice.kind === 'sqlite') return choice.path;
  return choice.from;
}

/** `--store` first, then the configuration's `store` (its postgres URL from the environment, never from the file), else .gantry/gantry.db. */
export function storeChoice(loaded: LoadedConfig, cwd: string): StoreChoice {
  const { flag, env } = selection;
  if (flag !== undefined) {
    if (POSTGRES_URL.test(flag)) return { kind: 'postgres', url: flag, from: 'the postgres:// URL given with --store' };
    return { kind: 'sqlite', path: resolve(cwd, flag) };
  }
  const store = loaded.config.store;
  const postgres = store?.postgres;
  if (postgres !== undefined) {
    const where = loaded.path === undefined ? 'the configuration' : relative(cwd, loaded.path) || loaded.path;
    if (store?.path !== undefined) throw new GantryError('CONFIG_INVALID', `${where}: store: expected either path (a SQLite file) or postgres, got both`);
    const url = env[postgres.url_env];
    if (url === undefined || url === '') {
      throw new GantryError('CONFIG_INVALID', `${where}: store.postgres.url_env names the environment variable ${postgres.url_env}, which is not set: set it to the database's URL (postgres://user:password@host:5432/gantry)`);
    }
    if (!POSTGRES_URL.test(url)) throw new GantryError('CONFIG_INVALID', `the environment variable ${postgres.url_env} (store.postgres.url_env): expected a postgres:// URL, got a value of ${url.length} characters that is not one`);
    return { kind: 'postgres', url, from: `the database in ${postgres.url_env}` };
  }
  const configured = store?.path;
  if (configured === undefined) return { kind: 'sqlite', path: resolve(cwd, '.gantry', 'gantry.db') };
  return { kind: 'sqlite', path: resolve(loaded.path === undefined ? cwd : dirname(loaded.path), configured) };
}

/** How a writing command takes part among a shared store's peers. */
export interface StoreUse {
  /** What this process is, in the peers list: `serve`, `run`, `approve`, … */
  readonly kind?: string;
  /** Hand runs that come to wait back to the database (gantry serve). */
  readonly park?: boolean;
  readonly logger?: StoreLogger;
  /** Where this process answers HTTP, for the peers list. */
  readonly address?: () => string | undefined;
}

/**
 * Opens the store: `write` for commands that change runs (on SQLite one process at a time; on
 * Postgres any number), `read` for those that only look (they work while another process runs
 * flows).
 */
export async function openStore(loaded: LoadedConfig, cwd: string, mode: 'write' | 'read', use: StoreUse = {}): Promise<CliStore> {
  const choice = storeChoice(loaded, cwd);
  if (choice.kind === 'postgres') {
    // Loaded on first use: commands on SQLite never load node-postgres.
    const { openPostgresStore } = await import('@gantry/store-postgres');
    const settings: Partial<NonNullable<NonNullable<LoadedConfig['config']['store']>['postgres']>> = loaded.config.store?.postgres ?? {};
    return openPostgresStore(choice.url, {
      mode,
      kind: use.kind ?? 'process',
      park: use.park ?? false,
      version: gantryVersion(),
      ...(settings.lease_ms !== undefined ? { leaseMs: settings.lease_ms } : {}),
      ...(settings.pool_size !== undefined ? { poolSize: settings.pool_size } : {}),
      ...(settings.connect_timeout_ms !== undefined ? { connectTimeoutMs: settings.connect_timeout_ms } : {}),
      ...(settings.park_after_ms !== undefined ? { parkAfterMs: settings.park_after_ms } : {}),
      ...(use.logger !== undefined ? { logger: use.logger } : {}),
      ...(use.address !== undefined ? { address: use.address } : {}),
    });
  }
  // Loaded on first use: `gantry validate` and `graph` never load SQLite.
  const { openSqliteStore } = await import('@gantry/store-sqlite');
  return openSqliteStore(choice.path, { mode });
}

/** The store as messages name it: its file (relative to `cwd`), or its database (without the password). */
export function storeName(store: RunStore, cwd: string): string {
  if (isPostgres(store)) return store.target.display;
  const path = (store as { path?: string }).path;
  return path === undefined ? 'the run store' : relative(cwd, path) || path;
}

/**
 * "the store .gantry/gantry.db (each folder has its own)": where a command looked, for a message
 * that found nothing there. A Postgres store is by its database, shared by the folders that name it.
 */
export function storeWhere(store: RunStore, cwd: string): string {
  return `the store ${storeName(store, cwd)}${isPostgres(store) ? '' : ' (each folder has its own)'}`;
}

/** Lets a shared store drop the runs this process loses to another (its lease ran out). */
export function attachEngine(store: RunStore, engine: Engine): void {
  if (isPostgres(store)) store.attach(engine);
}

export function isPostgres(store: RunStore): store is PostgresStore {
  return typeof (store as Partial<PostgresStore>).claimReady === 'function';
}
