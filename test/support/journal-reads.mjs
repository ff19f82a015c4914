// `node --import ./journal-reads.mjs …` counts the journal rows the process reads from SQLite
// (rows that statements reading the events table return) and writes the count, at exit, to the
// file named by GANTRY_JOURNAL_READS: for tests of how much a follower reads. With
// GANTRY_LISTINGS set, it writes there too, as JSON, how many times the sub-flow runs of each run
// were listed. The store and its queries are the real ones; only their answers are counted.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.GANTRY_JOURNAL_READS;
if (file === undefined) throw new Error('journal-reads: set GANTRY_JOURNAL_READS to the file to write');

// better-sqlite3 as the SQLite store loads it: the same module, so the same Statement class.
const Database = createRequire(new URL('../../packages/store-sqlite/package.json', import.meta.url))('better-sqlite3');
const probe = new Database(':memory:');
const statement = Object.getPrototypeOf(probe.prepare('SELECT 1'));
probe.close();

let rows = 0;
const listings = {};
const all = statement.all;
statement.all = function (...args) {
  const result = all.apply(this, args);
  if (/\bFROM events\b/i.test(this.source)) rows += result.length;
  // listRuns({ parentRunId }) binds the parent's id to "parent_run_id = ?" (its only parameter then).
  if (/parent_run_id = \?/.test(this.source)) listings[args[0]] = (listings[args[0]] ?? 0) + 1;
  return result;
};
process.on('exit', () => {
  writeFileSync(file, String(rows));
  if (process.env.GANTRY_LISTINGS !== undefined) writeFileSync(process.env.GANTRY_LISTINGS, JSON.stringify(listings));
});
