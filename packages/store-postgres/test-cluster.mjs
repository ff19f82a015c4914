// A throw-away PostgreSQL cluster for tests, benchmarks and the soak: the machine's own initdb
// and pg_ctl (Debian: /usr/lib/postgresql/<version>/bin; GANTRY_PG_BIN names another folder), a
// temporary folder (owned by the postgres user when run as root, as initdb requires), a free
// port on 127.0.0.1, the unix socket in the temporary folder. Stopped and removed by stop(), and
// at the latest when the process exits.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The superuser's password (TCP logins need one: a wrong one is a test). */
export const PASSWORD = 'gantry-test-password';

const live = new Set();
process.on('exit', () => {
  for (const cluster of live) cluster.stopNow();
});

/** A port of 127.0.0.1 nothing listens on (an unreachable database, for tests). */
export async function closedPort() {
  return freePort();
}

/**
 * Creates a database through `adminUrl` (a superuser's URL of any database of the cluster),
 * copied from `template` when given (CREATE DATABASE … TEMPLATE: a file copy, fast); resolves with
 * its URL.
 */
export async function createDatabase(adminUrl, name, template) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The folder of initdb and pg_ctl, or an Error saying what to install. */
export function findPostgres() {
  const candidates = [];
  if (process.env.GANTRY_PG_BIN) candidates.push(process.env.GANTRY_PG_BIN);
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  }
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on the PATH
  }
  for (const dir of candidates) if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  return new Error(
    `PostgreSQL's initdb and pg_ctl were not found (looked in ${candidates.join(', ') || '/usr/lib/postgresql/*/bin'}): install them (Debian, Ubuntu: apt-get install postgresql; .ci/run does) or set GANTRY_PG_BIN to their folder`,
  );
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster. `fsync: false` (the default) for tests, which need no durability across a
 * machine crash; benchmarks pass true.
 */
export async function startCluster({ fsync = false, maxConnections = 200 } = {}) {
  const bin = findPostgres();
  if (bin instanceof Error) throw bin;
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'gantry-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${PASSWORD}\n`);
  let uid;
  if (root) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('running as root, but there is no postgres user to run initdb as (apt-get install postgresql makes it)');
    uid = Number(id.stdout.trim());
    chownSync(dir, uid, Number(gid.stdout.trim()));
    chownSync(pwfile, uid, Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  const as = (command, args, options = {}) => {
    const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    const result = spawnSync(file, argv, { encoding: 'utf8', ...options });
    if (result.status !== 0 && !options.allowFailure) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
    return result;
  };
  as('initdb', ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '--locale=C', '--encoding=UTF8', '--no-sync']);
  rmSync(pwfile);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    `-c fsync=${fsync ? 'on' : 'off'}`,
    `-c max_connections=${maxConnections}`,
    '-c shared_buffers=64MB',
  ].join(' ');
  const start = () => as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', '-t', '60', 'start']);
  start();
  const cluster = {
    dir,
    port,
    host: '127.0.0.1',
    /** A URL of a database of this cluster, as a role (the superuser by default). */
    url(database = 'gantry', user = 'postgres', password = PASSWORD) {
      return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    },
    /** Runs SQL as the superuser in a database; resolves with the rows. */
    async sql(text, params = [], database = 'postgres') {
      const client = new pg.Client({ connectionString: cluster.url(database) });
      await client.connect();
      try {
        return (await client.query(text, params)).rows;
      } finally {
        await client.end();
      }
    },
    /** A fresh database (empty, or a copy of `template`); resolves with its URL (as the superuser). */
    async database(name, template) {
      return createDatabase(cluster.url('postgres'), name, template);
    },
    /** Stops the server (`fast`, or `immediate`: as a crash), keeping its files. */
    stop(mode = 'fast') {
      as('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop'], { allowFailure: true });
    },
    start,
    /** Stops the server and removes its folder. */
    async remove() {
      live.delete(cluster);
      cluster.stopNow();
    },
    stopNow() {
      if (existsSync(join(data, 'postmaster.pid'))) as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'], { allowFailure: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  await cluster.database('gantry');
  return cluster;
}
