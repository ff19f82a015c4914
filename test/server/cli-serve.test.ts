// `gantry serve`'s command line: what it refuses before it listens, and how it says so.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
let dir: string;

function gantry(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', GITHUB_WEBHOOK_SECRET: '', ...env }, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-serve-cli-'));
  mkdirSync(join(dir, 'flows'));
  const flow = { name: 'Hook', nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: '/hook', authentication: 'github_webhook_secret' } }] };
  writeFileSync(join(dir, 'flows', 'hook.json'), JSON.stringify(flow));
  writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify({ credentials: { github_webhook_secret: { env: 'HOOK_SECRET' }, deploy_token: { env: 'DEPLOY_TOKEN' } } }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gantry serve', () => {
  it('is listed in the help and has its own', () => {
    expect(gantry(['--help']).stdout).toMatch(/serve\s+serve webhooks, the approvals and runs API, and metrics over HTTP/);
    const help = gantry(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gantry serve [--flows dir] [--port n]');
  });

  it('refuses to start without the webhook\'s secret, naming the flow, the node and the variable (exit 2)', () => {
    const r = gantry(['serve', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/flow "Hook" \(.*hook\.json\) node "hook": authentication "github_webhook_secret" needs the environment variable HOOK_SECRET, which is not set/);
    expect(r.stdout).not.toContain('listening');
  });

  it('refuses to start with an empty or whitespace-only secret, naming the variable, never its value (exit 2)', () => {
    for (const [value, state] of [['', 'is empty'], ['  \t ', 'holds only whitespace']] as const) {
      const r = gantry(['serve', '--port', '0'], { HOOK_SECRET: value });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`node "hook": authentication "github_webhook_secret" needs the environment variable HOOK_SECRET, which ${state}`));
      expect(r.stdout).not.toContain('listening');
    }
  });

  it('refuses to start with principals or aliases that are one name ignoring case, naming both (exit 2)', () => {
    writeFileSync(join(dir, 'clash.json'), JSON.stringify({ principals: { alice: { roles: ['lead'], aliases: ['alice-gh'] }, bob: { roles: ['pm'], aliases: ['Alice-GH'] } } }));
    const r = gantry(['serve', '--port', '0', '--config', 'clash.json'], { HOOK_SECRET: 's' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/clash\.json:\d+:\d+ BAD_VALUE alias "Alice-GH" of principal "bob" is alias "alice-gh" of principal "alice" ignoring case/);
  });

  it('names every webhook whose secret is missing at once, not one per attempt', () => {
    mkdirSync(join(dir, 'two'), { recursive: true });
    for (const [name, credential] of [['one', 'github_webhook_secret'], ['two', 'deploy_token']]) {
      writeFileSync(join(dir, 'two', `${name}.json`), JSON.stringify({ name, nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: `/${name}`, authentication: credential } }] }));
    }
    const r = gantry(['serve', '--flows', 'two', '--port', '0'], { DEPLOY_TOKEN: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 webhooks cannot be served:');
    expect(r.stderr).toMatch(/flow "one" .* needs the environment variable HOOK_SECRET/);
    expect(r.stderr).toMatch(/flow "two" .* needs the environment variable DEPLOY_TOKEN/);
  });

  it('refuses to start a webhook flow naming an agent the configuration does not bind, naming the flow and the agent (exit 2)', () => {
    mkdirSync(join(dir, 'unbound'), { recursive: true });
    const flow = { name: 'Unbound', nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: '/unbound' } }, { id: 'review', type: 'agent', data: { agent: 'ghost-reviewer', task: 'review' } }], edges: [{ from: 'hook', to: 'review' }] };
    writeFileSync(join(dir, 'unbound', 'unbound.json'), JSON.stringify(flow));
    const r = gantry(['serve', '--flows', 'unbound', '--port', '0']);
    expect(r.code).toBe(2);
    // Checked against the configuration as the flow is loaded, as `gantry validate --config` does.
    expect(r.stderr).toMatch(/unbound\.json:1:\d+ UNKNOWN_AGENT node "review" \(agent\), data\.agent: the configuration's `agents` define no agent "ghost-reviewer"/);
    expect(r.stdout).not.toContain('listening');
  });

  it('says which usage is wrong: a bad port, a missing folder, an invalid flow, a port in use (exit 2)', async () => {
    expect(gantry(['serve', '--port', '99999']).stderr).toContain('--port must be a whole number from 0 to 65535, got "99999"');
    const missing = gantry(['serve', '--flows', 'nowhere'], { HOOK_SECRET: 's' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the flows folder nowhere: no such file/);
    mkdirSync(join(dir, 'bad'), { recursive: true });
    writeFileSync(join(dir, 'bad', 'typo.json'), '{ "name": "x", "nodes": [{ "id": "a", "type": "wait", "data": { "seconds": 1 }, "timout": 1 }] }');
    const invalid = gantry(['serve', '--flows', 'bad'], { HOOK_SECRET: 's' });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/typo\.json:1:\d+ UNKNOWN_KEY/);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (blocker.address() as { port: number }).port;
      const busy = gantry(['serve', '--port', String(port)], { HOOK_SECRET: 's' });
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain(`127.0.0.1:${port} is in use by another program; choose another --port`);
    } finally {
      blocker.close();
    }
  });
});
