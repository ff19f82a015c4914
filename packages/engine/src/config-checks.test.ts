import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialVariable, parseConfigText, validateConfigText } from './config.js';

const root = mkdtempSync(join(tmpdir(), 'gantry-config-checks-'));
const folder = join(root, 'config');
mkdirSync(join(folder, 'flows'), { recursive: true });
mkdirSync(join(root, 'outside'));
writeFileSync(join(folder, 'flows', 'deploy.json'), '{}');
writeFileSync(join(root, 'outside', 'deploy.json'), '{"secret": "canary-0d1f"}');
symlinkSync(join(root, 'outside'), join(folder, 'flows', 'linked'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const problems = (config: object, place = {}) => validateConfigText(JSON.stringify(config), place).diagnostics.map((d) => `${d.code} ${d.pointer}`);

describe('what the configuration says about credentials', () => {
  it('declares each credential it names, with the variable that holds it', () => {
    const config = {
      agents: {
        reviewer: { transport: 'http', url: 'https://agents.example.com/review', authentication: 'agents_token' },
        scanner: { transport: 'command', command: 'scan', authentication: 'scan_tokn' },
      },
      connectors: { github: { credential: 'gh_app' } },
      notifications: { service: 'slack', action: 'send_notification', authentication: 'ops_slack' },
      credentials: { agents_token: { env: 'AGENTS_TOKEN' }, scan_token: { env: 'SCAN_TOKEN' } },
    };
    expect(problems(config)).toEqual([
      'CREDENTIAL_UNDECLARED /agents/scanner/authentication',
      'CREDENTIAL_UNDECLARED /connectors/github/credential',
      'CREDENTIAL_UNDECLARED /notifications/authentication',
    ]);
    expect(validateConfigText(JSON.stringify(config)).diagnostics[0]!.message).toContain('did you mean "scan_token"?');
    expect(credentialVariable(config as never, 'agents_token')).toBe('AGENTS_TOKEN');
    expect(credentialVariable(config as never, 'ops_api_token')).toBeUndefined();
    expect(credentialVariable(config as never, 'constructor')).toBeUndefined();
  });

  it('names a key with a / in it as it is written, in the checks\' messages as in the schema\'s', () => {
    const config = {
      agents: { r: { transport: 'http', url: 'https://a.example.com/x', authentication: 'ops/token' } },
      connectors: { 'git/hub': { credential: 'no~pe' } },
      credentials: { 'ops/token': { env: 'OPS_TOKEN', origins: ['https://b.example.com'] } },
    };
    const messages = validateConfigText(JSON.stringify(config)).diagnostics.map((d) => `${d.pointer} ${d.message.split(':')[0]}`);
    expect(messages).toEqual(['/connectors/git~1hub/credential connectors.git/hub.credential', '/credentials/ops~1token/origins credentials.ops/token.origins']);
    const wrong = { connectors: { 'git/hub': { credential: 3 } } };
    expect(validateConfigText(JSON.stringify(wrong)).diagnostics.map((d) => d.message)).toEqual(['connectors.git/hub.credential: expected string, got 3 (number)']);
  });

  it('never sends a webhook secret, never passes a credential\'s variable by env, and keeps explicit origins consistent', () => {
    const config = {
      agents: {
        reviewer: { transport: 'http', url: 'https://agents.example.com/review', authentication: 'agents_token' },
        hooked: { transport: 'llm', base_url: 'https://llm.example.com/v1', model: 'm', authentication: 'github_webhook_secret' },
        scanner: { transport: 'command', command: 'scan', env: ['SCAN_RULES', 'AGENTS_TOKEN'] },
      },
      credentials: {
        agents_token: { env: 'AGENTS_TOKEN', origins: ['https://other.example.com'] },
        github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' },
      },
    };
    expect(problems(config)).toEqual([
      'CREDENTIAL_UNDECLARED /agents/hooked/authentication',
      'BAD_VALUE /agents/scanner/env/1',
      'BAD_VALUE /credentials/agents_token/origins',
    ]);
  });

  it('takes origins only as origins, and env only as variable names', () => {
    expect(problems({ credentials: { a: { env: 'A', origins: ['https://api.github.com/v3'] } } })).toEqual(['BAD_VALUE /credentials/a/origins/0']);
    expect(problems({ credentials: { a: { env: 'A', origins: ['https://api.github.com', 'http://127.0.0.1:9090/'] } } })).toEqual([]);
    expect(problems({ agents: { s: { transport: 'command', command: 's', env: ['NOT A NAME'] } } })).toEqual(['BAD_VALUE /agents/s/env/0']);
  });

  it('names a URL that does not parse where it is, instead of throwing', () => {
    const credentials = { t: { env: 'T' } };
    expect(problems({ agents: { a: { transport: 'http', url: 'https://exa mple.com', authentication: 't' } }, credentials })).toEqual(['BAD_VALUE /agents/a/url']);
    expect(problems({ connectors: { c: { base_url: 'http://', credential: 't' } }, credentials })).toEqual(['BAD_VALUE /connectors/c/base_url']);
  });
});

describe('the configuration\'s agents\' flows', () => {
  const agent = (flows: Record<string, string>) => ({ agents: { ops: { transport: 'flow', flows } } });

  it('are files of its folder tree: no absolute path, no escape, no link out', () => {
    expect(problems(agent({ a: 'flows/deploy.json', b: './flows/../flows/deploy.json', missing: 'flows/none.json' }), { folder })).toEqual([]);
    expect(problems(agent({ a: '../outside/deploy.json', b: join(folder, 'flows', 'deploy.json'), c: 'flows/linked/deploy.json' }), { folder })).toEqual([
      'FLOW_REF_OUTSIDE /agents/ops/flows/a',
      'FLOW_REF_OUTSIDE /agents/ops/flows/b',
      'FLOW_REF_OUTSIDE /agents/ops/flows/c',
    ]);
    const error = (() => {
      try {
        parseConfigText(JSON.stringify(agent({ c: 'flows/linked/deploy.json' })), 'gantry.config.json', { folder });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(error!.message).not.toContain('canary-0d1f');
  });

  it('may reach a wider tree when the place says so, and are not checked without a place', () => {
    expect(problems(agent({ a: '../outside/deploy.json' }), { folder, flowsRoot: root })).toEqual([]);
    expect(problems(agent({ a: '/etc/passwd' }))).toEqual([]);
  });
});
