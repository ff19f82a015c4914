/**
 * Issue 15, item 9: the CLI on a store its user may not write. `gantry run` and `gantry resume`
 * exit 2 with STORE_READ_ONLY naming the store and what to do (not SQLite's own message), and
 * leave nothing beside it; `gantry runs` and `gantry show` still read it. The commands run as
 * another user when the tests run as root (root may write whatever a chmod forbids).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(resolve(import.meta.dirname, '..'), 'packages/cli/dist/bin.js');
const AS_OTHER = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
const FLOW = { name: 'pause', nodes: [{ id: 'pause', type: 'wait', data: { seconds: 0 } }], edges: [] };

let dir: string;
let runId: string;

function gantry(args: string[], as: object = AS_OTHER) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000, ...as });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -b)`);
  dir = mkdtempSync(join(tmpdir(), 'gantry-read-only-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'pause.json'), JSON.stringify(FLOW));
  writeFileSync(join(dir, 'gantry.config.json'), '{}');
  const first = gantry(['run', 'pause.json', '--json'], {});
  expect(first.code, first.stderr).toBe(0);
  runId = (JSON.parse(first.stdout.split('\n')[0]!) as { runId: string }).runId;
  chmodSync(join(dir, '.gantry'), 0o555);
});

afterAll(() => {
  chmodSync(join(dir, '.gantry'), 0o755);
  rmSync(dir, { recursive: true, force: true });
});

describe('the CLI on a store it may not write', () => {
  it('gantry run and gantry resume exit 2 with STORE_READ_ONLY, naming the store and what to do, and leave nothing behind', () => {
    for (const args of [['run', 'pause.json'], ['resume']]) {
      const r = gantry(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`run store ${join(dir, '.gantry', 'gantry.db')} cannot be written: its folder ${join(dir, '.gantry')} is not writable by this user`);
      expect(r.stderr).toContain('point the store elsewhere (store.path in gantry.config.json)');
      expect(r.stderr).not.toMatch(/attempt to write a readonly database|SQLITE_/);
    }
    expect(readdirSync(join(dir, '.gantry'))).toEqual(['gantry.db']);
  });

  it('gantry runs and gantry show read it', () => {
    const runs = gantry(['runs']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain(runId);
    const show = gantry(['show', runId]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/succeeded/);
    expect(readdirSync(join(dir, '.gantry'))).toEqual(['gantry.db']);
  });
});
