import { describe, expect, it } from 'vitest';
import { GantryError } from '@gantry/engine';
import { openPostgresStore } from './index.js';
import { SCHEMA_VERSION } from './schema.js';
import { closedPort } from '../test-cluster.mjs';
import { freshDatabase, open, record, sql, started, useCluster } from './test-kit.js';

const cluster = useCluster();

/** What a database holds, to show that a refusal changed nothing: every relation, function and row count of Gantry's tables. */
async function fingerprint(database: string): Promise<unknown> {
  const relations = await sql("SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2", [], database);
  const functions = await sql("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'gantry' ORDER BY 1", [], database);
  const meta = relations.some((r) => r.relname === 'meta') ? await sql('SELECT application, version, compatible_from FROM gantry.meta', [], database) : [];
  const runs = relations.some((r) => r.relname === 'runs') ? await sql('SELECT run_id, owner, epoch FROM gantry.runs ORDER BY 1', [], database) : [];
  return { relations, functions, meta, runs };
}

async function refusal(url: string, options = {}): Promise<GantryError> {
  const error = await openPostgresStore(url, options).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!(error instanceof GantryError)) throw new Error(`expected a GantryError, got ${String(error)}`);
  return error;
}

describe('openPostgresStore: the schema, migrated under an advisory lock', () => {
  it('creates the schema once when peers start together', async () => {
    const { url, name } = await freshDatabase();
    const stores = await Promise.all([1, 2, 3, 4, 5].map((i) => open(url, { peerId: `p${i}` })));
    expect(await sql('SELECT application, version, compatible_from FROM gantry.meta', [], name)).toEqual([{ application: 'gantry', version: SCHEMA_VERSION, compatible_from: 1 }]);
    await stores[0]!.createRun(record('r1'), [started('r1')]);
    expect((await stores[4]!.listRuns()).map((r) => r.runId)).toEqual(['r1']);
    expect((await stores[0]!.peers()).map((p) => p.id).sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
  });

  it('refuses a database of a newer schema, untouched, saying what it expected and found; accepts a newer one that says it is still usable', async () => {
    const { url, name } = await freshDatabase();
    const first = await open(url);
    await first.createRun(record('r1'), [started('r1')]);
    await first.close();
    await sql('UPDATE gantry.meta SET version = 7, compatible_from = 5', [], name);
    const before = await fingerprint(name);
    const error = await refusal(url);
    expect(error.code).toBe('STORE_INVALID');
    expect(error.message).toContain(`expected an empty database or a Gantry store (schema gantry, version ${SCHEMA_VERSION}), found schema version 7, written by a newer Gantry (usable from version 5 on)`);
    expect(error.message).toContain('left untouched');
    expect(await fingerprint(name)).toEqual(before);
    // A read-only command is refused too.
    expect((await refusal(url, { mode: 'read' })).code).toBe('STORE_INVALID');
    await sql('UPDATE gantry.meta SET version = 2, compatible_from = 1', [], name);
    const store = await open(url);
    expect((await store.listRuns()).map((r) => r.runId)).toEqual(['r1']);
    expect(await sql('SELECT version FROM gantry.meta', [], name)).toEqual([{ version: 2 }]);
  });

  it("refuses another program's database, and a damaged store, untouched", async () => {
    const { url, name } = await freshDatabase();
    await sql('CREATE TABLE public.accounts (id int PRIMARY KEY, balance numeric); INSERT INTO public.accounts VALUES (1, 10)', [], name);
    await sql('CREATE TABLE public.orders (id int)', [], name);
    const before = await fingerprint(name);
    const error = await refusal(url);
    expect(error.code).toBe('STORE_INVALID');
    expect(error.message).toMatch(/found another program's tables \(public\.accounts, public\.orders\); it was left untouched\. Give Gantry a database of its own/);
    expect(await fingerprint(name)).toEqual(before);

    const damaged = await freshDatabase();
    const store = await open(damaged.url);
    await store.close();
    await sql('DROP TABLE gantry.completions', [], damaged.name);
    const broken = await refusal(damaged.url);
    expect(broken.code).toBe('STORE_INVALID');
    expect(broken.message).toContain('a Gantry store without its table gantry.completions (damaged)');

    const alien = await freshDatabase();
    await sql('CREATE SCHEMA gantry; CREATE TABLE gantry.things (x int)', [], alien.name);
    expect((await refusal(alien.url)).message).toContain('a schema "gantry" without Gantry\'s gantry.meta (tables: things)');
  });

  it('refuses a read-only role for writing, nothing altered, and lets it read', async () => {
    const { url, name } = await freshDatabase();
    const store = await open(url);
    await store.createRun(record('r1'), [started('r1')]);
    await store.close();
    await sql(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN CREATE ROLE reader LOGIN PASSWORD 'reader-pw'; END IF; END $$`, [], 'postgres');
    await sql('GRANT USAGE ON SCHEMA gantry TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA gantry TO reader', [], name);
    const readerUrl = cluster().url(name, 'reader', 'reader-pw');
    const before = await fingerprint(name);
    const error = await refusal(readerUrl);
    expect(error.code).toBe('STORE_READ_ONLY');
    expect(error.message).toContain('role "reader" may read the store but not write it');
    expect(error.message).toContain('nothing was changed');
    expect(await fingerprint(name)).toEqual(before);
    const reader = await open(readerUrl, { mode: 'read' });
    expect((await reader.listRuns()).map((r) => r.runId)).toEqual(['r1']);

    // A role that may not create the schema in an empty database.
    const empty = await freshDatabase();
    await sql(`REVOKE CREATE ON DATABASE "${empty.name}" FROM PUBLIC`, [], empty.name);
    await sql('REVOKE CREATE ON SCHEMA public FROM PUBLIC', [], empty.name);
    const noCreate = await refusal(cluster().url(empty.name, 'reader', 'reader-pw'));
    expect(noCreate.code).toBe('STORE_READ_ONLY');
    expect(noCreate.message).toContain('role "reader" may not create the schema gantry in it');
    expect(await sql("SELECT 1 FROM pg_namespace WHERE nspname = 'gantry'", [], empty.name)).toEqual([]);

    // Sessions that are read-only (a standby says so the same way).
    const locked = await freshDatabase();
    await sql(`ALTER DATABASE "${locked.name}" SET default_transaction_read_only = on`, [], 'postgres');
    const readOnly = await refusal(locked.url);
    expect(readOnly.code).toBe('STORE_READ_ONLY');
    expect(readOnly.message).toContain('its sessions are read-only');
  });

  it('says clearly when the database cannot be reached or refuses the login, never naming the password', async () => {
    const { name } = await freshDatabase();
    const wrong = await refusal(cluster().url(name, 'postgres', 'not-the-password'));
    expect(wrong.code).toBe('STORE_UNAVAILABLE');
    expect(wrong.message).toContain(`the Postgres database postgres://postgres@127.0.0.1:${cluster().port}/${name} refused the login of role "postgres": wrong password (28P01)`);
    expect(wrong.message).not.toContain('not-the-password');

    const missing = await refusal(cluster().url('no_such_db'));
    expect(missing.code).toBe('STORE_UNAVAILABLE');
    expect(missing.message).toContain('does not exist (3D000)');

    const port = await closedPort();
    const unreachable = await refusal(`postgres://postgres:secret@127.0.0.1:${port}/gantry`, { connectTimeoutMs: 2000 });
    expect(unreachable.code).toBe('STORE_UNAVAILABLE');
    expect(unreachable.message).toBe(`the Postgres database postgres://postgres@127.0.0.1:${port}/gantry refused the connection (ECONNREFUSED): is Postgres running there, and is the port right?; nothing was changed`);

    expect((await refusal('mysql://x@y/z')).code).toBe('CONFIG_INVALID');
    expect((await refusal('postgres://x@y:5432/')).message).toContain('to name a database');
  });
});

