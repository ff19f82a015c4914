import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeClock, GantryError, validateConfigText, type AgentTask, type GantryConfig } from '@gantry/engine';
import { commandAgent, httpAgent, llmAgent, minimalEnvironment, moduleAgent, withCircuitBreaker } from '@gantry/executors';
import { agentsFromConfig, commandEnvironment, outboundFromConfig } from './agents.js';

const factories = { moduleAgent, httpAgent, commandAgent, llmAgent, withCircuitBreaker, minimalEnvironment };
const dir = mkdtempSync(join(tmpdir(), 'gantry-cli-agents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = (agent: string): AgentTask => ({ task_id: 'r1:n', agent, task: 't', inputs: { x: 1 }, run: { id: 'r1', flow: 'f' }, node: 'n', attempt: 1 });

let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

/** A loopback server answering every request with `status` and `body`. */
async function answering(status: number, body: (path: string, text: string) => unknown): Promise<string> {
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body(req.url ?? '', text)));
    });
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the configuration of agents and outbound calls', () => {
  it('accepts a configuration with every transport and the outbound policy', () => {
    const config = {
      agents: {
        reviewer: { transport: 'http', url: 'https://agents.example.com/review', authentication: 'agents_token', poll_interval_ms: 2000, timeout_ms: 600000, circuit_breaker: { failures: 3, reset_ms: 60000 } },
        scanner: { transport: 'command', command: './bin/scan', args: ['--json'], env: ['SCAN_RULES'], timeout_ms: 120000 },
        writer: { transport: 'llm', base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2', role: 'You write release notes.' },
        deployer: { transport: 'flow', flows: { deploy: './flows/deploy.json' } },
        greeter: { transport: 'module', module: './greeter.mjs' },
      },
      connectors: { prometheus: { base_url: 'http://127.0.0.1:9090', timeout_ms: 5000, credential: 'prom_token' } },
      credentials: { agents_token: { env: 'AGENTS_TOKEN' }, prom_token: { env: 'PROM_TOKEN', origins: ['http://127.0.0.1:9090'] } },
      outbound: {
        timeout_ms: 20000,
        connect_timeout_ms: 3000,
        max_response_bytes: 1048576,
        max_attempts: 4,
        retry_base_ms: 100,
        retry_max_ms: 2000,
        max_retry_after_ms: 10000,
        max_redirects: 2,
        allow_private_networks: false,
        allow: ['hooks.internal', '*.corp.example', '10.0.0.0/8', '::1', '[fd00::1]'],
      },
    };
    expect(validateConfigText(JSON.stringify(config)).diagnostics).toEqual([]);
  });

  it.each([
    [{ agents: { a: { transport: 'http' } } }, 'agents.a', 'url'],
    [{ agents: { a: { transport: 'command' } } }, 'agents.a', 'command'],
    [{ agents: { a: { transport: 'llm', base_url: 'http://127.0.0.1:11434/v1' } } }, 'agents.a', 'model'],
    [{ agents: { a: { transport: 'llm', model: 'm' } } }, 'agents.a', 'base_url'],
    [{ agents: { a: { transport: 'http', url: 'ftp://x' } } }, 'agents.a.url', ''],
    [{ agents: { a: { transport: 'http', url: 'https://x', circuit_breaker: { failures: 0 } } } }, 'agents.a.circuit_breaker.failures', ''],
    [{ outbound: { allow_private: true } }, 'outbound', 'allow_private'],
    [{ outbound: { max_attempts: 0 } }, 'outbound.max_attempts', ''],
    [{ outbound: { allow: ['http://hooks.internal'] } }, 'outbound.allow.0', ''],
    [{ connectors: { prometheus: { base_url: 'prometheus:9090' } } }, 'connectors.prometheus.base_url', ''],
  ])('rejects %j, naming %s', (config, where, key) => {
    const { ok, diagnostics } = validateConfigText(JSON.stringify(config));
    expect(ok).toBe(false);
    const text = diagnostics.map((d) => d.message).join('\n');
    expect(text).toContain(where);
    if (key !== '') expect(text).toContain(key);
  });

  it('maps the outbound policy to the executors\' options', () => {
    expect(outboundFromConfig(undefined)).toEqual({});
    expect(outboundFromConfig({ timeout_ms: 5, allow_private_networks: true, allow: ['10.0.0.0/8'], max_attempts: 1 })).toEqual({
      timeoutMs: 5,
      allowPrivateNetworks: true,
      allow: ['10.0.0.0/8'],
      maxAttempts: 1,
    });
  });
});

describe('agentsFromConfig', () => {
  it('builds http, llm and command agents that work, their configured addresses trusted', async () => {
    const http = await answering(200, (_path, text) => ({ status: 'succeeded', result: { echoed: JSON.parse(text).inputs } }));
    const llm = await answering(200, () => ({ choices: [{ message: { role: 'assistant', content: '{"notes": "v2"}' } }] }));
    const program = join(dir, 'echo.mjs');
    writeFileSync(program, `let s = ''; process.stdin.on('data', (c) => (s += c)).on('end', () => console.log(JSON.stringify({ got: JSON.parse(s).inputs, token: process.env.SCAN_TOKEN ?? null })));`);
    const config: GantryConfig = {
      agents: {
        reviewer: { transport: 'http', url: `${http}/tasks` },
        writer: { transport: 'llm', base_url: `${llm}/v1`, model: 'm' },
        scanner: { transport: 'command', command: process.execPath, args: [program], authentication: 'scan_token' },
      },
      credentials: { scan_token: { env: 'SCAN_TOKEN' } },
    };
    const agents = await agentsFromConfig(config.agents!, dir, factories, { credential: (n) => (n === 'scan_token' ? 'scan-secret-123' : undefined), config, env: {} });
    expect(await agents.reviewer!.transport!.call(task('reviewer'), new AbortController().signal)).toEqual({ status: 'succeeded', result: { echoed: { x: 1 } } });
    expect(await agents.writer!.transport!.call(task('writer'), new AbortController().signal)).toEqual({ status: 'succeeded', result: { notes: 'v2' } });
    expect(await agents.scanner!.transport!.call(task('scanner'), new AbortController().signal)).toEqual({ status: 'succeeded', result: { got: { x: 1 }, token: '[REDACTED]' } });
  });

  it('puts out-of-process agents behind a circuit breaker by default, on the given clock', async () => {
    const down = await answering(503, () => ({ error: 'down' }));
    const clock = new FakeClock();
    const config: GantryConfig = { agents: { flaky: { transport: 'http', url: down, circuit_breaker: { failures: 2, reset_ms: 5000 } } }, outbound: { max_attempts: 1 } };
    const agents = await agentsFromConfig(config.agents!, dir, factories, { credential: () => undefined, config, clock, outbound: outboundFromConfig(config.outbound) });
    const call = () => agents.flaky!.transport!.call(task('flaky'), new AbortController().signal).catch((e: GantryError) => e);
    expect(await call()).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(await call()).toMatchObject({ code: 'AGENT_FAILED' });
    expect(await call()).toMatchObject({ code: 'AGENT_UNAVAILABLE', retryable: true });
  });

  it('turns an option the executors refuse into CONFIG_INVALID naming the agent', async () => {
    const config: GantryConfig = { agents: { a: { transport: 'http', url: 'https://agents.example.com' } }, outbound: { allow: ['10.0.0.0/40'] } };
    const error = await agentsFromConfig(config.agents!, dir, factories, { credential: () => undefined, config, outbound: outboundFromConfig(config.outbound) }).catch((e: GantryError) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toContain('agent "a": httpAgent: expected `allow[0]`');
  });
});

describe('a command agent\'s environment', () => {
  it('is the minimal one, what its env passes on and its own credential: never another variable, nor another credential', () => {
    const config: GantryConfig = {
      credentials: {
        scanner_token: { env: 'SCANNER_TOKEN_VAR' },
        deploy_key: { env: 'DEPLOY_KEY_VAR' },
        // A credential held in a variable the minimal set would pass on: withheld all the same.
        odd: { env: 'TZ' },
      },
      agents: { scanner: { transport: 'command', command: 'scan', authentication: 'scanner_token', env: ['SCAN_RULES', 'NOT_SET'] } },
    };
    const env = {
      PATH: '/bin',
      HOME: '/home/me',
      LANG: 'en_GB.UTF-8',
      LC_TIME: 'fr_FR.UTF-8',
      TMPDIR: '/tmp/me',
      TZ: 'odd-secret',
      SCAN_RULES: 'strict',
      SCANNER_TOKEN_VAR: 'mine',
      DEPLOY_KEY_VAR: 'k1',
      AWS_SECRET_ACCESS_KEY: 'k2',
      OTHER_SERVICE_TOKEN: 'k3',
      GITHUB_WEBHOOK_SECRET: 'k4',
    };
    const credential = (name: string) => env[config.credentials![name]!.env as keyof typeof env];
    const out = commandEnvironment(config.agents!.scanner!, { credential, config, env }, minimalEnvironment);
    expect(out.env).toEqual({ PATH: '/bin', HOME: '/home/me', LANG: 'en_GB.UTF-8', LC_TIME: 'fr_FR.UTF-8', TMPDIR: '/tmp/me', SCAN_RULES: 'strict', SCANNER_TOKEN_VAR: 'mine' });
    expect(out.secrets).toContain('mine');
  });

  it('gives a program with no authentication no credential at all', () => {
    const config: GantryConfig = { credentials: { scanner_token: { env: 'SCANNER_TOKEN_VAR' } }, agents: { lint: { transport: 'command', command: 'lint' } } };
    const env = { PATH: '/bin', SCANNER_TOKEN_VAR: 'mine', AWS_SECRET_ACCESS_KEY: 'k2' };
    expect(commandEnvironment(config.agents!.lint!, { credential: () => 'mine', config, env }, minimalEnvironment)).toEqual({ env: { PATH: '/bin' }, secrets: [] });
  });
});
