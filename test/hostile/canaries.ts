/**
 * Canary secrets: every child process gets them in its environment, and none may show up in
 * what Gantry writes or says — the database, its WAL, stdout, stderr, logs, any API answer — nor
 * reach the attacker's stand-in service.
 */
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;

/** Variable → value. Each value is unique, so a finding names which secret leaked. */
export const CANARY_ENV: Readonly<Record<string, string>> = Object.freeze({
  // Another service's secret, in the environment of the machine: no configuration names it.
  AWS_SECRET_ACCESS_KEY: `cnry-aws-${tag}-wJalrXUtnFEMI`,
  // The webhook HMAC secret: never an outbound credential.
  GITHUB_WEBHOOK_SECRET: `cnry-hook-${tag}-x7Yq2LmN4pQr`,
  // An operator's token nobody declared.
  OPS_API_TOKEN: `cnry-ops-${tag}-q9Zk3Vb8Tt1R`,
  // Declared credentials (some cases declare them): they may go to their own origins only.
  DEPLOY_TOKEN: `cnry-deploy-${tag}-Hh5Jj6Kk7Ll`,
  GITHUB_TOKEN: `cnry-ghtoken-${tag}-Mm8Nn9Pp0Q`,
  AGENT_TOKEN: `cnry-agent-${tag}-Rr1Ss2Tt3Uu`,
});

export const CANARIES: readonly string[] = Object.values(CANARY_ENV);

/** The forms a secret can take on its way out: as is, in base64 (Basic auth), URL-encoded. */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64').replace(/=+$/, ''), encodeURIComponent(secret)];
}

export interface Leak {
  readonly where: string;
  readonly variable: string;
}

/** Which canaries `text` holds, reported against `where`. */
export function leaksIn(where: string, text: string | Buffer): Leak[] {
  const haystack = typeof text === 'string' ? text : text.toString('latin1');
  const found: Leak[] = [];
  for (const [variable, value] of Object.entries(CANARY_ENV)) {
    if (forms(value).some((form) => haystack.includes(form))) found.push({ where, variable });
  }
  return found;
}

function* filesUnder(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

/** What is used of better-sqlite3 (a dependency of the store package, not of the workspace root). */
interface Sqlite {
  prepare(sql: string): { all(): unknown[]; raw(): { all(): unknown[][] } };
  close(): void;
}
const Database = createRequire(new URL('../../packages/store-sqlite/package.json', import.meta.url))('better-sqlite3') as new (path: string, options: object) => Sqlite;

/**
 * Every row of every table of a SQLite file, as text: a long value spills over SQLite's overflow
 * pages, where a raw scan of the file could find it cut in two.
 */
export function dumpDatabase(path: string): string {
  let db: Sqlite | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return tables.map((t) => JSON.stringify(db!.prepare(`SELECT * FROM "${t.name.replace(/"/g, '""')}"`).raw().all(), (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : typeof v === 'bigint' ? String(v) : v))).join('\n');
  } catch (error) {
    return `(cannot dump ${path}: ${(error as Error).message})`;
  } finally {
    db?.close();
  }
}

/**
 * The leaks in every file Gantry left in the workspace (the store, its WAL and shared memory,
 * logs), raw and, for databases, row by row; files the case wrote itself are skipped.
 */
export function leaksInFiles(dir: string, skip: ReadonlySet<string>): Leak[] {
  const found: Leak[] = [];
  for (const path of filesUnder(dir)) {
    if (skip.has(path)) continue;
    const name = relative(dir, path);
    if (statSync(path).size > 256 * 1024 * 1024) continue;
    found.push(...leaksIn(name, readFileSync(path)));
    if (/\.db$/.test(path)) found.push(...leaksIn(`${name} (rows)`, dumpDatabase(path)));
  }
  return found;
}

/** The total size of the store's files (database, WAL, shared memory), in bytes. */
export function storeBytes(dbPath: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbPath + suffix)) total += statSync(dbPath + suffix).size;
  return total;
}

export function describeLeaks(leaks: readonly Leak[]): string {
  const by = new Map<string, Set<string>>();
  for (const l of leaks) by.set(l.variable, (by.get(l.variable) ?? new Set()).add(l.where));
  return [...by].map(([variable, where]) => `${variable} in ${[...where].join(', ')}`).join('; ');
}
