/**
 * What a database is before anything is written to it, and bringing it to this Gantry's schema.
 * Every refusal leaves the database as it was: it is inspected first, and migrations run in one
 * transaction each under an advisory lock (so that peers starting together migrate once).
 */
import type pg from 'pg';
import { GantryError } from '@gantry/engine';
import { sqlState, type Target } from './connect.js';
import { APPLICATION, MIGRATION_LOCK, MIGRATIONS, SCHEMA_VERSION, TABLES } from './schema.js';

/** What the database is, as seen by the store's role. */
export interface Inspection {
  readonly role: string;
  readonly standby: boolean;
  readonly readOnly: boolean;
  readonly canCreate: boolean;
  /** gantry.meta, when there is one. */
  readonly meta: { readonly application: string; readonly version: number; readonly compatibleFrom: number } | undefined;
  readonly hasSchema: boolean;
  /** Gantry's tables present in the schema gantry. */
  readonly tables: readonly string[];
  /** Tables (and views) of other schemas: a few names, and how many. */
  readonly foreign: { readonly names: readonly string[]; readonly count: number };
  /** Whether the role may write Gantry's tables. */
  readonly canWrite: boolean;
}

export async function inspect(db: pg.Pool | pg.PoolClient): Promise<Inspection> {
  const { rows } = await db.query<{
    role: string;
    standby: boolean;
    read_only: boolean;
    can_create: boolean;
    has_schema: boolean;
    tables: string[];
    foreign_names: string[];
    foreign_count: string;
  }>(`
    SELECT current_user AS role, pg_is_in_recovery() AS standby,
      current_setting('transaction_read_only') = 'on' AS read_only,
      has_database_privilege(current_database(), 'CREATE') AS can_create,
      EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'gantry') AS has_schema,
      ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'gantry' AND c.relkind = 'r' ORDER BY 1) AS tables,
      ARRAY(SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'gantry')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY 1 LIMIT 5) AS foreign_names,
      (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'gantry')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%') AS foreign_count`);
  const row = rows[0]!;
  let meta: Inspection['meta'];
  let canWrite = false;
  if (row.tables.includes('meta')) {
    const found = await db.query<{ application: string; version: number; compatible_from: number }>('SELECT application, version, compatible_from FROM gantry.meta');
    const m = found.rows[0];
    if (m !== undefined) meta = { application: m.application, version: m.version, compatibleFrom: m.compatible_from };
    if (TABLES.every((t) => row.tables.includes(t))) {
      const rights = await db.query<{ ok: boolean }>(
        "SELECT has_table_privilege('gantry.runs', 'INSERT, UPDATE') AND has_table_privilege('gantry.events', 'INSERT') AND has_table_privilege('gantry.completions', 'INSERT, DELETE') AND has_table_privilege('gantry.peers', 'INSERT, UPDATE, DELETE') AS ok",
      );
      canWrite = rights.rows[0]!.ok;
    }
  }
  return {
    role: row.role,
    standby: row.standby,
    readOnly: row.read_only,
    canCreate: row.can_create,
    meta,
    hasSchema: row.has_schema,
    tables: row.tables,
    foreign: { names: row.foreign_names, count: Number(row.foreign_count) },
    canWrite,
  };
}

function invalid(target: Target, found: string, more = ''): GantryError {
  return new GantryError(
    'STORE_INVALID',
    `the Postgres database ${target.display} is not one Gantry can use: expected an empty database or a Gantry store (schema gantry, version ${SCHEMA_VERSION}), found ${found}; it was left untouched${more}`,
  );
}

/**
 * Refuses what Gantry must not touch: another program's database, a damaged store, a newer
 * schema this Gantry cannot use. Returns whether the store must be created (an empty database).
 */
export function checkKind(target: Target, seen: Inspection): 'create' | 'migrate' | 'current' {
  const { meta } = seen;
  if (meta === undefined) {
    if (seen.hasSchema) return throwInvalid(target, `a schema "gantry" without Gantry's gantry.meta (tables: ${seen.tables.join(', ') || 'none'})`);
    if (seen.foreign.count > 0) {
      const more = seen.foreign.count > seen.foreign.names.length ? `, … (${seen.foreign.count} in all)` : '';
      throwInvalid(target, `another program's tables (${seen.foreign.names.join(', ')}${more})`, '. Give Gantry a database of its own (createdb gantry)');
    }
    return 'create';
  }
  if (meta.application !== APPLICATION) throwInvalid(target, `gantry.meta naming the application "${meta.application}"`);
  const missing = TABLES.filter((t) => !seen.tables.includes(t));
  if (missing.length > 0) throwInvalid(target, `a Gantry store without its table${missing.length === 1 ? '' : 's'} ${missing.map((t) => `gantry.${t}`).join(', ')} (damaged)`);
  if (meta.version > SCHEMA_VERSION && meta.compatibleFrom > SCHEMA_VERSION) {
    throwInvalid(
      target,
      `schema version ${meta.version}, written by a newer Gantry (usable from version ${meta.compatibleFrom} on)`,
      `. This Gantry knows version ${SCHEMA_VERSION}: upgrade it to the release the other peers run`,
    );
  }
  return meta.version < SCHEMA_VERSION ? 'migrate' : 'current';
}

function throwInvalid(target: Target, found: string, more = ''): never {
  throw invalid(target, found, more);
}

/** Refuses a role or server that cannot write, before anything is tried. */
export function checkWritable(target: Target, seen: Inspection, kind: 'create' | 'migrate' | 'current'): void {
  const refuse = (why: string, fix: string) => {
    throw new GantryError('STORE_READ_ONLY', `the Postgres database ${target.display} cannot be written by this process: ${why}; nothing was changed. ${fix}`);
  };
  if (seen.standby) refuse('it is a standby (pg_is_in_recovery)', 'Point the URL at the primary.');
  if (seen.readOnly) refuse('its sessions are read-only (default_transaction_read_only = on)', 'Use a role or database whose sessions may write.');
  if (kind === 'create' && !seen.canCreate) {
    refuse(`role "${seen.role}" may not create the schema gantry in it (no CREATE on the database)`, `Grant it (GRANT CREATE ON DATABASE ${target.database} TO ${seen.role}), or start Gantry once with the database's owner.`);
  }
  if (kind !== 'create' && !seen.canWrite) {
    refuse(`role "${seen.role}" may read the store but not write it (INSERT/UPDATE on gantry.runs, gantry.events, gantry.completions, gantry.peers)`, 'Use this role for "gantry runs" and "gantry show" only, or grant it those rights.');
  }
}

/**
 * Creates the schema or brings it up to this Gantry's version, in one transaction under a
 * transaction-scoped advisory lock (it works behind a pooler in transaction mode, and a crash
 * leaves the database as it was): the database is inspected again once the lock is held, since
 * another peer may have migrated it meanwhile.
 */
export async function migrate(pool: pg.Pool, target: Target, gantryVersion: string): Promise<void> {
  const client = await pool.connect();
  let role = '';
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const seen = await inspect(client);
    role = seen.role;
    const kind = checkKind(target, seen);
    if (kind === 'current') {
      await client.query('COMMIT');
      return;
    }
    checkWritable(target, seen, kind);
    const from = seen.meta?.version ?? 0;
    let last: (typeof MIGRATIONS)[number] | undefined;
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      await client.query(migration.sql);
      last = migration;
    }
    if (last !== undefined) {
      if (from === 0) {
        await client.query('INSERT INTO gantry.meta (application, version, compatible_from, migrated_by) VALUES ($1, $2, $3, $4)', [APPLICATION, last.version, last.compatibleFrom, gantryVersion]);
      } else {
        await client.query('UPDATE gantry.meta SET version = $1, compatible_from = $2, migrated_at = now(), migrated_by = $3', [last.version, last.compatibleFrom, gantryVersion]);
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if (sqlState(error) === '42501') {
      throw new GantryError(
        'STORE_READ_ONLY',
        `the Postgres database ${target.display} needs its schema brought to version ${SCHEMA_VERSION}, which role "${role}" may not do (42501: ${(error as Error).message}); nothing was changed. Start one peer with the schema's owner.`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    client.release();
  }
}
