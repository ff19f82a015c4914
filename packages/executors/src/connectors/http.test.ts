import { describe, expect, it } from 'vitest';
import { GantryError } from '@gantry/engine';
import { httpConnector, type HttpConnectorOptions } from './http.js';
import { everythingIn, json, rejection, loopbackPerTest, testContext } from './test-kit.js';

const CANARY = 'canary-3f9a1c7e-http-secret';

const serve = loopbackPerTest();
/** The loopback test servers are private addresses: allowed here, as an operator would allow them. */
const http = (options: HttpConnectorOptions = {}) => httpConnector({ allow: ['127.0.0.1'], retryBaseMs: 1, ...options });

describe('httpConnector', () => {
  it('GETs with the query merged into the URL and parses a JSON answer', async () => {
    const s = await serve((_req, res) => json(res, 200, { ok: true, n: 1 }, { 'X-Trace': 'abc', 'Set-Cookie': 'sid=1' }));
    const { ctx } = testContext();
    const out = await http().call('get', { url: `${s.url}/items?a=1`, query: { b: 'two', tag: ['x', 'y'], skip: null } }, ctx);

    expect(out).toEqual({ status: 200, headers: expect.objectContaining({ 'x-trace': 'abc' }), body: { ok: true, n: 1 } });
    expect(out.headers).not.toHaveProperty('set-cookie');
    const [got] = s.received;
    expect(got?.method).toBe('GET');
    expect(got?.url).toBe('/items?a=1&b=two&tag=x&tag=y');
    expect(got?.headers['user-agent']).toBe('gantry');
    // A GET is safe to repeat: it carries no idempotency key.
    expect(got?.headers['idempotency-key']).toBeUndefined();
  });

  it('POSTs an object as JSON with the idempotency key and the bearer credential', async () => {
    const s = await serve((_req, res) => json(res, 201, { id: 7 }));
    const { ctx } = testContext({ credentials: { deploy_api: 'token-123' }, origins: { deploy_api: [s.url] }, authentication: 'deploy_api', idempotencyKey: 'run-9/deploy' });
    const out = await http().call('post', { url: `${s.url}/deploys`, body: { ref: 'main', force: false } }, ctx);

    expect(out).toMatchObject({ status: 201, body: { id: 7 } });
    const [got] = s.received;
    expect(got?.method).toBe('POST');
    expect(JSON.parse(got?.body ?? '')).toEqual({ ref: 'main', force: false });
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.headers['idempotency-key']).toBe('run-9/deploy');
    expect(got?.headers.authorization).toBe('Bearer token-123');
  });

  it('sends a string body as it is and returns a text answer as text', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('pong');
    });
    const { ctx } = testContext();
    const out = await http().call(
      'request',
      { url: `${s.url}/ping`, method: 'put', body: 'a=1&b=2', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Count': 3 } },
      ctx,
    );
    expect(out).toMatchObject({ status: 200, body: 'pong' });
    const [got] = s.received;
    expect(got).toMatchObject({ method: 'PUT', body: 'a=1&b=2' });
    expect(got?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got?.headers['x-count']).toBe('3');
  });

  it('maps each shorthand action to its method', async () => {
    const s = await serve((_req, res) => res.writeHead(204).end());
    const { ctx } = testContext();
    const connector = http();
    for (const action of ['put', 'patch', 'delete']) await connector.call(action, { url: s.url }, ctx);
    expect(s.received.map((r) => r.method)).toEqual(['PUT', 'PATCH', 'DELETE']);
    expect(s.received.every((r) => r.headers['idempotency-key'] === 'run-1/node-a')).toBe(true);
  });

  it('fails a status outside expect_status, naming it, with an excerpt of the body', async () => {
    const s = await serve((_req, res) => json(res, 200, { note: 'already exists' }));
    const { ctx } = testContext();
    const error = await rejection(http().call('post', { url: `${s.url}/x`, expect_status: 201 }, ctx));
    expect(error).toBeInstanceOf(GantryError);
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(error.message).toContain('HTTP 200 (expected 201)');
    expect(error.message).toContain('already exists');

    const out = await http().call('get', { url: `${s.url}/x`, expect_status: [200, 404] }, ctx);
    expect(out.status).toBe(200);
  });

  it('accepts an error status that expect_status names', async () => {
    const s = await serve((_req, res) => json(res, 404, { missing: true }));
    const { ctx } = testContext();
    const out = await http().call('get', { url: s.url, expect_status: [200, 404] }, ctx);
    expect(out).toMatchObject({ status: 404, body: { missing: true } });
  });

  it('makes a 5xx or 429 retryable and any other 4xx not', async () => {
    let status = 500;
    const s = await serve((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(`<h1>status ${status}</h1>`);
    });
    const { ctx } = testContext();
    const connector = http();
    const cases: [number, boolean][] = [[500, true], [503, true], [429, true], [404, false], [400, false]];
    for (const [code, retryable] of cases) {
      status = code;
      const error = await rejection(connector.call('get', { url: `${s.url}/thing` }, ctx));
      expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable });
      expect(error.message).toContain(`http get: GET ${s.url}/thing answered HTTP ${code}`);
      expect(error.message).toContain(`<h1>status ${code}</h1>`);
    }
  });

  it('times out a service that never answers, well within the test', async () => {
    const s = await serve(() => {});
    const { ctx } = testContext();
    const started = Date.now();
    const error = await rejection(http({ timeoutMs: 150 }).call('get', { url: s.url }, ctx));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('timed out after 150 ms');
  });

  it('counts reading the body against the total timeout', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial…'); // and never ends
    });
    const { ctx } = testContext();
    const error = await rejection(http({ timeoutMs: 150 }).call('get', { url: s.url }, ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('timed out');
  });

  it('refuses an answer whose declared length is over the cap', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(4096) });
      res.end('x'.repeat(4096));
    });
    const { ctx } = testContext();
    const error = await rejection(http({ maxResponseBytes: 1024 }).call('get', { url: s.url }, ctx));
    expect(error).toMatchObject({ code: 'RESPONSE_TOO_LARGE', retryable: false });
    expect(error.message).toContain('larger than the 1024-byte limit');
  });

  it('does not hold a HEAD answer\'s declared length against the cap', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(1_000_000) });
      res.end();
    });
    const out = await http({ maxResponseBytes: 1024 }).call('request', { url: s.url, method: 'HEAD' }, testContext().ctx);
    expect(out).toMatchObject({ status: 200, body: '', headers: { 'content-length': '1000000' } });
  });

  it('aborts an endless streamed answer once it passes the cap', async () => {
    let closed = false;
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const pump = setInterval(() => res.write(chunk), 1);
      res.on('close', () => {
        closed = true;
        clearInterval(pump);
      });
    });
    const { ctx } = testContext();
    const started = Date.now();
    const error = await rejection(http({ maxResponseBytes: 64 * 1024, timeoutMs: 10_000 }).call('get', { url: s.url }, ctx));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ code: 'RESPONSE_TOO_LARGE', retryable: false });
    expect(error.message).toContain('65536-byte limit');
    await expect.poll(() => closed).toBe(true);
  });

  it('stops when the caller aborts, and passes on an engine error given as the reason', async () => {
    const s = await serve(() => {});
    const controller = new AbortController();
    const { ctx } = testContext({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(http().call('post', { url: s.url, body: {} }, ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(error.message).toContain('aborted by the caller');

    const engine = new AbortController();
    const reason = new GantryError('TIMEOUT', 'node deploy ran past its 30 s timeout', { retryable: true });
    setTimeout(() => engine.abort(reason), 50);
    const passed = await rejection(http().call('get', { url: s.url }, testContext({ signal: engine.signal }).ctx));
    expect(passed).toBe(reason);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const s = await serve((_req, res) => json(res, 200, {}));
    const { ctx } = testContext({ signal: AbortSignal.abort() });
    const error = await rejection(http().call('get', { url: s.url }, ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED' });
    expect(s.received).toHaveLength(0);
  });

  it('makes a refused connection a retryable failure', async () => {
    const s = await serve(() => {});
    const url = s.url;
    await s.close();
    const error = await rejection(http().call('get', { url }, testContext().ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('fails an answer that claims JSON but is not', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"truncated":');
    });
    const error = await rejection(http().call('get', { url: s.url }, testContext().ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(error.message).toContain('not JSON');
  });

  it('refuses bad params with USAGE errors that say what was expected and found', async () => {
    const { ctx } = testContext();
    const connector = http();
    const cases: [string, Record<string, never> | object, string][] = [
      ['fetch', { url: 'http://127.0.0.1:1' }, 'unknown action "fetch"; expected one of request, get, post, put, patch, delete'],
      ['get', {}, 'expected `url` to be a non-empty string (an http or https URL), got nothing'],
      ['get', { url: 'ftp://example.com/x' }, 'expected `url` to use http or https, got the scheme "ftp"'],
      ['get', { url: 'not a url' }, 'expected `url` to be an absolute http or https URL, got `"not a url"` (string)'],
      ['get', { url: 'http://127.0.0.1:1', method: 'POST' }, 'the action sets the method GET but `method` says POST'],
      ['request', { url: 'http://127.0.0.1:1', method: 'TRACE' }, 'expected `method` to be one of'],
      ['get', { url: 'http://127.0.0.1:1', expect_status: '200' }, 'expected `expect_status` to be an HTTP status'],
      ['get', { url: 'http://127.0.0.1:1', headers: { 'x-a': 'one\r\ntwo' } }, 'header "x-a" is not a valid'],
      ['get', { url: 'http://127.0.0.1:1', query: 'a=1' }, 'expected `query` to be an object, got `"a=1"` (string)'],
    ];
    for (const [action, params, message] of cases) {
      const error = await rejection(connector.call(action, params as never, ctx));
      expect(error).toMatchObject({ code: 'USAGE' });
      expect(error.message).toContain(message);
    }
    const missing = await rejection(connector.call('get', { url: 'http://127.0.0.1:1' }, { ...ctx, authentication: 'nope' }));
    expect(missing).toMatchObject({ code: 'USAGE' });
    expect(missing.message).toContain('the credential "nope" is not configured');
  });

  it('validates its options when made', () => {
    expect(() => httpConnector({ timeoutMs: 0 })).toThrow('httpConnector: expected `timeoutMs` to be an integer ≥ 1, got `0` (number)');
    expect(() => httpConnector({ maxResponseBytes: 1.5 })).toThrow('expected `maxResponseBytes` to be an integer ≥ 1');
  });

  it('never lets the credential out: not in results, errors or log lines', async () => {
    let status = 200;
    // A service that echoes the Authorization header, as echo endpoints and some error pages do.
    const s = await serve((req, res) => json(res, status, { echoed: req.headers.authorization, [`k-${CANARY}`]: 1 }, { 'x-echo': String(req.headers.authorization) }));
    const { ctx, logText } = testContext({ credentials: { api: `${CANARY}\n` }, origins: { api: [s.url] }, authentication: 'api' });
    const connector = http({ timeoutMs: 300 });

    const out = await connector.call('post', { url: `${s.url}/echo`, body: { a: 1 } }, ctx);
    expect(s.received[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(out).toMatchObject({ body: { echoed: 'Bearer [REDACTED]' }, headers: { 'x-echo': 'Bearer [REDACTED]' } });

    status = 401;
    const failures = [await rejection(connector.call('post', { url: `${s.url}/echo` }, ctx))];
    await s.close();
    const silent = await serve(() => {});
    failures.push(await rejection(connector.call('get', { url: silent.url }, ctx)));

    for (const thing of [out, ...failures]) expect(everythingIn(thing)).not.toContain(CANARY);
    expect(failures[0]?.message).toContain('Bearer [REDACTED]');
    expect(logText()).toContain('outbound call');
    expect(logText()).not.toContain(CANARY);
  });
});
