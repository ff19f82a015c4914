/**
 * `gantry show` of for_each runs, through the built CLI in child processes over a real SQLite
 * store: each item's attempts (retried, running, failed, aborted) while the run goes and once it
 * has ended; and a for_each of 50,000 items (a payload can give 100,000, DESIGN §11) shown in
 * time proportional to its journal, not to its square.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');

/**
 * An agent that behaves by the item's name: "flaky" fails once, then succeeds; "slow" runs until
 * it is aborted; "broken" fails every time, its third attempt once the test lets it. Each call
 * leaves a mark, `<name>-<call>.started`.
 */
const PROBE = `import { existsSync, writeFileSync } from 'node:fs';
const calls = new Map();
const here = (name) => new URL('./' + name, import.meta.url);
const released = (file, signal) => new Promise((resolve) => {
  const timer = setInterval(() => { if ((file !== undefined && existsSync(here(file))) || signal.aborted) { clearInterval(timer); resolve(); } }, 20);
});
export default async function probe(inputs, task, signal) {
  const name = inputs.name;
  const call = (calls.get(name) ?? 0) + 1;
  calls.set(name, call);
  writeFileSync(here(name + '-' + call + '.started'), '');
  if (name === 'flaky' && call === 1) return { status: 'failed', error: { message: 'flaky the first time', retryable: true } };
  if (name === 'slow') await released(undefined, signal);
  if (name === 'broken') {
    if (call === 3) await released('release', signal);
    return { status: 'failed', error: { message: 'broken, call ' + call, retryable: true } };
  }
  return { name };
}
`;

const FILES: Record<string, unknown> = {
  'gantry.config.json': { agents: { probe: { transport: 'module', module: './probe.mjs' } } },
  'items.json': {
    name: 'Items',
    nodes: [
      {
        id: 'work',
        type: 'agent',
        for_each: ['flaky', 'slow', 'broken', 'fine'],
        concurrency: 4,
        retry: { max_attempts: 3, backoff: 'fixed', initial_seconds: 0.1 },
        data: { agent: 'probe', task: 'probe', inputs: { name: '{% $item %}' } },
      },
    ],
  },
  'many.json': {
    name: 'Many',
    nodes: [{ id: 'work', type: 'agent', for_each: '{% [1..50000] %}', concurrency: 100, data: { agent: 'probe', task: 'probe', inputs: { name: '{% $string($item) %}' } } }],
  },
};

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-many-items-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(FILES)) writeFileSync(join(dir, name), JSON.stringify(content, null, 2));
  writeFileSync(join(dir, 'probe.mjs'), PROBE);
  return dir;
}

function gantry(dir: string, args: string[], timeout = 30_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024, timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function onlyRun(dir: string): string | undefined {
  const listed = gantry(dir, ['runs', '--json']);
  return listed.code === 0 ? (JSON.parse(listed.stdout) as { runId: string }[])[0]?.runId : undefined;
}

async function until<T>(what: string, check: () => T | undefined | false): Promise<T> {
  for (const started = Date.now(); ; ) {
    const found = check();
    if (found !== undefined && found !== false) return found;
    if (Date.now() - started > 30_000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An item's lines in `gantry show`, each with its newline: from its own line to the next item's (or the end). */
function itemBlock(shown: string, index: number): string {
  const start = shown.indexOf(`\n      `, shown.search(new RegExp(`\\n {6}\\S \\[${index}\\] `)));
  const next = shown.slice(start + 1).search(/\n {6}\S \[\d+\] /);
  return next < 0 ? shown.slice(start + 1) : shown.slice(start + 1, start + 2 + next);
}

const when = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d';

describe('gantry show of a for_each run', () => {
  it("lists each item's attempts: retried then succeeded, running, retried twice then running, and once the run failed, failed and aborted", async () => {
    const dir = folder();
    const running = spawn(process.execPath, [BIN, 'run', 'items.json'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
    const exited = new Promise<number | null>((done) => running.on('exit', (code) => done(code)));
    try {
      const runId = await until('the run is stored', () => onlyRun(dir));
      await until('"broken" runs its third attempt and "slow" its first', () => existsSync(join(dir, 'broken-3.started')) && existsSync(join(dir, 'slow-1.started')));
      // What show reads while the run goes: "flaky" has succeeded once its node.succeeded is written.
      const during = await until('show has "flaky" succeeded', () => {
        const shown = gantry(dir, ['show', runId]);
        return shown.code === 0 && /\n {6}✓ \[0\] "flaky"/.test(shown.stdout) && shown.stdout;
      });
      expect(during).toContain('\nwork (agent): running');
      expect(itemBlock(during, 0)).toMatch(new RegExp(`^ {6}✓ \\[0\\] "flaky" {2}attempt 2 \\S+\\n {10}attempts\\n {12}1 {2}${when} {2}\\S+ {2}failed, retried at \\d\\d:\\d\\d:\\d\\d\\n {15}AGENT_FAILED: agent "probe" task "probe" failed: flaky the first time\\n {12}2 {2}${when} {2}\\S+ {2}succeeded\\n$`));
      // One attempt, running: nothing to list.
      expect(itemBlock(during, 1)).toMatch(/^ {6}\S \[1\] "slow" {2}running \S+\n$/);
      expect(itemBlock(during, 2)).toMatch(
        new RegExp(`^ {6}\\S \\[2\\] "broken" {2}running attempt 3 \\S+\\n {10}attempts\\n {12}1 {2}${when} {2}\\S+ {2}failed, retried at \\S+\\n {15}AGENT_FAILED: agent "probe" task "probe" failed: broken, call 1\\n {12}2 {2}${when} {2}\\S+ {2}failed, retried at \\S+\\n {15}AGENT_FAILED: agent "probe" task "probe" failed: broken, call 2\\n {12}3 {2}${when} {2}running\\n$`),
      );
      expect(itemBlock(during, 3)).toMatch(/^ {6}✓ \[3\] "fine" {2}\S+\n$/);

      writeFileSync(join(dir, 'release'), '');
      expect(await exited).toBe(1);
      const after = gantry(dir, ['show', runId]);
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toContain('\nwork (agent): failed');
      // The third attempt failed for good: the node's failure says so for its item, its sibling was aborted.
      expect(itemBlock(after.stdout, 2)).toMatch(new RegExp(`\\n {12}3 {2}${when} {2}\\S+ {2}failed\\n {15}AGENT_FAILED: agent "probe" task "probe" failed: broken, call 3\\n$`));
      expect(itemBlock(after.stdout, 1)).toMatch(/^ {6}– \[1\] "slow" {2}skipped \S+ — aborted: a sibling item failed\n$/);
      expect(after.stdout).not.toMatch(/\n {12}\d {2}\S+ \S+ {2}running\n/);
    } finally {
      running.kill();
    }
  }, 60_000);

  it('shows 50,000 items in a time proportional to the journal (the old code, each item reading the whole journal, was killed at 20 s)', () => {
    const dir = folder();
    const run = gantry(dir, ['run', 'many.json'], 120_000);
    expect(run.code, run.stderr).toBe(0);
    const runId = onlyRun(dir)!;
    const started = Date.now();
    // Generous for a loaded machine: it takes about a second here; the old code was killed at 20 s.
    const shown = gantry(dir, ['show', runId], 20_000);
    const took = Date.now() - started;
    expect(shown.code, shown.stderr).toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(shown.stdout).toContain('\n    items   50000: [1, 2, 3');
    expect(shown.stdout.match(/\n {6}✓ \[\d+\] \d+ /g)).toHaveLength(50_000);
  }, 180_000);
});
