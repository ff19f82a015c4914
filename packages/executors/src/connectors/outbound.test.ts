/**
 * The outbound policy as every connector sees it, against loopback servers: retries with full
 * jitter, Retry-After, idempotency, the total deadline, redirects, and the address guard.
 */
import { describe, expect, it } from 'vitest';
import { githubConnector } from './github.js';
import { httpConnector, type HttpConnectorOptions } from './http.js';
import { retryAfterMs } from './http-call.js';
import { OUTBOUND_DEFAULTS, resolveOutbound } from './outbound.js';
import { json, loopbackPerTest, rejection, testContext } from './test-kit.js';

const serve = loopbackPerTest();
const http = (options: HttpConnectorOptions = {}) => httpConnector({ allow: ['127.0.0.1'], retryBaseMs: 1, ...options });

/** Answers the statuses in turn (the last one from then on), with optional headers per answer. */
function sequence(...answers: [number, Record<string, string>?][]) {
  let i = 0;
  return serve((_req, res) => {
    const [status, headers] = answers[Math.min(i++, answers.length - 1)]!;
    json(res, status, { status }, headers);
  });
}

describe('outbound retries', () => {
  it('retries a GET after a 503 and a 502 and returns the answer that succeeded', async () => {
    const s = await sequence([503], [502], [200]);
    const out = await http().call('get', { url: `${s.url}/x` }, testContext().ctx);
    expect(out).toMatchObject({ status: 200 });
    expect(s.received).toHaveLength(3);
  });

  it('waits a full-jitter delay: random × min(retryMaxMs, retryBaseMs × 2^(n−1))', async () => {
    const s = await sequence([500], [500], [500], [200]);
    const { ctx, logText } = testContext();
    await http({ maxAttempts: 4, retryBaseMs: 40, retryMaxMs: 100, random: () => 0.5 }).call('get', { url: s.url }, ctx);
    const delays = logText().split('\n').filter((l) => l.includes('outbound call retrying')).map((l) => (JSON.parse(l) as { delayMs: number }).delayMs);
    expect(delays).toEqual([20, 40, 50]);
  });

  it('gives up after maxAttempts with the last answer\'s failure, retryable for the engine', async () => {
    const s = await sequence([503]);
    const error = await rejection(http({ maxAttempts: 2 }).call('get', { url: s.url }, testContext().ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('answered HTTP 503');
    expect(s.received).toHaveLength(2);
  });

  it('does not retry a 4xx other than 408 and 429', async () => {
    const s = await sequence([404], [200]);
    const error = await rejection(http().call('get', { url: s.url }, testContext().ctx));
    expect(error).toMatchObject({ retryable: false });
    expect(s.received).toHaveLength(1);
  });

  it('retries a dropped connection', async () => {
    let calls = 0;
    const s = await serve((req, res) => {
      if (calls++ === 0) return void res.socket?.destroy();
      json(res, 200, { ok: true });
    });
    expect(await http().call('get', { url: s.url }, testContext().ctx)).toMatchObject({ status: 200 });
    expect(s.received).toHaveLength(2);
  });

  it('retries a POST only because it carries an Idempotency-Key', async () => {
    const withKey = await sequence([503], [201]);
    const out = await http().call('post', { url: withKey.url, body: { a: 1 } }, testContext({ idempotencyKey: 'run-7/deploy' }).ctx);
    expect(out).toMatchObject({ status: 201 });
    expect(withKey.received.map((r) => r.headers['idempotency-key'])).toEqual(['run-7/deploy', 'run-7/deploy']);
    expect(withKey.received.map((r) => r.body)).toEqual(['{"a":1}', '{"a":1}']);

    // GitHub's API takes no idempotency key: a failed POST is sent once, and the engine decides.
    const github = await sequence([502], [201]);
    const { ctx } = testContext({ credentials: { github_token: 'ghp_x' } });
    const error = await rejection(githubConnector({ baseUrl: github.url, retryBaseMs: 1 }).call('create_comment', { repository: 'o/r', issue_number: 1, body: 'hi' }, ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(github.received).toHaveLength(1);
  });

  it('honours Retry-After in seconds', async () => {
    const s = await sequence([429, { 'retry-after': '1' }], [200]);
    const started = Date.now();
    const out = await http({ retryBaseMs: 5_000, random: () => 0.99 }).call('get', { url: s.url }, testContext().ctx);
    const elapsed = Date.now() - started;
    expect(out).toMatchObject({ status: 200 });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const s = await sequence([503, { 'retry-after': new Date(Date.now() - 5_000).toUTCString() }], [200]);
    const { ctx, logText } = testContext();
    expect(await http().call('get', { url: s.url }, ctx)).toMatchObject({ status: 200 });
    expect(logText()).toContain('"delayMs":0');
  });

  it('leaves a Retry-After longer than maxRetryAfterMs to the engine, saying what the service asked', async () => {
    const s = await sequence([429, { 'retry-after': '120' }], [200]);
    const started = Date.now();
    const error = await rejection(http().call('get', { url: s.url }, testContext().ctx));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toMatch(/answered HTTP 429 .*\(Retry-After: 120\)/);
    expect(s.received).toHaveLength(1);
  });

  it('does not start a wait that would end past the total deadline', async () => {
    const s = await sequence([503, { 'retry-after': '2' }], [200]);
    const started = Date.now();
    const error = await rejection(http({ timeoutMs: 500 }).call('get', { url: s.url }, testContext().ctx));
    expect(Date.now() - started).toBeLessThan(400);
    expect(error).toMatchObject({ retryable: true });
    expect(s.received).toHaveLength(1);
  });

  it('stops waiting between attempts when the caller aborts', async () => {
    const s = await sequence([503, { 'retry-after': '5' }], [200]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await rejection(http().call('get', { url: s.url }, testContext({ signal: controller.signal }).ctx));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.message).toContain('aborted by the caller');
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
