/**
 * Reaching the database: the pool, where it points (said without the password), and what a
 * failure of node-postgres means for the caller — a database that cannot be reached or refuses
 * the login (STORE_UNAVAILABLE), one that cannot be written (STORE_READ_ONLY), or a connection
 * lost while running, which is worth trying again.
 */
import pg from 'pg';
import { GantryError } from '@gantry/engine';

/** Where a store's database is, as messages name it: never with the password. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** `postgres://user@host:port/database` */
  readonly display: string;
}

export interface PoolOptions {
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
}

/** The URL's parts, checked: a `postgres://` or `postgresql://` URL naming a database. */
export function parseTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GantryError('CONFIG_INVALID', `expected the store's database as a URL postgres://user:password@host:port/database, got something that is not a URL (${describeText(url)})`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new GantryError('CONFIG_INVALID', `expected the store's database as a postgres:// URL, got a ${parsed.protocol}// URL`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  // A unix socket folder may be given as ?host=/path (libpq's way), as node-postgres reads it.
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  const port = Number(parsed.port || parsed.searchParams.get('port') || 5432);
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || process.env.USER || 'postgres';
  if (database === '') throw new GantryError('CONFIG_INVALID', `expected the store's database URL to name a database (postgres://…/gantry), got none in postgres://${user}@${host}:${port}/`);
  return { host, port, database, user, display: `postgres://${user}@${host}:${port}/${database}` };
}

/** Says what a text is without repeating it (it may hold a password). */
function describeText(text: string): string {
  return `${text.length} characters`;
}

export function createPool(url: string, options: PoolOptions): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'gantry',
  });
}

/** A client of its own (the LISTEN connection, the migration's advisory lock). */
export function createClient(url: string, connectTimeoutMs: number): pg.Client {
  return new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true, application_name: 'gantry' });
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT']);

function codeOf(error: unknown): string {
  return String((error as { code?: unknown } | undefined)?.code ?? '');
}

/**
 * Whether a failure is the connection's, not the statement's: the database went away, restarted,
 * refused new connections for a moment, or a transaction was chosen to break a deadlock. Trying
 * again later is right (a commit sent again is recognised, never written twice).
 */
export function isTransient(error: unknown): boolean {
  const code = codeOf(error);
  if (NETWORK_CODES.has(code)) return true;
  // 08: connection exception; 57P01-03: shut down, crashed, starting; 53300: too many connections;
  // 40001, 40P01: serialization failure, deadlock (the transaction was rolled back).
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || code === '40001' || code === '40P01') return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable/i.test(message);
}

/** What a failure to connect (or a lost connection) says to the person who configured the store. */
export function unavailable(target: Target, error: unknown): GantryError {
  const code = codeOf(error);
  const where = `the Postgres database ${target.display}`;
  let why: string;
  switch (code) {
    case '28P01':
      why = `refused the login of role "${target.user}": wrong password (28P01); check the URL's password`;
      break;
    case '28000':
      why = `refused the login of role "${target.user}" (28000: no pg_hba.conf entry allows it, or the role may not log in)`;
      break;
    case '3D000':
      why = `does not exist (3D000): create it (createdb ${target.database}) or name another in the URL`;
      break;
    case 'ECONNREFUSED':
      why = `refused the connection (ECONNREFUSED): is Postgres running there, and is the port right?`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      why = `cannot be found: the host "${target.host}" is unknown (${code})`;
      break;
    case 'ENOENT':
      why = `has no socket in ${target.host} (ENOENT): is Postgres running, with its socket there?`;
      break;
    case '57P03':
      why = 'is starting up or shutting down and takes no connections yet (57P03)';
      break;
    case '53300':
      why = 'has no connection left (53300, max_connections): fewer pool connections per peer (store.postgres.pool_size), or a higher max_connections';
      break;
    default: {
      const message = error instanceof Error ? error.message : String(error);
      why = /timeout/i.test(message) ? `did not answer in time (${message})` : `could not be used: ${code ? `${code}: ` : ''}${message}`;
    }
  }
  return new GantryError('STORE_UNAVAILABLE', `${where} ${why}; nothing was changed`, { cause: error, retryable: isTransient(error) });
}

/** The SQLSTATE of an error from the server, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = codeOf(error);
  return /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A GantryError for what the caller can act on (a lost database, a second completion, a write refused); other errors pass as they are. */
export function storeFailure(target: Target, error: unknown): unknown {
  if (error instanceof GantryError) return error;
  if (isTransient(error)) return unavailable(target, error);
  const state = sqlState(error);
  if (state === '23505' && (error as { constraint?: string }).constraint === 'completions_pkey') {
    const detail = (error as { detail?: string }).detail ?? '';
    return new GantryError('STORE_CONFLICT', `a second completion of a node was refused (${detail}); nothing of this write was recorded`, { cause: error });
  }
  if (state === '23503') return new GantryError('RUN_NOT_FOUND', `an event of a run never created in ${target.display} was refused; nothing of this write was recorded`, { cause: error });
  if (state === '25006' || state === '42501') {
    return new GantryError('STORE_READ_ONLY', `the Postgres database ${target.display} refused a write (${state}: ${(error as Error).message}); nothing of it was recorded`, { cause: error });
  }
  return error;
}
