import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFault } from '../fault.mjs';
import { loadSettings, start } from '../main.mjs';

let service;
let base;
before(async () => {
  service = await start({ port: 0, settings: { fault: null } });
  base = `http://127.0.0.1:${service.port}`;
});
after(() => service.close());

test('/health says ok and the version', async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok', version: service.version });
  assert.equal(res.headers.get('x-service-version'), service.version);
});

test('/api/price quotes, and answers 400 to a bad amount', async () => {
  const ok = await fetch(`${base}/api/price?amount=50&country=GB`);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).total, 60);
  const discounted = await fetch(`${base}/api/price?amount=50&country=GB&code=SAVE10`);
  assert.equal((await discounted.json()).total, 54);
  const bad = await fetch(`${base}/api/price?amount=zero`);
  assert.equal(bad.status, 400);
});

test('unknown routes answer 404', async () => {
  assert.equal((await fetch(`${base}/nope`)).status, 404);
});

test('/metrics counts requests by status and times them', async () => {
  await fetch(`${base}/api/price?amount=1`);
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /http_requests_total\{method="GET",route="\/api\/price",status="200"\} \d+/);
  assert.match(text, /http_request_duration_seconds_bucket\{route="\/api\/price",le="\+Inf"\} \d+/);
  assert.match(text, /app_info\{version="[^"]+"\} 1/);
});

test('the fault knob fails or slows one API request in `every`', async () => {
  const faulty = await start({ port: 0, settings: { fault: { mode: 'errors', every: 2, latencyMs: 0 } } });
  const slow = await start({ port: 0, settings: { fault: { mode: 'slow', every: 1, latencyMs: 30 } } });
  try {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`http://127.0.0.1:${faulty.port}/api/price?amount=1`)).status);
    assert.deepEqual(statuses, [200, 500, 200, 500]);
    assert.equal((await fetch(`http://127.0.0.1:${faulty.port}/health`)).status, 200);
    const t0 = Date.now();
    assert.equal((await fetch(`http://127.0.0.1:${slow.port}/api/price?amount=1`)).status, 200);
    assert.ok(Date.now() - t0 >= 25);
  } finally {
    await Promise.all([faulty.close(), slow.close()]);
  }
});

test('settings: environment over config.json, bad values refused', () => {
  assert.equal(readFault({}, null), null);
  assert.deepEqual(readFault({ FAULT: 'slow' }, null), { mode: 'slow', every: 4, latencyMs: 800 });
  assert.deepEqual(readFault({}, { mode: 'errors', every: 3 }), { mode: 'errors', every: 3, latencyMs: 800 });
  assert.equal(readFault({ FAULT: 'none' }, { mode: 'errors' }), null);
  assert.throws(() => readFault({ FAULT: 'boom' }), /FAULT must be/);
  assert.throws(() => readFault({ FAULT: 'slow', FAULT_EVERY: '0' }), /FAULT_EVERY/);
  assert.throws(() => readFault({ FAULT: 'slow', FAULT_LATENCY_MS: '-1' }), /FAULT_LATENCY_MS/);
  assert.deepEqual(loadSettings({}, new URL('./missing.json', import.meta.url)), { fault: null });
});
