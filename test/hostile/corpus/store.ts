/**
 * Item 9's store and validation items: a read-only store (STORE_READ_ONLY, nothing left behind),
 * a lock file left empty or garbled by a crash (taken over, not "try again" for ever), and
 * `gantry validate` on a file with 20,000 problems (linear, not quadratic).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUDGET, type CaseContext, type HostileCase } from '../case.js';
import { checkExit } from '../context.js';
import { hooked } from '../harness.js';
import { cli } from '../processes.js';

/** The user a read-only store is read as: root ignores file modes, so a root run drops to nobody. */
const READER_UID = process.getuid?.() === 0 ? 65534 : undefined;

const trivial = hooked('Trivial', [{ id: 'pause', type: 'wait', data: { seconds: 0 } }]);

/** The store folder's files and the database's digest. */
function storeState(ctx: CaseContext): { files: string[]; digest: string } {
  const dir = join(ctx.ws.dir, '.gantry');
  return { files: readdirSync(dir).sort(), digest: createHash('sha256').update(readFileSync(ctx.ws.storePath)).digest('hex') };
}

/** A store the user cannot write: `folderWritable` says whether it may still create files beside it. */
function readOnlyStore(folderWritable: boolean): (ctx: CaseContext) => Promise<void> {
  return async (ctx) => {
    // A run, as the owner, so that the store exists (and holds a run that must stay intact).
    const first = await cli(ctx.ws, ['run', 'flows/hostile.json']);
    if (first.code !== 0) return ctx.problem(`the first run (making the store) failed: ${first.stderr.slice(-300)}`);
    const dir = join(ctx.ws.dir, '.gantry');
    chmodSync(ctx.ws.dir, 0o755);
    chmodSync(ctx.ws.storePath, 0o444);
    chmodSync(dir, folderWritable ? 0o777 : 0o555);
    const before = storeState(ctx);
    const x = await cli(ctx.ws, ['run', 'flows/hostile.json'], { timeoutMs: 2 * ctx.c.expect.budgetMs, ...(READER_UID === undefined ? {} : { uid: READER_UID }) });
    ctx.outputs.push(x.stdout, x.stderr);
    ctx.refused(x.ms, `exit ${x.code ?? x.signal}`);
    checkExit(ctx, ctx.c.expect, x, 'gantry run on a read-only store');
    if (!x.stderr.includes('.gantry')) ctx.problem(`the message does not name the store's path: ${x.stderr.slice(-300)}`);
    const after = storeState(ctx);
    const added = after.files.filter((f) => !before.files.includes(f));
    if (added.length > 0) ctx.problem(`the attempt left ${added.join(', ')} behind`);
    if (after.digest !== before.digest) ctx.problem('the database changed');
    chmodSync(dir, 0o755);
  };
}

/** A lock file as a crash between creating and writing it leaves it, dated `ageMs` ago (negative: in the future). */
function staleLock(content: string, ageMs = 3_600_000): (ctx: CaseContext) => Promise<void> {
  return async (ctx) => {
    const first = await cli(ctx.ws, ['run', 'flows/hostile.json']);
    if (first.code !== 0) return ctx.problem(`the first run (making the store) failed: ${first.stderr.slice(-300)}`);
    const lock = `${ctx.ws.storePath}.lock`;
    writeFileSync(lock, content);
    const stamped = new Date(Date.now() - ageMs);
    utimesSync(lock, stamped, stamped);
    const x = await cli(ctx.ws, ['run', 'flows/hostile.json'], { timeoutMs: 2 * ctx.c.expect.budgetMs });
    ctx.outputs.push(x.stdout, x.stderr);
    ctx.refused(x.ms, `exit ${x.code ?? x.signal}`);
    checkExit(ctx, ctx.c.expect, x, 'gantry run with a stale lock file');
    if (existsSync(lock)) ctx.problem('the stale lock file is still there after the run');
  };
}

/** 30,000 nodes, each with a misspelt key: 30,000 problems to report. */
function manyProblems(): object {
  const nodes = Array.from({ length: 30_000 }, (_, i) => ({ id: `n${i}`, type: 'wait', data: { seconds: 0 }, timout: 1 }));
  return { name: 'Many problems', nodes };
}

export const storeCases: HostileCase[] = [
  {
    id: 'store-read-only-folder',
    item: '9',
    title: 'the store\'s folder and file cannot be written: STORE_READ_ONLY naming the path, nothing created',
    via: 'custom',
    flow: trivial,
    drive: readOnlyStore(false),
    expect: { budgetMs: BUDGET.process, exit: [1, 2], says: /STORE_READ_ONLY|cannot be written/, noHealth: true },
  },
  {
    id: 'store-read-only-file',
    item: '9',
    title: 'the store\'s file cannot be written (its folder can): STORE_READ_ONLY, no -wal or -shm left behind',
    via: 'custom',
    flow: trivial,
    drive: readOnlyStore(true),
    expect: { budgetMs: BUDGET.process, exit: [1, 2], says: /STORE_READ_ONLY|cannot be written/, noHealth: true },
  },
  {
    id: 'store-empty-lock',
    item: '9',
    title: 'an empty lock file an hour old (a crash between create and write): the next run takes it over',
    via: 'custom',
    flow: trivial,
    drive: staleLock(''),
    expect: { budgetMs: BUDGET.process, exit: 0, noHealth: true },
  },
  {
    id: 'store-garbled-lock',
    item: '+',
    title: 'a lock file of garbage an hour old: the next run takes it over',
    via: 'custom',
    flow: trivial,
    drive: staleLock('\u0000\u0000{"pid":'),
    expect: { budgetMs: BUDGET.process, exit: 0, noHealth: true },
  },
  {
    id: 'store-empty-lock-future',
    item: '9',
    title: 'an empty lock file dated an hour ahead (the clock was set back): not "try again in a moment" for an hour',
    via: 'custom',
    flow: trivial,
    drive: staleLock('', -3_600_000),
    expect: { budgetMs: BUDGET.process, exit: 0, noHealth: true },
  },
  {
    id: 'validate-many-problems',
    alone: true,
    item: '9',
    title: 'gantry validate of 30,000 nodes with a misspelt key each (quadratic on main: 20,000 took 10.9 s)',
    via: 'validate',
    flow: manyProblems(),
    // Every problem is counted; the first hundred are printed, then how many more.
    expect: { budgetMs: BUDGET.process, exit: 2, says: /30000 errors/ },
  },
];
