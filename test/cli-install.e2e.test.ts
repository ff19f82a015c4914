/**
 * `gantry` on the PATH from a clone, as the README says: `npm install -g ./packages/cli` in a
 * fresh npm prefix (a temporary folder), then `gantry` run from another folder by name. And
 * `pnpm gantry` in the clone, which builds only when a source changed since the last build.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// A plain ES module of the workspace's scripts (test/ is not type-checked).
import { staleness } from '../packages/cli/scripts/run-in-clone.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const temp: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temp.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

describe('gantry on the PATH', () => {
  it('the README\'s command installs it in a fresh npm prefix; it runs by name from any folder', () => {
    const command = /^npm install -g \.\/packages\/cli$/m.exec(README)?.[0];
    expect(command, 'the README documents `npm install -g ./packages/cli`').toBeDefined();
    const prefix = tempDir('gantry-prefix-');
    // npm's own cache and user config stay out of it; nothing needs the network (--offline).
    const env = { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const install = spawnSync('npm', command!.split(' ').slice(1), { cwd: ROOT, env, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    // A link into the clone: `git pull` and a build update the command in place.
    expect(realpathSync(join(prefix, 'bin', 'gantry'))).toBe(join(ROOT, 'packages/cli/dist/bin.js'));

    const elsewhere = tempDir('gantry-elsewhere-');
    writeFileSync(join(elsewhere, 'hello.json'), JSON.stringify({ name: 'hello', nodes: [{ id: 'pause', type: 'wait', data: { seconds: 0 } }] }));
    const path = [join(prefix, 'bin'), process.env.PATH].join(delimiter);
    const gantry = (...args: string[]) => spawnSync('gantry', args, { cwd: elsewhere, env: { ...process.env, PATH: path, NO_COLOR: '1' }, encoding: 'utf8' });
    const help = gantry('--help');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Gantry \d+\.\d+\.\d+: a declarative workflow engine/);
    const valid = gantry('validate', 'hello.json');
    expect(valid.status, valid.stdout + valid.stderr).toBe(0);
    expect(valid.stdout).toContain('✓ hello.json  valid (1 node, 0 edges)');
    const run = gantry('run', 'hello.json');
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/hello: succeeded in/);
  }, 60_000);

  it('the README\'s examples say `gantry …`, not the pnpm form or the path to bin.js (but its first two commands, for a fresh machine)', () => {
    // The README opens with the two commands a fresh machine runs, install included: those use pnpm.
    const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].slice(1).map((m) => m[1]!).join('\n');
    expect(blocks).toMatch(/^gantry run /m);
    expect(blocks).not.toMatch(/pnpm@[\d.]+ gantry (run|serve|show)/);
    expect(blocks).not.toContain('dist/bin.js');
  });
});

describe('pnpm gantry in the clone', () => {
  it('runs the command without building when nothing changed since the last build', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'packages/cli/scripts/run-in-clone.mjs'), '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.stderr).not.toContain('building');
    expect(staleness(ROOT)).toBeUndefined();
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.gantry).toBe('node packages/cli/scripts/run-in-clone.mjs');
  });

  it('says a build is needed when a source, a tsconfig or the base config is newer than the build info, or a project was never built', () => {
    const root = tempDir('gantry-workspace-');
    const project = (name: string) => {
      mkdirSync(join(root, 'packages', name, 'src'), { recursive: true });
      mkdirSync(join(root, 'packages', name, 'dist'), { recursive: true });
      writeFileSync(join(root, 'packages', name, 'tsconfig.json'), JSON.stringify({ compilerOptions: { tsBuildInfoFile: 'dist/.tsbuildinfo' }, exclude: ['src/**/*.test.ts', 'src/**/test-kit.ts'] }));
      mkdirSync(join(root, 'packages', name, 'src', 'deep'));
      writeFileSync(join(root, 'packages', name, 'src', 'index.ts'), '');
      writeFileSync(join(root, 'packages', name, 'src', 'deep', 'index.test.ts'), '');
      writeFileSync(join(root, 'packages', name, 'src', 'test-kit.ts'), '');
    };
    writeFileSync(join(root, 'tsconfig.base.json'), '{}');
    writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ files: [], references: [{ path: 'packages/a' }, { path: 'packages/b' }] }));
    project('a');
    project('b');
    const at = (file: string, seconds: number) => utimesSync(join(root, file), seconds, seconds);
    const old = 1_700_000_000;
    for (const file of ['tsconfig.base.json', 'packages/a/tsconfig.json', 'packages/a/src/index.ts', 'packages/b/tsconfig.json', 'packages/b/src/index.ts']) at(file, old);
    expect(staleness(root)).toBe('packages/a has not been built');
    writeFileSync(join(root, 'packages/a/dist/.tsbuildinfo'), '');
    writeFileSync(join(root, 'packages/b/dist/.tsbuildinfo'), '');
    at('packages/a/dist/.tsbuildinfo', old + 10);
    at('packages/b/dist/.tsbuildinfo', old + 10);
    // What the tsconfig excludes (tests beside the sources) is not built: newer, it changes nothing.
    at('packages/b/src/deep/index.test.ts', old + 20);
    at('packages/b/src/test-kit.ts', old + 20);
    expect(staleness(root)).toBeUndefined();
    at('packages/b/src/index.ts', old + 20);
    expect(staleness(root)).toBe('packages/b has changed since its last build');
    at('packages/b/src/index.ts', old);
    at('tsconfig.base.json', old + 20);
    expect(staleness(root)).toBe('packages/a has changed since its last build');
  });
});
