// A real `gantry serve` against hostile senders (DESIGN §11): bodies refused at their headers or
// the moment they pass a limit, a cap on bytes held and on connections, slow senders cut off,
// payloads nested too deep, HEAD requests; and /health answering throughout.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINCIPALS, SECRET, TOKENS, asPrincipal, call, deliver, until } from './harness.js';
import { residentBytes, startServe, type ServeProcess } from './serve-process.js';
import { holdBody, openRaw } from './stream.js';

const MiB = 1024 * 1024;
const FLOW = {
  name: 'Hook',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/hook', authentication: 'github_webhook_secret' } },
    { id: 'done', type: 'wait', data: { seconds: 0 } },
  ],
  edges: [{ from: 'hook', to: 'done' }],
};
const LIMITS = { body_limit_bytes: MiB, buffered_bytes_limit: 2 * MiB, connection_limit: 4, headers_timeout_ms: 2000, request_timeout_ms: 4000 };
const JSON_TYPE = { 'content-type': 'application/json' };
const BAD_SIGNATURE = { ...JSON_TYPE, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` };

let dir: string;
let defaults: ServeProcess;
let limited: ServeProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-serve-limits-'));
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'hook.json'), JSON.stringify(FLOW));
  // The webhook's secret is a credential the configuration declares (DESIGN §11).
  const credentials = { github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' } };
  writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify({ principals: PRINCIPALS, credentials }));
  writeFileSync(join(dir, 'limited.json'), JSON.stringify({ principals: PRINCIPALS, credentials, store: { path: 'limited.db' }, server: LIMITS }));
  [defaults, limited] = await Promise.all([startServe(dir, { GITHUB_WEBHOOK_SECRET: SECRET }), startServe(dir, { GITHUB_WEBHOOK_SECRET: SECRET }, ['--config', 'limited.json'])]);
});

afterAll(async () => {
  await Promise.all([defaults?.stop(), limited?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** GET /health, timed. */
async function health(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const answer = await call(url, 'GET', '/health');
  return { status: answer.status, ms: performance.now() - started };
}

/** Polls /health until `done` settles: the slowest answer, and whether every one was 200. */
async function healthWhile(url: string, done: Promise<unknown>): Promise<{ slowest: number; statuses: Set<number> }> {
  let settled = false;
  void done.finally(() => (settled = true));
  let slowest = 0;
  const statuses = new Set<number>();
  while (!settled) {
    const h = await health(url);
    slowest = Math.max(slowest, h.ms);
    statuses.add(h.status);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { slowest, statuses };
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('gantry serve with its default limits', () => {
  it('answers four unsigned 24 MB bodies 401 at their headers and closes them: memory barely moves, /health answers throughout', async () => {
    const { url, process: proc } = defaults;
    for (let i = 0; i < 5; i++) await health(url);
    const before = residentBytes(proc.pid!);
    let peak = before;
    const bodies = Array.from({ length: 4 }, () => holdBody(url, '/hook', { headers: JSON_TYPE, total: 24 * MiB, chunk: 256 * 1024, everyMs: 10 }));
    const closed = Promise.all(bodies.map((b) => b.closed));
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(proc.pid!))), 20);
    const meanwhile = healthWhile(url, closed);
    let answers, sentAtClose;
    try {
      answers = await Promise.all(bodies.map((b) => b.answer));
      sentAtClose = await closed;
    } finally {
      clearInterval(sampler);
    }
    const { slowest, statuses } = await meanwhile;
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body.error.message).toMatch(/X-Hub-Signature-256 is missing/);
      expect(answer.headers.connection).toBe('close');
    }
    // The server closed each connection long before its 24 MB were sent.
    for (const sent of sentAtClose) expect(sent).toBeLessThan(8 * MiB);
    // On main each body was buffered whole: four held open added 92 MB.
    expect(peak - before).toBeLessThan(12 * MiB);
    expect([...statuses]).toEqual([200]);
    expect(slowest).toBeLessThan(1000);
  });

  it('reads at most server.buffered_bytes_limit (64 MiB) of bodies at once: of four badly signed 24 MB bodies, two are answered 503 with Retry-After at once', async () => {
    const { url } = defaults;
    const bodies = Array.from({ length: 4 }, () => holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: 24 * MiB, chunk: MiB, everyMs: 5 }));
    const answers = await Promise.all(bodies.map((b) => b.answer));
    await Promise.all(bodies.map((b) => b.closed));
    const busy = answers.filter((a) => a.status === 503);
    expect(busy).toHaveLength(2);
    for (const answer of busy) {
      expect(answer.body.error.code).toBe('SERVER_BUSY');
      expect(answer.body.error.message).toContain('server.buffered_bytes_limit');
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.sentBefore).toBeLessThan(24 * MiB);
    }
    // The two that fit were read whole, their HMAC computed as they came: 401 once complete.
    const read = answers.filter((a) => a.status !== 503);
    expect(read.map((a) => [a.status, a.body.error.message])).toEqual([
      [401, 'X-Hub-Signature-256 does not match the body'],
      [401, 'X-Hub-Signature-256 does not match the body'],
    ]);
    // And once they are done, a body fits again.
    expect((await deliver(url, '/hook', '{"after":"busy"}')).status).toBe(202);
  });

  it('answers a 45,000-deep payload 400 naming the limit (100 by default), not 500, and stays up', async () => {
    const { url } = defaults;
    const deep = await deliver(url, '/hook', nested(45_000));
    expect(deep.status).toBe(400);
    expect(deep.body.error).toEqual({ code: 'PAYLOAD_TOO_DEEP', message: 'the body nests JSON arrays and objects more than 100 deep, the limit (server.json_depth_limit)' });
    expect((await deliver(url, '/hook', `{"a":${nested(101)}}`)).status).toBe(400);
    // Brackets inside strings are text, not nesting.
    expect((await deliver(url, '/hook', JSON.stringify({ text: '['.repeat(500), deep: JSON.parse(`{"a":${nested(98)}}`) }))).status).toBe(202);
    // Unsigned, it is refused for its signature before anything is measured.
    expect((await call(url, 'POST', '/hook', { headers: JSON_TYPE, body: nested(45_000) })).status).toBe(401);
    expect((await health(url)).status).toBe(200);
  });

  it('answers HEAD like GET without a body on its own routes, and 405 on a webhook', async () => {
    const { url } = defaults;
    for (const [path, headers] of [['/health', {}], ['/metrics', {}], ['/runs', { authorization: `Bearer ${TOKENS.alice}` }]] as const) {
      const head = await call(url, 'HEAD', path, { headers });
      expect(head.status, path).toBe(200);
      expect(head.body, path).toBe('');
      expect(head.headers['content-type'], path).toBeDefined();
    }
    const get = await call(url, 'GET', '/health');
    const head = await call(url, 'HEAD', '/health');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect((await call(url, 'HEAD', '/runs')).status).toBe(401);
    const hook = await call(url, 'HEAD', '/hook');
    expect(hook.status).toBe(405);
    expect(hook.headers.allow).toBe('POST');
    expect((await call(url, 'POST', '/health')).headers.allow).toBe('GET, HEAD');
  });

  it('answers a request that sends a body where none is taken (GET /health) without reading it, and closes the connection', async () => {
    const { url } = defaults;
    const held = holdBody(url, '/health', { headers: {}, total: 50 * MiB, holdAt: 256 * 1024, method: 'GET' });
    const answer = await held.answer;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(await held.closed).toBeLessThanOrEqual(256 * 1024);
  });
});

describe('gantry serve with small limits in its configuration', () => {
  it('answers 413 the moment a streamed body passes server.body_limit_bytes, and closes the connection without reading the rest', async () => {
    const { url } = limited;
    const chunked = holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: 16 * MiB, chunked: true, holdAt: MiB + 128 * 1024, chunk: 64 * 1024 });
    const answer = await chunked.answer;
    expect(answer.status).toBe(413);
    expect(answer.body.error.message).toBe('the body is larger than the limit of 1048576 bytes (server.body_limit_bytes)');
    expect(answer.sentBefore).toBeGreaterThan(MiB);
    expect(answer.sentBefore).toBeLessThanOrEqual(MiB + 128 * 1024);
    // Held open by the client, closed by the server.
    expect(await chunked.closed).toBeLessThanOrEqual(MiB + 128 * 1024);
    // A declared size over the limit is refused before the body is sent.
    const declared = holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: 16 * MiB, holdAt: 0 });
    expect((await declared.answer).status).toBe(413);
    expect(await declared.closed).toBe(0);
  });

  it('answers 503 with Retry-After to a body that does not fit in server.buffered_bytes_limit, declared or streamed, and takes bodies again once room is made', async () => {
    const { url } = limited;
    const first = holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: MiB, holdAt: MiB / 2 });
    const second = holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: MiB, holdAt: MiB / 2 });
    await until('both bodies are being read', () => first.sent() + second.sent(), (n) => n >= MiB);
    await new Promise((r) => setTimeout(r, 100));
    const declared = holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: MiB, holdAt: 0 });
    const busy = await declared.answer;
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.body.error.code).toBe('SERVER_BUSY');
    const streamed = holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: MiB, chunked: true, holdAt: 64 * 1024 });
    expect((await streamed.answer).status).toBe(503);
    first.finish();
    second.finish();
    expect((await first.answer).status).toBe(401);
    expect((await second.answer).status).toBe(401);
    // A whole MiB fits again.
    const payload = JSON.stringify({ pad: 'x'.repeat(MiB - 20) });
    const big = holdBody(url, '/hook', { headers: { ...JSON_TYPE, 'x-hub-signature-256': await sign(SECRET, payload) }, total: payload.length, content: Buffer.from(payload), holdAt: 0 });
    big.finish();
    expect((await big.answer).status).toBe(202);
  });

  it('answers connections beyond server.connection_limit 503 with Retry-After (GET /health excepted), and drops those that send nothing within a second', async () => {
    const { url } = limited;
    await new Promise((r) => setTimeout(r, 200));
    const holders = Array.from({ length: 4 }, () => holdBody(url, '/hook', { headers: BAD_SIGNATURE, total: 100, holdAt: 10 }));
    try {
      await until('four connections are open', () => holders.every((h) => h.sent() === 10), (all) => all);
      await new Promise((r) => setTimeout(r, 100));
      const over = await call(url, 'GET', '/runs', { headers: { authorization: `Bearer ${TOKENS.alice}` } });
      expect(over.status).toBe(503);
      expect(over.body.error).toMatchObject({ code: 'SERVER_BUSY', message: expect.stringContaining('server.connection_limit') });
      expect(over.headers['retry-after']).toBe('5');
      expect(over.headers.connection).toBe('close');
      expect((await health(url)).status).toBe(200);
      const silent = await openRaw(url);
      const closedAfter = await silent.closed;
      // Dropped without an answer: the headers timeout (2 s here) would have answered 408.
      expect(silent.received()).toBe('');
      expect(closedAfter).toBeLessThan(5000);
    } finally {
      for (const h of holders) h.destroy();
    }
    await until('a connection is taken again', () => call(url, 'GET', '/runs', { headers: { authorization: `Bearer ${TOKENS.alice}` } }), (a) => a.status === 200);
  });

  it('cuts off slow senders: headers not complete within headers_timeout_ms, a body not complete within request_timeout_ms (408)', async () => {
    const { url } = limited;
    const slowHead = await openRaw(url);
    slowHead.socket.write('POST /hook HTTP/1.1\r\nHost: gantry.test\r\n');
    const dribbleHead = setInterval(() => slowHead.socket.write('X-Slow: 1\r\n'), 200);
    const slowBody = await openRaw(url);
    slowBody.socket.write(`POST /hook HTTP/1.1\r\nHost: gantry.test\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: 100000\r\n\r\n`);
    const dribbleBody = setInterval(() => slowBody.socket.write(' '), 200);
    try {
      const [headMs, bodyMs] = await Promise.all([slowHead.closed, slowBody.closed]);
      expect(slowHead.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(slowBody.received()).toMatch(/^HTTP\/1\.1 408 /);
      // Node's own defaults would have let them go on for a minute and five.
      expect(headMs).toBeLessThan(8000);
      expect(bodyMs).toBeLessThan(12_000);
      expect(bodyMs).toBeGreaterThan(headMs);
    } finally {
      clearInterval(dribbleHead);
      clearInterval(dribbleBody);
    }
  }, 20_000);
});
