import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import examples from '@octokit/webhooks-examples';
import { sign } from '@octokit/webhooks-methods';
import { compileFlow, createEngine, isGantryError } from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import { createServer } from '@gantry/server';
import { DEPLOY_FLOW, SECRET, TOKENS, asPrincipal, call, deliver, serve, sha256, type Served } from './harness.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** The first example payload of a GitHub event, as GitHub sends it: compact JSON. */
function example(event: string): string {
  const definition = examples.find((d) => d.name === event);
  if (definition === undefined) throw new Error(`no example for ${event}`);
  return JSON.stringify(definition.examples[0]);
}

const EVENTS = ['push', 'pull_request', 'issue_comment', 'workflow_run', 'release', 'deployment'];

describe('gantry serve: webhooks', () => {
  it('starts one run per signed GitHub delivery, answered 202 once the run is stored, with the sender as initiator', async () => {
    served = await serve();
    const { url, store } = served;
    for (const [i, event] of EVENTS.entries()) {
      const payload = example(event);
      const answer = await deliver(url, '/deploy/webhook', payload, { event, delivery: `d-${i}` });
      expect(answer.status, `${event}: ${JSON.stringify(answer.body)}`).toBe(202);
      expect(answer.body).toMatchObject({ run_id: `delivery-d-${i}`, flow: 'Deploy', url: `/runs/delivery-d-${i}` });
      expect(answer.headers.location).toBe(`/runs/delivery-d-${i}`);
      // Durable when answered: the run and its run.started are in the store already.
      const stored = store.events(`delivery-d-${i}`);
      expect(stored[0]).toMatchObject({ type: 'run.started', trigger: JSON.parse(payload), initiator: JSON.parse(payload).sender.login });
    }
    expect(store.listRuns()).toHaveLength(EVENTS.length);
  });

  it('answers 401 to a one-byte change of the body or of the signature, and to unsigned requests, and stores nothing', async () => {
    served = await serve();
    const { url, store } = served;
    const payload = example('pull_request');
    const signature = await sign(SECRET, payload);
    const flip = (text: string, at: number) => text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1);
    const attempts = [
      ...[0, 1000, payload.length - 1].map((at) => ({ what: `body byte ${at}`, payload: flip(payload, at), signature })),
      ...[7, 30, signature.length - 1].map((at) => ({ what: `signature char ${at}`, payload, signature: flip(signature, at) })),
      { what: 'a byte added', payload: `${payload} `, signature },
      { what: 'another secret', payload, signature: await sign('not the secret', payload) },
      { what: 'no sha256= prefix', payload, signature: signature.slice('sha256='.length) },
    ];
    for (const [i, attempt] of attempts.entries()) {
      const answer = await deliver(url, '/deploy/webhook', attempt.payload, { signature: attempt.signature, delivery: `bad-${i}` });
      expect(answer.status, attempt.what).toBe(401);
      expect(answer.body.error).toEqual({ code: 'WEBHOOK_UNAUTHORIZED', message: 'X-Hub-Signature-256 does not match the body' });
    }
    const unsigned = await call(url, 'POST', '/deploy/webhook', { headers: { 'content-type': 'application/json', 'x-github-delivery': 'unsigned' }, body: payload });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.message).toMatch(/X-Hub-Signature-256 is missing/);
    const sha1Only = await call(url, 'POST', '/deploy/webhook', { headers: { 'content-type': 'application/json', 'x-hub-signature': 'sha1=0000' }, body: payload });
    expect(sha1Only.body.error.message).toMatch(/only the SHA-1 X-Hub-Signature was sent/);
    // A signed body that is not JSON is refused after authentication, with 400: still nothing stored.
    const notJson = await deliver(url, '/deploy/webhook', '{"ref": ', { delivery: 'not-json' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('INVALID_JSON');
    const unsignedNotJson = await call(url, 'POST', '/deploy/webhook', { headers: { 'content-type': 'application/json' }, body: '{"ref": ' });
    expect(unsignedNotJson.status).toBe(401);
    expect(store.listRuns()).toEqual([]);
    // The original, unchanged, is accepted.
    expect((await deliver(url, '/deploy/webhook', payload, { signature, delivery: 'good' })).status).toBe(202);
    expect(store.listRuns().map((r) => r.runId)).toEqual(['delivery-good']);
  });

  it('makes one run of the same delivery sent 20 times at once, and answers a repeat with that run, from another server on the store too', async () => {
    served = await serve();
    const { url, store, engine } = served;
    const payload = example('push');
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(url, '/deploy/webhook', payload, { delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958' })));
    const runIds = new Set(answers.map((a) => a.body.run_id));
    expect(runIds).toEqual(new Set(['delivery-72d3162e-cc78-11e3-81ab-4c9367dc0958']));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200 && a.body.duplicate === true)).toHaveLength(19);
    expect(store.listRuns()).toHaveLength(1);
    expect(store.events('delivery-72d3162e-cc78-11e3-81ab-4c9367dc0958').filter((e) => e.type === 'run.started')).toHaveLength(1);

    // A second server on the same store (as after a restart) finds the run by its delivery id.
    const again = createServer({ engine, flows: [compileFlow(DEPLOY_FLOW)], resume: false });
    const { url: url2 } = await again.listen(0);
    try {
      const repeat = await deliver(url2, '/deploy/webhook', payload, { delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
      expect(repeat.status).toBe(200);
      expect(repeat.body).toMatchObject({ run_id: 'delivery-72d3162e-cc78-11e3-81ab-4c9367dc0958', duplicate: true });
    } finally {
      await again.close();
    }
    expect(store.listRuns()).toHaveLength(1);
  });

  it('answers 413 to a 26 MB body, declared or chunked, and stores nothing', async () => {
    served = await serve();
    const { url, store } = served;
    const big = Buffer.alloc(26 * 1024 * 1024, 0x20);
    const send = (chunked: boolean) =>
      new Promise<number>((resolve, reject) => {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` };
        if (!chunked) headers['content-length'] = String(big.length);
        const req = request(`${url}/deploy/webhook`, { method: 'POST', headers, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        // The server answers before the body is sent and closes: writes after that may fail.
        req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
        if (chunked) {
          for (let at = 0; at < big.length; at += 1 << 20) req.write(big.subarray(at, at + (1 << 20)));
          req.end();
        } else req.end(big);
      });
    expect(await send(false)).toBe(413);
    expect(await send(true)).toBe(413);
    expect(store.listRuns()).toEqual([]);
    // A body up to the limit is read: a limit of 1 KiB answers 413 to a 2 KiB payload, signed or not.
    await served.close();
    served = await serve([DEPLOY_FLOW], { server: { bodyLimitBytes: 1024 } });
    const answer = await deliver(served.url, '/deploy/webhook', JSON.stringify({ pad: 'x'.repeat(2048) }));
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('takes only application/json (415), the endpoint\'s method (405) and known paths (404)', async () => {
    served = await serve();
    const { url } = served;
    const payload = example('push');
    const form = await deliver(url, '/deploy/webhook', `payload=${encodeURIComponent(payload)}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await deliver(url, '/deploy/webhook', payload, { headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(202);
    const get = await call(url, 'GET', '/deploy/webhook');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const missing = await call(url, 'POST', '/deploy/webhook/extra');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect((await deliver(url, '/deploy/webhook/', payload)).status).toBe(202);
  });

  it('answers GitHub\'s ping without starting a run, and names the run of an odd delivery id by its hash', async () => {
    served = await serve();
    const { url, store } = served;
    const ping = await deliver(url, '/deploy/webhook', example('ping'), { event: 'ping', delivery: 'ping-1' });
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ ok: true, event: 'ping' });
    expect(store.listRuns()).toEqual([]);
    const odd = await deliver(url, '/deploy/webhook', example('push'), { delivery: '../../etc/passwd' });
    expect(odd.status).toBe(202);
    expect(odd.body.run_id).toBe(`delivery-h${sha256('../../etc/passwd').slice(0, 32)}`);
    expect((await deliver(url, '/deploy/webhook', example('push'), { delivery: '../../etc/passwd' })).body).toMatchObject({ run_id: odd.body.run_id, duplicate: true });
  });

  it('checks a bearer token for other credentials (github_token), and an open endpoint takes anyone', async () => {
    const flow = (name: string, endpoint: string, authentication?: string) => ({
      name,
      nodes: [
        { id: 'hook', type: 'webhook', data: { endpoint, ...(authentication ? { authentication } : {}) } },
        { id: 'wait', type: 'wait', data: { seconds: 0 } },
      ],
      edges: [{ from: 'hook', to: 'wait' }],
    });
    served = await serve([flow('Review', '/webhook/code-review', 'github_token'), flow('Open', '/open')], { env: { GITHUB_TOKEN: 'ghp_secret' } });
    const { url, store } = served;
    const post = (headers: Record<string, string>) => call(url, 'POST', '/webhook/code-review', { headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    expect((await post({ authorization: 'Bearer ghp_secret' })).status).toBe(202);
    expect((await post({ authorization: 'token ghp_secret' })).status).toBe(202);
    const wrong = await post({ authorization: 'Bearer ghp_secreT' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
    expect((await post({})).status).toBe(401);
    expect(store.listRuns()).toHaveLength(2);
    expect((await call(url, 'POST', '/open', { headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(202);
    expect(served.server.webhooks.map((w) => [w.endpoint, w.scheme])).toEqual([
      ['/webhook/code-review', 'bearer'],
      ['/open', 'none'],
    ]);
  });

  it('refuses to start when a webhook\'s credential is not set, naming the flow, the node and where it was looked for', () => {
    const engine = createEngine({ executors: builtinExecutors });
    const start = () =>
      createServer({ engine, flows: [compileFlow(DEPLOY_FLOW)], credentials: () => undefined, describeCredential: (name) => `the environment variable ${name.toUpperCase()}` });
    expect(start).toThrow(/flow "Deploy" node "hook": authentication "github_webhook_secret" needs the environment variable GITHUB_WEBHOOK_SECRET, which is not set/);
    try {
      start();
    } catch (error) {
      expect(isGantryError(error, 'CONFIG_INVALID')).toBe(true);
    }
  });

  it('refuses endpoints that collide with each other or with the API', () => {
    const engine = createEngine({ executors: builtinExecutors });
    const hook = (name: string, endpoint: string, method = 'POST') => compileFlow({ name, nodes: [{ id: 'hook', type: 'webhook', data: { endpoint, method } }] });
    expect(() => createServer({ engine, flows: [hook('A', '/same'), hook('B', '/same')] })).toThrow(/flow "B" node "hook": POST \/same collides with POST \/same of flow "A" node "hook"/);
    expect(() => createServer({ engine, flows: [hook('A', '/runs/deploy')] })).toThrow(/collides with GET \/runs\/:id of the server/);
    expect(() => createServer({ engine, flows: [hook('A', '/metrics', 'POST')] })).toThrow(/collides with GET \/metrics/);
    // The same path with different methods is two routes.
    expect(createServer({ engine, flows: [hook('A', '/x', 'POST'), hook('B', '/x', 'PUT')] }).webhooks).toHaveLength(2);
  });

  it('is not reachable with a principal token: webhooks take only their own authentication', async () => {
    served = await serve();
    const answer = await asPrincipal(served.url, TOKENS.alice, 'POST', '/deploy/webhook', {});
    expect(answer.status).toBe(401);
  });
});
