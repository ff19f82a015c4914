/**
 * Files that are not a Gantry store are refused with STORE_INVALID, and are byte for byte what
 * they were, with no lock or side file left beside them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './open.js';
import { SCHEMA_VERSION } from './schema.js';
import { listing, nodeStarted, nodeSucceeded, record, runStarted, sha256, tempDir } from './test-kit.js';

/** A real Gantry store of several pages, closed (its log folded into the file). */
function realStore(file: string): void {
  const store = openSqliteStore(file);
  for (let r = 0; r < 20; r++) {
    store.createRun(record(`r${r}`, { flowText: 'x'.repeat(2_000) }));
    store.append([runStarted(`r${r}`), nodeStarted(`r${r}`, 'build'), nodeSucceeded(`r${r}`, 'build')]);
  }
  store.close();
}

function sqlite(file: string, setup: (db: Database.Database) => void): void {
  const db = new Database(file);
  setup(db);
  db.close();
}

interface Case {
  readonly name: string;
  /** Makes the file at `file` (a directory is made for a path that is one). */
  readonly make: (file: string) => void;
  /** What the message must say after the path. */
  readonly problem: RegExp;
}

const cases: Case[] = [
  {
    name: 'random bytes',
    make: (file) => writeFileSync(file, Buffer.concat([Buffer.from('GARBAGE!'), randomBytes(8_192)])),
    problem: /is not an SQLite database \(its first bytes are not the SQLite header\)/,
  },
  { name: 'a short text file', make: (file) => writeFileSync(file, 'hello\n'), problem: /is not an SQLite database/ },
  {
    name: 'a real store cut in half',
    make: (file) => {
      realStore(file);
      const bytes = readFileSync(file);
      expect(bytes.length).toBeGreaterThan(8 * 4096);
      writeFileSync(file, bytes.subarray(0, bytes.length / 2));
    },
    problem: /is truncated: it holds \d+ bytes \(its header says \d+\)/,
  },
  {
    name: 'a real store cut inside its header',
    make: (file) => {
      realStore(file);
      writeFileSync(file, readFileSync(file).subarray(0, 60));
    },
    problem: /is truncated: 60 bytes, shorter than one SQLite header/,
  },
  {
    name: 'an SQLite header with a page size no SQLite writes',
    make: (file) => {
      realStore(file);
      const bytes = readFileSync(file);
      bytes.writeUInt16BE(3000, 16);
      writeFileSync(file, bytes);
    },
    problem: /is damaged: its header gives a page size of 3000/,
  },
  {
    name: "another program's SQLite database",
    make: (file) =>
      sqlite(file, (db) => {
        db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')");
      }),
    problem: /is an SQLite database that is not a Gantry run store \(it has tables of its own and no Gantry application id\)/,
  },
  {
    name: 'a GeoPackage (another application id)',
    make: (file) => sqlite(file, (db) => db.exec('PRAGMA application_id = 1196444487; CREATE TABLE gpkg_contents (table_name TEXT)')),
    problem: /is another program's SQLite database \(application id 0x47504b47\), not a Gantry run store/,
  },
  {
    name: 'a store of a newer Gantry',
    make: (file) => {
      realStore(file);
      sqlite(file, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
    },
    problem: new RegExp(`was written by a newer Gantry \\(schema version ${SCHEMA_VERSION + 1}; this one reads up to ${SCHEMA_VERSION}\\): upgrade Gantry to use it`),
  },
  {
    name: "a file with Gantry's application id and no tables",
    make: (file) => sqlite(file, (db) => db.exec(`PRAGMA application_id = ${0x474e5452}; PRAGMA user_version = 1; CREATE TABLE other (x)`)),
    problem: /is damaged: it has Gantry's application id but no runs, events, completions table/,
  },
];

describe.each(['write', 'read'] as const)('refusing a file that is not a Gantry store (%s mode)', (mode) => {
  it.each(cases)('$name', ({ make, problem }) => {
    const dir = tempDir();
    const file = join(dir, 'gantry.db');
    make(file);
    const before = { hash: sha256(file), files: listing(dir), mtime: statSync(file).mtimeMs };
    let error: unknown;
    try {
      openSqliteStore(file, { mode }).close();
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'STORE_INVALID', message: expect.stringContaining(`run store ${file} `) });
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).toContain('Gantry left the file untouched');
    expect({ hash: sha256(file), files: listing(dir), mtime: statSync(file).mtimeMs }).toEqual(before);
  });

  it('a folder where the file should be', () => {
    const dir = tempDir();
    const file = join(dir, 'gantry.db');
    mkdirSync(file);
    expect(() => openSqliteStore(file, { mode })).toThrow(expect.objectContaining({ code: 'STORE_INVALID', message: expect.stringContaining('is not a regular file') }));
    expect(listing(dir)).toEqual(['gantry.db']);
  });

  it("another program's database while that program has it open, with commits still in its log", () => {
    const dir = tempDir();
    const file = join(dir, 'app.db');
    const other = new Database(file);
    other.pragma('journal_mode = WAL');
    other.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders DEFAULT VALUES");
    const before = { db: sha256(file), wal: sha256(`${file}-wal`) };
    expect(() => openSqliteStore(file, { mode })).toThrow(expect.objectContaining({ code: 'STORE_INVALID', message: expect.stringContaining('is an SQLite database that is not a Gantry run store') }));
    expect({ db: sha256(file), wal: sha256(`${file}-wal`) }).toEqual(before);
    expect(listing(dir)).toEqual(['app.db', 'app.db-shm', 'app.db-wal']);
    other.prepare('INSERT INTO orders DEFAULT VALUES').run();
    other.close();
  });
});

describe('files with nothing to lose', () => {
  it('initialises a zero-byte file in write mode; read mode leaves it as it is', () => {
    const file = join(tempDir(), 'gantry.db');
    writeFileSync(file, '');
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(reader.listRuns()).toEqual([]);
    reader.close();
    expect(statSync(file).size).toBe(0);
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    store.close();
    expect(openSqliteStore(file, { mode: 'read' }).getRun('r1')?.runId).toBe('r1');
  });

  it('initialises an SQLite file with no tables (a creation cut short before the schema)', () => {
    const file = join(tempDir(), 'gantry.db');
    sqlite(file, (db) => db.pragma('journal_mode = WAL'));
    expect(statSync(file).size).toBeGreaterThan(0);
    const store = openSqliteStore(file);
    store.createRun(record('r1'));
    expect(store.listRuns()).toHaveLength(1);
    store.close();
  });
});
