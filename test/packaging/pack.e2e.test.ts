/**
 * The packages, packed, work outside the workspace, as the README's "Embedding the engine" says:
 * its commands pack @gantry/engine, @gantry/executors (and @gantry/testing) from this clone and
 * install the tarballs in an empty folder elsewhere, where the README's example runs. Each package
 * must carry what it reads (the engine its schemas and validators, testing the flow test schema's).
 * Needs the build (npx -y pnpm@12.4.2 build) and the npm registry or npm's cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const example = (kind: string) => new RegExp(`<!-- example: ${kind} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(README)?.[1];

const temp = mkdtempSync(join(tmpdir(), 'gantry-pack-'));
const packs = join(temp, 'packs');
const app = join(temp, 'my-app');
// npm's audit, funding and update notices are not what is tested; the cache serves what it holds.
const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_prefer_offline: 'true', NO_COLOR: '1' };

function sh(command: string, cwd: string) {
  const run = spawnSync('sh', ['-c', command], { cwd, env, encoding: 'utf8' });
  return { ...run, output: `$ ${command}\n${run.stdout}${run.stderr}` };
}

let commands: string[];

beforeAll(() => {
  const block = example('embed-install');
  expect(block, 'the README has the commands to pack and install the packages').toBeDefined();
  commands = block!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
  // The first (install and build in the clone) is what the test suite itself runs on.
  expect(commands[0]).toBe('npx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 build');
  const pack = sh(commands[1]!.replaceAll('/tmp/gantry-packs', packs).replace(' pack ', ' --filter @gantry/testing pack '), ROOT);
  expect(pack.status, pack.output).toBe(0);
  sh(`mkdir -p ${JSON.stringify(app)}`, temp);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  const install = sh(commands[2]!.replace('~/my-app', JSON.stringify(app)).replaceAll('/tmp/gantry-packs', packs), temp);
  expect(install.status, install.output).toBe(0);
}, 240_000);

afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('the packages, packed and installed outside the workspace', () => {
  it('are installed from the tarballs, not linked to the clone', () => {
    for (const name of ['engine', 'executors', 'testing']) {
      const installed = realpathSync(join(app, 'node_modules', '@gantry', name));
      expect(installed.startsWith(realpathSync(app))).toBe(true);
      const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>>; dependencies?: Record<string, string> };
      // Packed: the TypeScript sources stay behind, and so does the export condition naming them.
      expect(JSON.stringify(manifest.exports)).not.toContain('source');
      expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain('workspace:');
    }
  });

  it("runs the README's embedding example", () => {
    writeFileSync(join(app, 'embed.mjs'), example('embed')!);
    const run = spawnSync(process.execPath, ['embed.mjs'], { cwd: app, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('review done');
    expect(run.stdout).toMatch(/^succeeded \[/m);
  });

  it('validates flows and configurations with the schemas the engine carries', () => {
    writeFileSync(
      join(app, 'check.mjs'),
      `import { validateFlowText } from '@gantry/engine/validation';
import { validateConfigText } from '@gantry/engine';
const flow = validateFlowText('{ "name": "f", "nodes": [{ "id": "a", "type": "wait", "data": { "seconds": 1 }, "timout": 5 }] }');
const config = validateConfigText('{ "agnets": {} }');
console.log([...flow.diagnostics, ...config.diagnostics].map((d) => d.code + ' ' + d.pointer).join('\\n'));`,
    );
    const run = spawnSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('UNKNOWN_KEY /nodes/0/timout\nUNKNOWN_KEY /agnets\n');
  });

  it('checks flow tests with the schema @gantry/testing carries', () => {
    writeFileSync(join(app, 'hello.json'), JSON.stringify({ name: 'hello', nodes: [{ id: 'pause', type: 'wait', data: { seconds: 1 } }] }));
    writeFileSync(join(app, 'hello.test.json'), JSON.stringify({ flow: 'hello.json', tests: [{ name: 'waits', expect: { status: 'succeeded' }, expct: {} }] }));
    writeFileSync(
      join(app, 'test.mjs'),
      `import { loadTestFile } from '@gantry/testing';
const typo = await loadTestFile('hello.test.json');
console.log(typo.diagnostics.map((d) => d.code + ' ' + d.pointer).join('\\n'));`,
    );
    const run = spawnSync(process.execPath, ['test.mjs'], { cwd: app, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('UNKNOWN_KEY /tests/0/expct\n');
  });
});
