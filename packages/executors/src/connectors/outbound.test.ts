/**
 * The outbound policy as every connector sees it, against loopback servers: one attempt per call
 * (the wait a Retry-After asks for carried on the error), connect retries on the caller's clock,
 * the total deadline, redirects, and the address guard.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@gantry/engine';
import { githubConnector } from './github.js';
import { httpConnector, type HttpConnectorOptions } from './http.js';
import { retryAfterMs } from './http-call.js';
import { OUTBOUND_DEFAULTS, resolveOutbound } from './outbound.js';
import { closedPort, json, loopbackPerTest, rejection, testContext, until } from './test-kit.js';

const serve = loopbackPerTest();
const http = (options: HttpConnectorOptions = {}) => httpConnector({ allow: ['127.0.0.1'], ...options });

/** Answers the statuses in turn (the last one from then on), with optional headers per answer. */
function sequence(...answers: [number, Record<string, string>?][]) {
  let i = 0;
  return serve((_req, res) => {
    const [status, headers] = answers[Math.min(i++, answers.length - 1)]!;
    json(res, status, { status }, headers);
  });
}

describe('one attempt per call: the engine owns retries', () => {
  it('reports a 503 at once as retryable: the server sees one request', async () => {
    const s = await sequence([503], [200]);
    const error = await rejection(http().call('get', { url: `${s.url}/x` }, testContext().ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('answered HTTP 503');
    expect(s.received).toHaveLength(1);
  });

  it('reports a 4xx other than 408 and 429 as final', async () => {
    const s = await sequence([404, { 'retry-after': '3' }], [200]);
    const error = await rejection(http().call('get', { url: s.url }, testContext().ctx));
    expect(error).toMatchObject({ retryable: false });
    // A wait is carried only where a retry may follow.
    expect(error.retryAfterMs).toBeUndefined();
    expect(s.received).toHaveLength(1);
  });

  it('reports a dropped connection at once as retryable: the request may have reached the other side', async () => {
    let calls = 0;
    const s = await serve((_req, res) => {
      if (calls++ === 0) return void res.socket?.destroy();
      json(res, 200, { ok: true });
    });
    const error = await rejection(http().call('post', { url: s.url, body: { a: 1 } }, testContext().ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(s.received).toHaveLength(1);
  });

  it('carries the wait a Retry-After asks for (seconds) as retryAfterMs, at most maxRetryAfterMs', async () => {
    const s = await sequence([429, { 'retry-after': '2' }], [503, { 'retry-after': '120' }], [503, { 'retry-after': '120' }], [503, { 'retry-after': 'soon' }]);
    const call = (options: HttpConnectorOptions = {}) => rejection(http(options).call('get', { url: s.url }, testContext().ctx));
    const asked = await call();
    expect(asked).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true, retryAfterMs: 2_000 });
    expect(asked.message).toMatch(/answered HTTP 429 .*\(Retry-After: 2\)/);
    expect(await call()).toMatchObject({ retryAfterMs: 30_000 });
    expect(await call({ maxRetryAfterMs: 300_000 })).toMatchObject({ retryAfterMs: 120_000 });
    expect((await call()).retryAfterMs).toBeUndefined();
    expect(s.received).toHaveLength(4);
  });

  it('reads a Retry-After date on the caller\'s clock', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const s = await sequence([503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }]);
    const error = await rejection(http().call('get', { url: s.url }, testContext({ clock }).ctx));
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 10_000 });
  });

  it('tries a refused connection again, any method, with full jitter on the caller\'s clock', async () => {
    const clock = new FakeClock();
    const port = await closedPort();
    const { ctx, logText } = testContext({ clock });
    const retries = () => logText().split('\n').filter((l) => l.includes('outbound call retrying')).map((l) => (JSON.parse(l) as { delayMs: number }).delayMs);
    const call = rejection(http({ maxAttempts: 3, retryBaseMs: 40, retryMaxMs: 100, random: () => 0.5 }).call('post', { url: `http://127.0.0.1:${port}/`, body: {} }, ctx));
    await until(() => retries().length === 1, 'the first connect retry');
    // The wait is on the clock: real time passing does not end it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(retries()).toEqual([20]);
    await clock.advance(20);
    await until(() => retries().length === 2, 'the second connect retry');
    await clock.advance(40);
    const error = await call;
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
    expect(retries()).toEqual([20, 40]);
  });

  it('stops waiting between connect attempts when the caller aborts', async () => {
    const controller = new AbortController();
    const port = await closedPort();
    const { ctx, logText } = testContext({ clock: new FakeClock(), signal: controller.signal });
    const call = rejection(http({ maxAttempts: 3 }).call('get', { url: `http://127.0.0.1:${port}/` }, ctx));
    await until(() => logText().includes('outbound call retrying'), 'a connect retry');
    controller.abort();
    expect((await call).message).toContain('aborted by the caller');
  });

  it('times a hung server out on the caller\'s clock', async () => {
    const clock = new FakeClock();
    const s = await serve(() => {});
    const call = rejection(http({ timeoutMs: 5_000 }).call('get', { url: s.url }, testContext({ clock }).ctx));
    await until(() => s.received.length === 1, 'the request');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clock.advance(4_999);
    let settled = false;
    void call.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    await clock.advance(1);
    const error = await call;
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('timed out after 5000 ms');
  });

  it('reads Retry-After values', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('-1', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('outbound redirects', () => {
  it('follows a redirect within the origin, keeping the credential', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/old') return void res.writeHead(301, { location: '/new' }).end();
      json(res, 200, { at: req.url });
    });
    const { ctx } = testContext({ credentials: { api: 'tok' }, origins: { api: [s.url] }, authentication: 'api' });
    const out = await http().call('get', { url: `${s.url}/old` }, ctx);
    expect(out).toMatchObject({ status: 200, body: { at: '/new' } });
    expect(s.received.map((r) => r.headers.authorization)).toEqual(['Bearer tok', 'Bearer tok']);
  });

  it('drops the Authorization header on a redirect to another origin, and turns a 303 into a GET', async () => {
    const other = await serve((req, res) => json(res, 200, { method: req.method }));
    const s = await serve((_req, res) => void res.writeHead(303, { location: `${other.url}/result` }).end());
    const { ctx } = testContext({ credentials: { api: 'tok' }, origins: { api: [s.url] }, authentication: 'api' });
    const out = await http().call('post', { url: s.url, body: { a: 1 } }, ctx);
    expect(out).toMatchObject({ status: 200, body: { method: 'GET' } });
    expect(s.received[0]?.headers.authorization).toBe('Bearer tok');
    expect(other.received[0]?.headers.authorization).toBeUndefined();
    expect(other.received[0]?.body).toBe('');
  });

  it('keeps the method and body on a 307', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/a') return void res.writeHead(307, { location: '/b' }).end();
      json(res, 200, { method: req.method, body: req.body });
    });
    const out = await http().call('put', { url: `${s.url}/a`, body: { v: 2 } }, testContext().ctx);
    expect(out).toMatchObject({ body: { method: 'PUT', body: '{"v":2}' } });
  });

  it('stops after maxRedirects, and refuses a redirect to another scheme', async () => {
    const loop = await serve((req, res) => void res.writeHead(302, { location: `/r${req.url.length}` }).end());
    const error = await rejection(http({ maxRedirects: 3 }).call('get', { url: loop.url }, testContext().ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(error.message).toContain('redirected more than 3 times');
    expect(loop.received).toHaveLength(4);

    const file = await serve((_req, res) => void res.writeHead(302, { location: 'file:///etc/passwd' }).end());
    const scheme = await rejection(http().call('get', { url: file.url }, testContext().ctx));
    expect(scheme.message).toContain('redirected to a file URL');
  });

  it('returns a 3xx as it is when maxRedirects is 0', async () => {
    const s = await serve((_req, res) => void res.writeHead(302, { location: '/elsewhere' }).end());
    const out = await http({ maxRedirects: 0 }).call('get', { url: s.url, expect_status: 302 }, testContext().ctx);
    expect(out).toMatchObject({ status: 302, headers: { location: '/elsewhere' } });
  });
});

describe('the address guard (SSRF)', () => {
  it('refuses loopback, private, link-local and metadata addresses from flow data, before sending anything', async () => {
    const s = await serve((_req, res) => json(res, 200, {}));
    const port = new URL(s.url).port;
    const connector = httpConnector();
    const cases: [string, string][] = [
      [`http://127.0.0.1:${port}/`, '127.0.0.1 is a loopback address'],
      [`http://localhost:${port}/`, 'localhost (127.0.0.1) is a loopback address'],
      [`http://[::1]:${port}/`, '::1 is a loopback address'],
      [`http://[::ffff:127.0.0.1]:${port}/`, 'is a loopback address'],
      [`http://0.0.0.0:${port}/`, '0.0.0.0 is an unspecified address'],
      ['http://10.0.0.1/', '10.0.0.1 is a private address'],
      ['http://192.168.1.1/', '192.168.1.1 is a private address'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a cloud metadata service'],
      ['http://[fd00:ec2::254]/', 'fd00:ec2::254 is a cloud metadata service'],
    ];
    for (const [url, reason] of cases) {
      const started = Date.now();
      const error = await rejection(connector.call('get', { url }, testContext().ctx));
      expect(error, url).toMatchObject({ code: 'OUTBOUND_REFUSED', retryable: false });
      expect(error.message, url).toContain(reason);
      expect(error.message, url).toContain('outbound.allow');
      expect(Date.now() - started, url).toBeLessThan(500);
    }
    expect(s.received).toHaveLength(0);
  });

  it('lets the configuration allow a host, an address, a range, or private networks', async () => {
    const s = await serve((_req, res) => json(res, 200, { ok: true }));
    const port = new URL(s.url).port;
    const { ctx } = testContext();
    expect(await httpConnector({ allow: ['localhost'] }).call('get', { url: `http://localhost:${port}/` }, ctx)).toMatchObject({ status: 200 });
    expect(await httpConnector({ allow: ['127.0.0.0/8'] }).call('get', { url: s.url }, ctx)).toMatchObject({ status: 200 });
    expect(await httpConnector({ allowPrivateNetworks: true }).call('get', { url: s.url }, ctx)).toMatchObject({ status: 200 });
    // Allowing one name does not allow another that resolves to the same place.
    const other = await rejection(httpConnector({ allow: ['localhost'] }).call('get', { url: s.url }, ctx));
    expect(other).toMatchObject({ code: 'OUTBOUND_REFUSED' });
  });

  it('keeps metadata services refused under allowPrivateNetworks', async () => {
    const error = await rejection(httpConnector({ allowPrivateNetworks: true }).call('get', { url: 'http://169.254.169.254/' }, testContext().ctx));
    expect(error).toMatchObject({ code: 'OUTBOUND_REFUSED' });
  });

  it('checks every redirect hop: a public-looking call cannot be bounced to a private address', async () => {
    const inside = await serve((_req, res) => json(res, 200, { secret: 'internal' }));
    // The configured base URL is trusted (the operator wrote it); where it redirects to is not.
    const github = await serve((_req, res) => void res.writeHead(307, { location: `${inside.url.replace('127.0.0.1', 'localhost')}/steal` }).end());
    const { ctx } = testContext({ credentials: { github_token: 'ghp_x' } });
    const error = await rejection(githubConnector({ baseUrl: github.url }).call('create_comment', { repository: 'o/r', issue_number: 1, body: 'x' }, ctx));
    expect(error).toMatchObject({ code: 'OUTBOUND_REFUSED' });
    expect(error.message).toContain('localhost (127.0.0.1) is a loopback address');
    expect(github.received).toHaveLength(1);
    expect(inside.received).toHaveLength(0);
  });

  it('trusts a configured base URL by its origin only: another port on the same host is checked', async () => {
    const other = await serve((_req, res) => json(res, 201, { id: 2 }));
    const api = await serve((req, res) => {
      if (req.url.includes('/o/moved/')) return void res.writeHead(307, { location: `${other.url}/repos/o/r/issues/1/comments` }).end();
      json(res, 201, { id: 1 });
    });
    const { ctx } = testContext({ credentials: { github_token: 'ghp_x' } });
    const connector = githubConnector({ baseUrl: `${api.url}/api/v3` });
    expect(await connector.call('create_comment', { repository: 'o/r', issue_number: 1, body: 'x' }, ctx)).toMatchObject({ status: 201, id: 1 });
    const error = await rejection(connector.call('create_comment', { repository: 'o/moved', issue_number: 1, body: 'x' }, ctx));
    expect(error).toMatchObject({ code: 'OUTBOUND_REFUSED' });
    expect(other.received).toHaveLength(0);
  });
});

describe('resolveOutbound', () => {
  it('fills in the documented defaults', () => {
    const policy = resolveOutbound('test');
    expect(policy).toMatchObject(OUTBOUND_DEFAULTS);
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it('says what it expected and what it found', () => {
    expect(() => resolveOutbound('f', { maxAttempts: 0 })).toThrow('f: expected `maxAttempts` to be an integer ≥ 1, got `0` (number)');
    expect(() => resolveOutbound('f', { retryBaseMs: -1 })).toThrow('expected `retryBaseMs` to be an integer ≥ 0, got `-1` (number)');
    expect(() => resolveOutbound('f', { allowPrivateNetworks: 'yes' as never })).toThrow('expected `allowPrivateNetworks` to be a boolean, got `"yes"` (string)');
    expect(() => resolveOutbound('f', { allow: 'localhost' as never })).toThrow('expected `allow` to be a list of host names');
    expect(() => resolveOutbound('f', { allow: ['ok', 'http://x'] })).toThrow('expected `allow[1]` to be a host name, a *.suffix, an IP address or a CIDR range, got `"http://x"` (string)');
  });
});
