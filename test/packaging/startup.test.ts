/**
 * A CLI that starts fast (issue 18): each command loads only what it needs. Checked on the built
 * command, by recording every module the process loads (test/support/module-trace.mjs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'gantry-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The modules `gantry …args` loaded, as paths relative to the repository (packages, and node_modules/<package>). */
function loadedBy(...args: string[]): { status: number | null; stdout: string; modules: string[] } {
  const trace = join(dir, `trace-${args.join('-').replace(/\W+/g, '_')}.txt`);
  const run = spawnSync(process.execPath, ['--import', join(ROOT, 'test/support/module-trace.mjs'), BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, GANTRY_MODULE_TRACE: trace, NO_COLOR: '1' },
  });
  const modules = new Set<string>();
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const path = line.replace(/^file:\/\//, '');
    if (!path.startsWith('/')) continue;
    // pnpm's store: node_modules/.pnpm/<name>@<version>/node_modules/<name>/…
    const dependency = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    modules.add(dependency ? `node_modules/${dependency[1]}` : path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path);
  }
  return { status: run.status, stdout: run.stdout, modules: [...modules].sort() };
}

describe('what each command loads', () => {
  it('gantry --help loads the command line alone: no package, no command module', () => {
    const { status, stdout, modules } = loadedBy('--help');
    expect(status).toBe(0);
    expect(stdout).toContain('Usage: gantry <command>');
    expect(modules.filter((m) => m !== 'test/support/module-trace.mjs')).toEqual(['packages/cli/dist/bin.js', 'packages/cli/dist/exit-codes.js', 'packages/cli/dist/io.js', 'packages/cli/dist/main.js', 'packages/cli/dist/style.js', 'packages/cli/dist/version.js']);
  });

  it('gantry validate loads no SQLite, HTTP client, server, logger, ajv or run-time, and compiles no schema', () => {
    const { status, stdout, modules } = loadedBy('validate', 'flows/code-quality.json');
    expect(status).toBe(0);
    expect(stdout).toContain('valid (7 nodes');
    const dependencies = modules.filter((m) => m.startsWith('node_modules/'));
    for (const heavy of ['better-sqlite3', 'undici', 'pino', 'ajv', 'prom-client', 'p-queue', 'jsonc-parser']) expect(dependencies).not.toContain(`node_modules/${heavy}`);
    expect(modules.filter((m) => /^packages\/(executors|store-sqlite|server|agents-local|testing|ui)\//.test(m))).toEqual([]);
    expect(modules.filter((m) => m.startsWith('packages/engine/dist/run/'))).toEqual([]);
    // The flow schema's validator was generated at build time: loaded, not compiled.
    expect(modules).toContain('packages/engine/schemas/validate-flow.cjs');
  });

  it('gantry validate of a file that is not JSON loads the parser that places the error', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": "broken",\n  "nodes": [ }');
    const { status, stdout, modules } = loadedBy('validate', file);
    expect(status).toBe(2);
    expect(stdout).toContain('broken.json:2:14 error JSON_SYNTAX');
    expect(modules).toContain('node_modules/jsonc-parser');
  });
});
