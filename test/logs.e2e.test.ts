/**
 * DESIGN §12, logs per node, through the real CLI: what a command agent prints on stderr is kept
 * with each attempt of its node, shown by `gantry logs <run> [node]` (and counted by `gantry show`),
 * and `gantry logs --follow` prints a running node's lines while it runs, then ends with the run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, defineExecutor } from '@gantry/engine';
import { openSqliteStore } from '@gantry/store-sqlite';
import { BIN, explain, ROOT, Workspace } from './e2e/harness.js';

let ws: Workspace;

beforeAll(() => {
  ws = new Workspace();
  // Fails its first attempt (exit 75: try again), succeeds the second; logs on stderr either way.
  ws.write(
    'builder.mjs',
    `import { existsSync, writeFileSync } from 'node:fs';
process.stdin.resume();
process.stdin.on('end', () => {
  const again = existsSync('tried');
  console.error('compiling 3 modules');
  console.error(again ? 'done in 12 ms' : 'the registry did not answer');
  if (!again) { writeFileSync('tried', ''); process.exit(75); }
  console.log(JSON.stringify({ built: true }));
});`,
  );
  ws.write(
    'ticker.mjs',
    `process.stdin.resume();
process.stdin.on('end', async () => {
  for (let i = 1; i <= 6; i++) { console.error('tick ' + i); await new Promise((r) => setTimeout(r, 400)); }
  console.log('{}');
});`,
  );
  ws.write('gantry.config.json', {
    agents: {
      builder: { transport: 'command', command: process.execPath, args: ['builder.mjs'] },
      ticker: { transport: 'command', command: process.execPath, args: ['ticker.mjs'] },
      quiet: { transport: 'module', module: './quiet.mjs' },
      chatty: { transport: 'command', command: process.execPath, args: ['chatty.mjs'] },
    },
  });
  ws.write('quiet.mjs', 'export default () => ({ ok: true });');
  ws.write('build.json', {
    name: 'Build',
    nodes: [
      { id: 'build', type: 'agent', data: { agent: 'builder', task: 'build' }, retry: { max_attempts: 2, initial_seconds: 1, jitter: false } },
      { id: 'report', type: 'agent', data: { agent: 'quiet', task: 'report' } },
    ],
    edges: [{ from: 'build', to: 'report' }],
  });
  ws.write('tick.json', { name: 'Tick', nodes: [{ id: 'ticker', type: 'agent', data: { agent: 'ticker', task: 'tick' } }], edges: [] });
  // A node that logs, inside a sub-flow.
  ws.write('chatty.mjs', `process.stdin.resume();
process.stdin.on('end', () => { console.error('hello from inside'); console.log('{}'); });`);
  ws.write('chat.json', { name: 'Chat', nodes: [{ id: 'chat', type: 'agent', data: { agent: 'chatty', task: 'chat' } }], edges: [] });
  ws.write('nested.json', { name: 'Nested', nodes: [{ id: 'outer', type: 'subflow', data: { flow: './chat.json' } }], edges: [] });
  // A sub-flow run that ends at once, then a node that ticks for about 2.4 s.
  ws.write('report.json', { name: 'Report', nodes: [{ id: 'report', type: 'agent', data: { agent: 'quiet', task: 'report' } }], edges: [] });
  ws.write('tree.json', {
    name: 'Tree',
    nodes: [
      { id: 'first', type: 'subflow', data: { flow: './report.json' } },
      { id: 'ticker', type: 'agent', data: { agent: 'ticker', task: 'tick' } },
    ],
    edges: [{ from: 'first', to: 'ticker' }],
  });
});
afterAll(() => ws.remove());

const runIdIn = (stdout: string) => / — run (\S+)/.exec(stdout)?.[1];

describe('gantry logs', () => {
  it('shows a command agent\'s stderr under its node, attempt by attempt; show counts the lines', async () => {
    const run = await ws.run(['run', 'build.json']);
    expect(run.code, explain(run)).toBe(0);
    const runId = runIdIn(run.stdout)!;

    const logs = await ws.run(['logs', runId]);
    expect(logs.code, explain(logs)).toBe(0);
    const lines = logs.stdout.trim().split('\n');
    expect(lines.map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} {2}/, ''))).toEqual([
      'build #1  stderr  compiling 3 modules',
      'build #1  stderr  the registry did not answer',
      'build #2  stderr  compiling 3 modules',
      'build #2  stderr  done in 12 ms',
    ]);

    const second = await ws.run(['logs', runId, 'build', '--attempt', '2', '--json']);
    expect(second.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { run: runId, path: 'build', node: 'build', attempt: 2, at: expect.any(String), source: 'stderr', text: 'compiling 3 modules' },
      { run: runId, path: 'build', node: 'build', attempt: 2, at: expect.any(String), source: 'stderr', text: 'done in 12 ms' },
    ]);
    expect((await ws.run(['logs', runId, 'report'])).stdout).toBe(`no log lines kept for run ${runId} node report\n`);
    const typo = await ws.run(['logs', runId, 'buil']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`run ${runId}'s flow "Build" has no node "buil" — did you mean "build"?`);

    const show = await ws.run(['show', runId]);
    expect(show.stdout).toContain(`    logs    attempt 1 2 lines, attempt 2 2 lines (gantry logs ${runId} build)`);
    expect(show.stdout.match(/ {4}logs {4}/g)).toHaveLength(1);
  }, 30_000);

  it('--follow prints a running node\'s lines as they come, each once, reading each journal event once; it ends when the run ends', async () => {
    const run = spawn(process.execPath, [BIN, 'run', 'tick.json'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', HOME: ws.dir, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let runOut = '';
    let runEnded: number | undefined;
    run.stdout.setEncoding('utf8').on('data', (c: string) => (runOut += c));
    const runExit = new Promise<number | null>((resolve) => run.on('close', (code) => ((runEnded = Date.now()), resolve(code))));
    await expect.poll(() => runIdIn(runOut), { timeout: 10_000 }).toBeDefined();

    // The rows of the journal the follower reads from SQLite, counted in its process (test/support/journal-reads.mjs).
    const reads = join(ws.dir, 'journal-reads.txt');
    const follow = spawn(process.execPath, ['--import', join(ROOT, 'test/support/journal-reads.mjs'), BIN, 'logs', runIdIn(runOut)!, '--follow'], {
      cwd: ws.dir,
      env: { PATH: process.env.PATH ?? '', HOME: ws.dir, NO_COLOR: '1', GANTRY_JOURNAL_READS: reads },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const arrivals: { text: string; at: number }[] = [];
    let pending = '';
    follow.stdout.setEncoding('utf8').on('data', (c: string) => {
      pending += c;
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const text of parts) arrivals.push({ text, at: Date.now() });
    });
    let followErr = '';
    follow.stderr.setEncoding('utf8').on('data', (c: string) => (followErr += c));
    const followExit = new Promise<number | null>((resolve) => follow.on('close', resolve));

    expect(await runExit).toBe(0);
    expect(await followExit, followErr).toBe(0);
    const ticks = arrivals.map((a) => a.text.replace(/^\d\d:\d\d:\d\d\.\d{3} {2}/, ''));
    expect(ticks).toEqual([1, 2, 3, 4, 5, 6].map((i) => `ticker #1  stderr  tick ${i}`));
    // The first lines were printed while the node still ran, not all at its end.
    expect(arrivals[0]!.at).toBeLessThan(runEnded! - 800);
    // Polled every 250 ms for about 2.4 s, it read each event of the journal once: what came after
    // what it had read, not the whole journal at every poll.
    const store = openSqliteStore(join(ws.dir, '.gantry', 'gantry.db'), { mode: 'read' });
    const journal = store.events(runIdIn(runOut)!).length;
    store.close();
    expect(journal).toBeGreaterThan(6);
    expect(Number(readFileSync(reads, 'utf8'))).toBe(journal);
  }, 30_000);

  it('--follow lists the sub-flow runs of a run until it has seen it end, not at every poll', async () => {
    const run = spawn(process.execPath, [BIN, 'run', 'tree.json'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', HOME: ws.dir, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let runOut = '';
    run.stdout.setEncoding('utf8').on('data', (c: string) => (runOut += c));
    const runExit = new Promise<number | null>((resolve) => run.on('close', resolve));
    await expect.poll(() => runIdIn(runOut), { timeout: 10_000 }).toBeDefined();
    const runId = runIdIn(runOut)!;

    const listings = join(ws.dir, 'listings.json');
    const follow = spawn(process.execPath, ['--import', join(ROOT, 'test/support/journal-reads.mjs'), BIN, 'logs', runId, '--follow'], {
      cwd: ws.dir,
      env: { PATH: process.env.PATH ?? '', HOME: ws.dir, NO_COLOR: '1', GANTRY_JOURNAL_READS: join(ws.dir, 'tree-reads.txt'), GANTRY_LISTINGS: listings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let followOut = '';
    let followErr = '';
    follow.stdout.setEncoding('utf8').on('data', (c: string) => (followOut += c));
    follow.stderr.setEncoding('utf8').on('data', (c: string) => (followErr += c));
    const followExit = new Promise<number | null>((resolve) => follow.on('close', resolve));

    expect(await runExit).toBe(0);
    expect(await followExit, followErr).toBe(0);
    expect(followOut.trim().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} {2}/, ''))).toEqual([1, 2, 3, 4, 5, 6].map((i) => `ticker #1  stderr  tick ${i}`));
    const listed = JSON.parse(readFileSync(listings, 'utf8')) as Record<string, number>;
    const child = Object.keys(listed).find((id) => id !== runId);
    expect(child, JSON.stringify(listed)).toBeDefined();
    // The parent, running for about 2.4 s, was listed at every poll; its sub-flow run, ended from
    // the start, once when found and once when seen ended.
    expect(listed[runId]).toBeGreaterThan(4);
    expect(listed[child!]).toBeLessThanOrEqual(2);
  }, 30_000);

  it('reads a node of a sub-flow run by its place (outer.inner or as printed), and says where a node the run lacks is', async () => {
    const run = await ws.run(['run', 'nested.json']);
    expect(run.code, explain(run)).toBe(0);
    const runId = runIdIn(run.stdout)!;
    const all = await ws.run(['logs', runId]);
    expect(all.stdout).toContain('outer › chat #1  stderr  hello from inside');

    for (const place of ['outer.chat', 'outer › chat']) {
      const one = await ws.run(['logs', runId, place]);
      expect(one.code, explain(one)).toBe(0);
      expect(one.stdout.trim().replace(/^\d\d:\d\d:\d\d\.\d{3} {2}/, '')).toBe('chat #1  stderr  hello from inside');
    }
    const lost = await ws.run(['logs', runId, 'chat']);
    expect(lost.code).toBe(2);
    expect(lost.stderr).toContain(`run ${runId}'s flow "Nested" has no node "chat"; it is a node of sub-flow run ${runId}.outer: gantry logs ${runId} 'outer.chat'`);
    const nowhere = await ws.run(['logs', runId, 'elsewhere.chat']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain(`run ${runId} has no sub-flow run ${runId}.elsewhere ("elsewhere.chat")`);
    const typo = await ws.run(['logs', runId, 'outer.chta']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`run ${runId}.outer's flow "Chat" has no node "chta" — did you mean "chat"?`);
  }, 30_000);

  it('reads a run of a flow with node types only an embedding engine knows: logs finds its nodes, show shows it', async () => {
    const store = openSqliteStore(join(ws.dir, '.gantry', 'gantry.db'));
    const engine = createEngine({ store });
    engine.registerExecutor(defineExecutor({ type: 'shout', run: async () => ({ output: {} }) }));
    const run = await engine.start({ name: 'Embedded', nodes: [{ id: 'loud', type: 'shout', data: {} }], edges: [] });
    await run.finished;
    engine.close();
    store.close();
    const logs = await ws.run(['logs', run.id, 'loud']);
    expect(logs.code, explain(logs)).toBe(0);
    expect(logs.stdout).toBe(`no log lines kept for run ${run.id} node loud\n`);
    const typo = await ws.run(['logs', run.id, 'lodu']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`has no node "lodu" — did you mean "loud"?`);
    const show = await ws.run(['show', run.id]);
    expect(show.code, explain(show)).toBe(0);
    expect(show.stdout).toMatch(/\nloud \(shout\): succeeded /);
  }, 30_000);
});
