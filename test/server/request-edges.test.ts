// Requests at the edges: request targets a base URL would misread, a webhook whose signature would
// not cover its trigger, and the decision API's own body limit.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { compileFlow, createEngine, isGantryError } from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import { createServer } from '@gantry/server';
import { TOKENS, asPrincipal, serve, type Served } from './harness.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** One request written by hand, so that its target reaches the server exactly as typed. */
function raw(url: string, requestLine: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = Object.entries({ host: 'gantry.test', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`${requestLine}\r\n${lines.join('\r\n')}\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, body: body.startsWith('{') ? JSON.parse(body) : body });
    });
  });
}

describe('gantry serve: request targets', () => {
  it('reads //x/runs as a path (404), not as the host x and the path /runs', async () => {
    served = await serve();
    const answer = await raw(served.url, 'GET //evil.example/runs HTTP/1.1', { authorization: `Bearer ${TOKENS.alice}` });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
    expect(answer.body.error.message).toContain('//evil.example/runs');
  });

  it('answers a target that is no path and no URL 400, naming it, not 500', async () => {
    served = await serve();
    const answer = await raw(served.url, 'GET http://[::1 HTTP/1.1', { authorization: `Bearer ${TOKENS.alice}` });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('http://[::1') });
  });

  it('still takes an absolute-form target (as proxies send it)', async () => {
    served = await serve();
    const answer = await raw(served.url, 'GET http://gantry.test/runs HTTP/1.1', { authorization: `Bearer ${TOKENS.alice}` });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ runs: [] });
  });
});

describe('gantry serve: a signature secret on a webhook without a body', () => {
  const flow = (method: string, authentication: string) => ({
    name: 'Query hook',
    nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: '/hook', method, authentication } }],
    edges: [],
  });
  const engine = (env: Record<string, string>) => createEngine({ executors: builtinExecutors, credentials: (name) => env[name.toUpperCase()] });

  it.each(['GET', 'DELETE'])('refuses %s with a *webhook_secret at start: the query string it triggers with would be unsigned', (method) => {
    const e = engine({ GITHUB_WEBHOOK_SECRET: 'secret' });
    let error: unknown;
    try {
      createServer({ engine: e, flows: [compileFlow(flow(method, 'github_webhook_secret'))] });
    } catch (caught) {
      error = caught;
    }
    expect(isGantryError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toMatch(new RegExp(`flow "Query hook" node "hook".*${method} webhook's trigger is its query string`));
  });

  it('serves GET with a bearer token, and POST with a signature secret', () => {
    const e = engine({ GITHUB_WEBHOOK_SECRET: 'secret', HOOK_TOKEN: 'token' });
    const get = createServer({ engine: e, flows: [compileFlow(flow('GET', 'hook_token'))] });
    expect(get.webhooks).toEqual([expect.objectContaining({ method: 'GET', scheme: 'bearer' })]);
    const post = createServer({ engine: e, flows: [compileFlow(flow('POST', 'github_webhook_secret'))] });
    expect(post.webhooks).toEqual([expect.objectContaining({ method: 'POST', scheme: 'hmac-sha256' })]);
  });
});

describe('gantry serve: the decision API body limit', () => {
  it('names its own fixed limit in the 413, not server.body_limit_bytes (which does not change it)', async () => {
    served = await serve();
    const answer = await asPrincipal(served.url, TOKENS.alice, 'POST', '/runs/r/nodes/approval/decision', { decision: 'approve', comment: 'x'.repeat(70_000) });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(answer.body.error.message).toContain('65536 bytes');
    expect(answer.body.error.message).not.toContain('server.body_limit_bytes');
  });
});
