// Integration tests: run against a deployed service at BASE_URL (skipped without one).
import assert from 'node:assert/strict';
import { test } from 'node:test';

const base = process.env.BASE_URL;
const options = { skip: base ? false : 'BASE_URL is not set' };

test('the deployment is healthy and names its version', options, async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).status, 'ok');
});

test('quotes for every country add up', options, async () => {
  for (const country of ['FR', 'DE', 'ES', 'IT', 'GB', 'US']) {
    const res = await fetch(`${base}/api/price?amount=200&country=${country}`);
    assert.equal(res.status, 200, country);
    const body = await res.json();
    assert.equal(body.total, body.amount + body.vat, country);
  }
});

test('bad requests are answered 400, not 500', options, async () => {
  assert.equal((await fetch(`${base}/api/price?amount=-5`)).status, 400);
  assert.equal((await fetch(`${base}/api/price?amount=5&country=ZZ`)).status, 400);
});

test('metrics are exposed for scraping', options, async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /# TYPE http_requests_total counter/);
});
