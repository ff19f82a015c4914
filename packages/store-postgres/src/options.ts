import { hostname } from 'node:os';
import { GantryError } from '@gantry/engine';

/** What the store logs through: pino's shape (`gantry serve` passes its logger). */
export interface StoreLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** How to open a Postgres store. Every field has a default. */
export interface PostgresStoreOptions {
  /**
   * `write` inspects the database, creates or migrates the schema (refusing another program's
   * database, a newer schema, a role that cannot write), joins the peers and renews the leases of
   * the runs it holds. `read` only reads (any role that may SELECT): a database without Gantry's
   * schema reads as a store with no runs. @default 'write'
   */
  readonly mode?: 'write' | 'read';
  /** What this process is, as the peers list shows it: `serve`, `run`, `approve`, … @default 'process' */
  readonly kind?: string;
  /** How long a claim on a run lasts without a renewal, in ms: a process silent that long loses its runs to the others. @default 5000 */
  readonly leaseMs?: number;
  /** How often the leases are renewed, in ms; less than `leaseMs`. @default leaseMs / 3 */
  readonly heartbeatMs?: number;
  /** Connections in the pool (and one more for a peer's wake-ups). @default 4 */
  readonly poolSize?: number;
  /** How long to wait for a connection before the database counts as unreachable, in ms. @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * Hand a top-level run that comes to wait back to the database, holding no lease, until its
   * earliest timer is due or a decision is given (gantry serve). Off for commands that wait at
   * the terminal (gantry run). @default false
   */
  readonly park?: boolean;
  /** A run is handed back only if its earliest timer is at least this far away, in ms. @default 10000 */
  readonly parkAfterMs?: number;
  /** The first wait before a commit is sent again to a database that went away, in ms; doubled each time. @default 100 */
  readonly retryBaseMs?: number;
  /** The longest wait between two tries, in ms. @default 5000 */
  readonly retryMaxMs?: number;
  /** @default a logger that says nothing */
  readonly logger?: StoreLogger;
  /** The engine's clock (timers are in its time), for `parkAfterMs`. @default Date.now */
  readonly clock?: () => number;
  /** The Gantry version, recorded with the peer and with each migration. @default 'unknown' */
  readonly version?: string;
  /** Where this process answers HTTP, for the peers list. @default none */
  readonly address?: () => string | undefined;
  /** This process's id among the peers. @default host, pid and a random part */
  readonly peerId?: string;
}

export interface ResolvedStoreOptions {
  readonly mode: 'write' | 'read';
  readonly kind: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly park: boolean;
  readonly parkAfterMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly logger: StoreLogger;
  readonly clock: () => number;
  readonly version: string;
  readonly address: () => string | undefined;
  readonly host: string;
}

const SILENT: StoreLogger = { info() {}, warn() {}, error() {} };

function positiveInteger(options: PostgresStoreOptions, key: keyof PostgresStoreOptions, fallback: number, min = 1): number {
  const value = options[key] ?? fallback;
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min)) {
    throw new GantryError('CONFIG_INVALID', `openPostgresStore: expected ${key} to be an integer ≥ ${min}, got ${JSON.stringify(value)} (${typeof value})`);
  }
  return value;
}

export function resolveStoreOptions(options: PostgresStoreOptions): ResolvedStoreOptions {
  const mode = options.mode ?? 'write';
  if (mode !== 'write' && mode !== 'read') throw new GantryError('CONFIG_INVALID', `openPostgresStore: expected mode to be 'write' or 'read', got ${JSON.stringify(mode)}`);
  const leaseMs = positiveInteger(options, 'leaseMs', 5000, 100);
  const heartbeatMs = positiveInteger(options, 'heartbeatMs', Math.max(1, Math.floor(leaseMs / 3)));
  if (heartbeatMs >= leaseMs) throw new GantryError('CONFIG_INVALID', `openPostgresStore: expected heartbeatMs to be less than leaseMs (${leaseMs}), got ${heartbeatMs}`);
  const retryBaseMs = positiveInteger(options, 'retryBaseMs', 100);
  const retryMaxMs = positiveInteger(options, 'retryMaxMs', 5000);
  if (retryMaxMs < retryBaseMs) throw new GantryError('CONFIG_INVALID', `openPostgresStore: expected retryMaxMs to be at least retryBaseMs (${retryBaseMs}), got ${retryMaxMs}`);
  const park = options.park ?? false;
  if (typeof park !== 'boolean') throw new GantryError('CONFIG_INVALID', `openPostgresStore: expected park to be a boolean, got ${JSON.stringify(park)}`);
  return Object.freeze({
    mode,
    kind: options.kind ?? 'process',
    leaseMs,
    heartbeatMs,
    poolSize: positiveInteger(options, 'poolSize', 4),
    connectTimeoutMs: positiveInteger(options, 'connectTimeoutMs', 5000),
    park,
    parkAfterMs: positiveInteger(options, 'parkAfterMs', 10_000, 0),
    retryBaseMs,
    retryMaxMs,
    logger: options.logger ?? SILENT,
    clock: options.clock ?? Date.now,
    version: options.version ?? 'unknown',
    address: options.address ?? (() => undefined),
    host: hostname(),
  });
}
