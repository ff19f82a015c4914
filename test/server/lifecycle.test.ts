import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { sign } from '@octokit/webhooks-methods';
import { compileFlow, createEngine } from '@gantry/engine';
import { createServer } from '@gantry/server';
import { SECRET, call, deliver, serve, type Served } from './harness.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

describe('gantry serve: start and stop', () => {
  it('lets a request in progress answer when it closes, and takes no new connection', async () => {
    served = await serve();
    const { url, server, store } = served;
    const payload = JSON.stringify({ ref: 'refs/heads/main', sender: { login: 'octocat' } });
    const signature = await sign(SECRET, payload);
    const answered = new Promise<number>((resolve, reject) => {
      const req = request(`${url}/deploy/webhook`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), 'x-hub-signature-256': signature, 'x-github-delivery': 'slow-1' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      // Half the body now, the rest once the server is closing.
      req.write(payload.slice(0, 20));
      setTimeout(() => {
        closed = server.close();
        setTimeout(() => req.end(payload.slice(20)), 50);
      }, 50);
    });
    let closed: Promise<void> | undefined;
    expect(await answered).toBe(202);
    await closed;
    expect(store.getRun('delivery-slow-1')).toBeDefined();
    await expect(call(url, 'GET', '/health')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('answers a delivery id that started another flow\'s run with 409', async () => {
    const other = compileFlow({ name: 'Other', nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: '/other', authentication: 'github_webhook_secret' } }] });
    served = await serve();
    const first = await deliver(served.url, '/deploy/webhook', '{"ref":"x"}', { delivery: 'shared' });
    expect(first.status).toBe(202);
    const second = createServer({ engine: served.engine, flows: [other], resume: false, credentials: () => SECRET });
    const { url } = await second.listen(0);
    try {
      const conflict = await deliver(url, '/other', '{"ref":"x"}', { delivery: 'shared' });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error).toEqual({ code: 'DELIVERY_CONFLICT', message: 'delivery shared started a run of "Deploy" already (run delivery-shared), not of "Other"' });
    } finally {
      await second.close();
    }
  });

  it('validates its options once, naming the field', () => {
    expect(() => createServer({} as never)).toThrow('createServer: expected engine to be an engine from createEngine, got nothing');
    expect(() => createServer({ engine: createEngine(), bodyLimitBytes: 0 })).toThrow('createServer: expected bodyLimitBytes to be an integer ≥ 1, got 0 (number)');
    expect(() => createServer({ engine: createEngine(), connectionLimit: 0 })).toThrow('createServer: expected connectionLimit to be an integer ≥ 1, got 0 (number)');
    expect(() => createServer({ engine: createEngine(), jsonDepthLimit: 1.5 })).toThrow('createServer: expected jsonDepthLimit to be an integer ≥ 1, got 1.5 (number)');
    expect(() => createServer({ engine: createEngine(), bodyLimitBytes: 2048, bufferedBytesLimit: 1024 })).toThrow(
      'createServer: expected bufferedBytesLimit to be an integer ≥ bodyLimitBytes (2048), so that a body of the largest size can be read, got 1024 (number)',
    );
    expect(() => createServer({ engine: createEngine(), headersTimeoutMs: 5000, requestTimeoutMs: 1000 })).toThrow('createServer: expected requestTimeoutMs to be an integer ≥ headersTimeoutMs (5000)');
    // A body limit above the default budget raises the budget with it.
    expect(() => createServer({ engine: createEngine(), bodyLimitBytes: 100 * 1024 * 1024 })).not.toThrow();
    expect(() => createServer({ engine: createEngine(), principals: { alice: { roles: [] }, bob: { roles: [], aliases: ['ALICE'] } } as never })).toThrow(
      'createServer: principals: alias "ALICE" of principal "bob" is principal "alice" ignoring case',
    );
  });
});
