/**
 * A canary credential through every transport and connector, on their failing paths as well:
 * services that echo the Authorization header back in bodies and headers, redirects, error
 * statuses, a program that prints its token. The canary must reach the services (or the test
 * proves nothing) and appear nowhere else: not in node outputs, errors, the run's journal, the
 * run record, nor any log line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, MemoryStore, type FlowDocument } from '@gantry/engine';
import { builtinConnectors, builtinExecutors, commandAgent, httpAgent, llmAgent, withCircuitBreaker } from '@gantry/executors';

// pino is a dependency of the packages, not of the workspace root: loaded the way they load it.
const { pino } = createRequire(new URL('../../packages/executors/package.json', import.meta.url))('pino') as typeof import('pino');

const CANARY = `canary-${process.pid}-7d1e0c55-never-leak`;

/** A hostile service: it quotes the Authorization header it got wherever it can. */
let server: Server;
let base = '';
let other = '';
const seen: string[] = [];
/** The Authorization headers the redirect's target got. */
const landed: string[] = [];
const landedPaths: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'gantry-canary-'));

function start(handler: (path: string, auth: string, body: string) => { status: number; body: unknown; headers?: Record<string, string> }): Promise<Server> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const auth = String(req.headers.authorization ?? '');
      seen.push(auth, body);
      const answer = handler(req.url ?? '', auth, body);
      res.writeHead(answer.status, { 'content-type': 'application/json', 'x-echo': auth, ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(s)));
}

let otherServer: Server;
beforeAll(async () => {
  otherServer = await start((path, auth) => {
    landed.push(auth);
    landedPaths.push(path);
    return { status: 500, body: { where: path, auth } };
  });
  other = `http://127.0.0.1:${(otherServer.address() as AddressInfo).port}`;
  server = await start((path, auth) => {
    if (path.startsWith('/connector')) return { status: 401, body: { message: `bad credentials: ${auth}` } };
    if (path.startsWith('/redirect-echo')) return { status: 307, body: {}, headers: { location: `${other}/landed?token=${encodeURIComponent(auth)}` } };
    if (path.startsWith('/redirect')) return { status: 307, body: {}, headers: { location: `${other}/landed` } };
    if (path.startsWith('/agent')) return { status: 500, body: { status: 'failed', error: { message: `agent refused ${auth}` } } };
    if (path.startsWith('/github')) return { status: 403, body: { message: `token ${auth} lacks scope` } };
    if (path.startsWith('/prometheus')) return { status: 200, body: { status: 'success', data: { resultType: 'scalar', result: [1, '1'] }, warnings: [auth] } };
    if (path.startsWith('/v1/chat/completions')) {
      return { status: 200, body: { choices: [{ message: { role: 'assistant', content: JSON.stringify({ summary: `I was called with ${auth}` }) } }] } };
    }
    return { status: 404, body: { path, auth } };
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  otherServer.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a canary credential', () => {
  it('reaches the services and shows up nowhere else: outputs, errors, journal, run record, logs', async () => {
    const program = join(dir, 'leaky.mjs');
    writeFileSync(program, `process.stdin.resume(); process.stdin.on('end', () => { console.error('login failed with ' + process.env.SCAN_TOKEN); process.exit(1); });`);
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const credentials = (name: string) => (name.endsWith('_token') || name.endsWith('_key') ? CANARY : undefined);
    const outbound = { allow: ['127.0.0.1'], maxAttempts: 2, retryBaseMs: 1 };
    const store = new MemoryStore();
    const engine = createEngine({
      executors: builtinExecutors,
      store,
      logger,
      credentials,
      // Every service here is the one stand-in: each credential may go to it, and nowhere else.
      credentialOrigins: () => [base],
      connectors: builtinConnectors({ outbound, github: { baseUrl: `${base}/github` }, prometheus: { baseUrl: `${base}/prometheus` } }),
      agents: {
        remote: withCircuitBreaker(httpAgent({ ...outbound, url: `${base}/agent`, authentication: 'agent_key', credential: credentials, log: logger }), { failures: 1 }),
        model: llmAgent({ baseUrl: `${base}/v1`, model: 'm', authentication: 'openai_key', credential: credentials, log: logger }),
        scanner: commandAgent({ command: process.execPath, args: [program], env: { ...process.env, SCAN_TOKEN: CANARY }, secrets: [CANARY], log: logger }),
      },
    });
    const failing = ['api', 'bounced', 'echoed', 'remote', 'remote_again', 'review', 'scan'];
    const flow: FlowDocument = {
      name: 'Canary',
      nodes: [
        { id: 'api', type: 'external_api', data: { service: 'http', action: 'post', url: `${base}/connector`, authentication: 'api_key', body: { a: 1 } } },
        // Retried by the engine (a call is one attempt): the failures pass through node.retrying too.
        { id: 'bounced', type: 'external_api', data: { service: 'http', action: 'get', url: `${base}/redirect`, authentication: 'api_key' }, retry: { max_attempts: 2, initial_seconds: 0 } },
        // A service that writes the token into a redirect to elsewhere: that hop is refused.
        { id: 'echoed', type: 'external_api', data: { service: 'http', action: 'get', url: `${base}/redirect-echo`, authentication: 'api_key' } },
        { id: 'review', type: 'external_api', data: { service: 'github', action: 'create_comment', repository: 'o/r', issue_number: 1, body: 'hi' } },
        { id: 'metrics', type: 'external_api', data: { service: 'prometheus', action: 'query', query: 'up' } },
        { id: 'remote', type: 'agent', data: { agent: 'remote', task: 'review' }, retry: { max_attempts: 2, initial_seconds: 0 } },
        { id: 'remote_again', type: 'agent', data: { agent: 'remote', task: 'review' } },
        { id: 'summary', type: 'agent', data: { agent: 'model', task: 'summarise' } },
        { id: 'scan', type: 'agent', data: { agent: 'scanner', task: 'scan' } },
        { id: 'done', type: 'wait', data: { seconds: 0 } },
      ],
      edges: [...failing.map((from) => ({ from, to: 'done', condition: 'error' })), { from: 'metrics', to: 'done' }, { from: 'summary', to: 'done' }],
    } as FlowDocument;
    const run = await engine.start(flow, { trigger: {} });
    const result = await run.finished;

    // The services did get it, so the rest of the test means something.
    expect(seen.some((s) => s.includes(CANARY))).toBe(true);
    // The redirect to another origin went without it; the one that carried it in its URL did not go.
    expect(landed.length).toBeGreaterThan(0);
    expect(new Set(landed)).toEqual(new Set(['']));
    expect(new Set(landedPaths)).toEqual(new Set(['/landed']));

    const events = store.events(result.runId);
    const failed = events.filter((e) => e.type === 'node.failed').map((e) => (e as { nodeId: string }).nodeId);
    expect(new Set(failed)).toEqual(new Set(failing));
    expect(events.find((e) => e.type === 'node.failed' && e.nodeId === 'echoed')).toMatchObject({ error: { code: 'CREDENTIAL_REFUSED' } });
    const messages = events.filter((e) => e.type === 'node.failed').map((e) => JSON.stringify(e)).join('\n');
    expect(messages).toContain('[REDACTED]');
    expect(events.filter((e) => e.type === 'node.retrying').map((e) => (e as { nodeId: string }).nodeId).sort()).toEqual(['bounced', 'remote']);

    const everything = [
      JSON.stringify(events),
      inspect(events, { depth: 20 }),
      JSON.stringify(store.getRun(result.runId)),
      JSON.stringify(result),
      inspect(result, { depth: 20 }),
      lines.join(''),
    ].join('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(everything).not.toContain(CANARY);
  });
});
