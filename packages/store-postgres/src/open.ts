import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { GantryError } from '@gantry/engine';
import { createPool, parseTarget, unavailable, type Target } from './connect.js';
import { checkKind, checkWritable, inspect, migrate, type Inspection } from './migrate.js';
import { resolveStoreOptions, type PostgresStoreOptions } from './options.js';
import { PostgresStore } from './postgres-store.js';

/**
 * Opens the run store in the Postgres database at `url` (postgres://user:password@host:port/db).
 * Write mode inspects the database before anything is written: another program's database, a
 * damaged or newer Gantry schema, a standby or a role that cannot write are refused
 * (STORE_INVALID, STORE_READ_ONLY) and left as they were; an unreachable database or a refused
 * login is STORE_UNAVAILABLE. Then it creates or migrates the schema under an advisory lock and
 * joins the peers.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new GantryError('CONFIG_INVALID', `openPostgresStore: expected url to be a postgres:// URL, got ${url === '' ? 'an empty string' : typeof url}`);
  }
  const resolved = resolveStoreOptions(options);
  const target = parseTarget(url);
  const pool = createPool(url, { poolSize: resolved.poolSize, connectTimeoutMs: resolved.connectTimeoutMs });
  // A connection that breaks while idle is an event on the pool, not an exception anywhere.
  pool.on('error', (error) => resolved.logger.warn({ err: error }, 'a connection to the run store was lost; the next statement opens another'));
  try {
    let seen: Inspection;
    try {
      seen = await inspect(pool);
    } catch (error) {
      throw unavailable(target, error);
    }
    const kind = checkKind(target, seen);
    if (resolved.mode === 'read') {
      if (kind === 'migrate') throw olderSchema(target, seen);
      return new PostgresStore(pool, url, target, 'read', kind !== 'create', resolved, '');
    }
    checkWritable(target, seen, kind);
    if (kind !== 'current') await migrate(pool, target, resolved.version);
    const peerId = options.peerId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const store = new PostgresStore(pool, url, target, 'write', true, resolved, peerId);
    await store.renew();
    return store;
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
}

function olderSchema(target: Target, seen: Inspection): GantryError {
  return new GantryError(
    'STORE_INVALID',
    `the Postgres database ${target.display} has schema version ${seen.meta?.version}, older than this Gantry's; a read-only command does not change it: start any writing command (gantry serve) once to bring it up to date`,
  );
}
