import { describe, expect, it } from 'vitest';
import { FakeClock, GantryError } from '@gantry/engine';
import { everythingIn, json, loopbackPerTest, rejection, until } from '../connectors/test-kit.js';
import { httpAgent, type HttpAgentOptions } from './http.js';
import { agentTask } from './test-kit.js';

const CANARY = 'canary-3f9a8d21-http-agent-token';
const serve = loopbackPerTest();
const signal = () => new AbortController().signal;
const agent = (url: string, options: Partial<HttpAgentOptions> = {}) => httpAgent({ url, pollIntervalMs: 10, ...options });

describe('httpAgent', () => {
  it('POSTs the task envelope with its Idempotency-Key, deadline and bearer credential', async () => {
    const s = await serve((_req, res) => json(res, 200, { status: 'succeeded', result: { score: 8.5 }, metrics: { duration_ms: 12 } }));
    const deadline = new Date(Date.now() + 60_000).toISOString();
    const task = agentTask({ deadline });
    const reply = await agent(`${s.url}/tasks`, { authentication: 'reviewer_key', credential: (n) => (n === 'reviewer_key' ? 'tok-1' : undefined) }).call(task, signal());

    expect(reply).toEqual({ status: 'succeeded', result: { score: 8.5 }, metrics: { duration_ms: 12 } });
    const [got] = s.received;
    expect(got).toMatchObject({ method: 'POST', url: '/tasks' });
    expect(JSON.parse(got!.body)).toEqual(task);
    expect(got?.headers).toMatchObject({
      'idempotency-key': 'run-1:review',
      'gantry-deadline': deadline,
      authorization: 'Bearer tok-1',
      'content-type': 'application/json',
      accept: 'application/json',
    });
  });

  it('takes a plain object as the result, and an empty answer as an empty one', async () => {
    let body = '{"summary":"fine","status":"healthy"}';
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    expect(await agent(s.url).call(agentTask(), signal())).toEqual({ status: 'succeeded', result: { summary: 'fine', status: 'healthy' } });
    body = '';
    expect(await agent(s.url).call(agentTask(), signal())).toEqual({ status: 'succeeded', result: {} });
  });

  it('passes a failed reply on for the engine to fail the node with its message', async () => {
    const s = await serve((_req, res) => json(res, 200, { status: 'failed', error: { message: 'tests are red', retryable: false } }));
    expect(await agent(s.url).call(agentTask(), signal())).toEqual({ status: 'failed', error: { message: 'tests are red', retryable: false } });
  });

  it('sends the agent\'s own deadline when the node has none', async () => {
    const s = await serve((_req, res) => json(res, 200, {}));
    const before = Date.now();
    await agent(s.url, { taskTimeoutMs: 30_000 }).call(agentTask(), signal());
    const sent = Date.parse(JSON.parse(s.received[0]!.body).deadline);
    expect(sent).toBeGreaterThanOrEqual(before + 30_000);
    expect(sent).toBeLessThan(Date.now() + 30_001);
    expect(s.received[0]?.headers['gantry-deadline']).toBe(new Date(sent).toISOString());
  });

  it('polls an accepted task at its Location until the reply, honouring Retry-After', async () => {
    let polls = 0;
    const s = await serve((req, res) => {
      if (req.method === 'POST') return json(res, 202, { status: 'accepted' }, { location: '/tasks/42' });
      polls += 1;
      if (polls === 1) return json(res, 202, { status: 'running' }, { 'retry-after': '0' });
      if (polls === 2) return json(res, 200, { status: 'running' });
      json(res, 200, { status: 'succeeded', result: { deployed: true } });
    });
    const credential = () => 'tok-2';
    const reply = await agent(`${s.url}/tasks`, { authentication: 'k', credential }).call(agentTask(), signal());
    expect(reply).toEqual({ status: 'succeeded', result: { deployed: true } });
    expect(s.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /tasks', 'GET /tasks/42', 'GET /tasks/42', 'GET /tasks/42']);
    expect(s.received.every((r) => r.headers.authorization === 'Bearer tok-2')).toBe(true);
  });

  it('polls a status_url given in the body', async () => {
    const s = await serve((req, res) => {
      if (req.method === 'POST') return json(res, 202, { status_url: `/status/${JSON.parse(req.body).task_id}` });
      json(res, 200, { result: { from: req.url } });
    });
    const reply = await agent(s.url).call(agentTask({ task_id: 'abc' }), signal());
    expect(reply).toEqual({ status: 'succeeded', result: { result: { from: '/status/abc' } } });
  });

  it('fails an accepted task that says nowhere to poll', async () => {
    const s = await serve((_req, res) => json(res, 202, {}));
    const error = await rejection(agent(s.url).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: false });
    expect(error.message).toContain('gave no Location header or status_url to poll');
  });

  it('stops polling at the node\'s deadline, and when the caller aborts', async () => {
    const s = await serve((req, res) => json(res, 202, {}, { location: '/t/1' }));
    const deadline = new Date(Date.now() + 300).toISOString();
    const started = Date.now();
    const late = await rejection(agent(s.url, { pollIntervalMs: 100 }).call(agentTask({ deadline }), signal()));
    expect(late).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(late.message).toContain('was still running at its deadline');
    expect(Date.now() - started).toBeLessThan(1_000);

    const controller = new AbortController();
    const reason = new GantryError('CANCELLED', 'the run was cancelled');
    setTimeout(() => controller.abort(reason), 100);
    expect(await rejection(agent(s.url, { pollIntervalMs: 50 }).call(agentTask(), controller.signal))).toBe(reason);
  });

  it('times a task out at the agent\'s own timeout, retryably', async () => {
    const s = await serve(() => {});
    const error = await rejection(agent(s.url, { taskTimeoutMs: 150 }).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(error.message).toBe('agent "reviewer" task "code_review" ran past the agent\'s 150 ms timeout (timeout_ms)');
  });

  it('makes one attempt: a 4xx is final, a 5xx retryable with the wait its Retry-After asks for', async () => {
    let status = 422;
    const s = await serve((_req, res) => json(res, status, { status: 'failed', error: { message: `refused with ${status}` } }, status === 503 ? { 'retry-after': '2' } : {}));
    const refused = await rejection(agent(s.url).call(agentTask(), signal()));
    expect(refused).toMatchObject({ code: 'AGENT_FAILED', retryable: false });
    expect(refused.message).toContain('agent "reviewer" task "code_review": POST');
    expect(refused.message).toContain('answered HTTP 422: refused with 422');
    expect(s.received).toHaveLength(1);

    status = 503;
    const down = await rejection(agent(s.url, { maxAttempts: 3 }).call(agentTask(), signal()));
    expect(down).toMatchObject({ code: 'AGENT_FAILED', retryable: true, retryAfterMs: 2_000 });
    expect(s.received).toHaveLength(2);
  });

  it('waits between polls on the engine\'s clock, as Retry-After asks up to maxRetryAfterMs', async () => {
    const clock = new FakeClock();
    let polls = 0;
    const s = await serve((req, res) => {
      if (req.method === 'POST') return json(res, 202, { status: 'accepted' }, { location: '/tasks/7', 'retry-after': '3600' });
      polls += 1;
      if (polls === 1) return json(res, 200, { status: 'running' });
      json(res, 200, { status: 'succeeded', result: { done: true } });
    });
    const call = agent(s.url, { pollIntervalMs: 1_000, maxRetryAfterMs: 60_000 }).call(agentTask(), signal(), { clock });
    // An hour asked for, a minute granted, on the clock: nothing happens before it says so.
    await until(() => clock.next === clock.now() + 60_000, 'the wait before the first poll');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clock.advance(59_999);
    expect(s.received).toHaveLength(1);
    await clock.advance(1);
    await until(() => clock.next === clock.now() + 1_000, 'the wait before the second poll');
    expect(s.received).toHaveLength(2);
    await clock.advance(1_000);
    expect(await call).toEqual({ status: 'succeeded', result: { done: true } });
    expect(s.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /', 'GET /tasks/7', 'GET /tasks/7']);
  });

  it('keeps the agent\'s own timeout, and a node\'s deadline, on the engine\'s clock', async () => {
    const clock = new FakeClock();
    const hung = await serve(() => {});
    const timedOut = rejection(agent(hung.url, { taskTimeoutMs: 60_000 }).call(agentTask(), signal(), { clock }));
    await until(() => hung.received.length === 1, 'the POST');
    expect(JSON.parse(hung.received[0]!.body).deadline).toBe(new Date(clock.now() + 60_000).toISOString());
    await clock.advance(60_000);
    expect(await timedOut).toMatchObject({ code: 'AGENT_FAILED', retryable: true, message: 'agent "reviewer" task "code_review" ran past the agent\'s 60000 ms timeout (timeout_ms)' });

    const pending = await serve((_req, res) => json(res, 202, {}, { location: '/t/1' }));
    const deadline = new Date(clock.now() + 2_500).toISOString();
    const late = rejection(agent(pending.url, { pollIntervalMs: 1_000 }).call(agentTask({ deadline }), signal(), { clock }));
    for (let request = 1; request <= 2; request++) {
      await until(() => clock.next === clock.now() + 1_000 && pending.received.length === request, `the wait after request ${request}`);
      await clock.advance(1_000);
    }
    const error = await late;
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(error.message).toContain('was still running at its deadline');
    expect(pending.received).toHaveLength(3);
  });

  it('trusts its configured url, but checks a status URL on another origin', async () => {
    const elsewhere = await serve((_req, res) => json(res, 200, { ok: true }));
    const s = await serve((_req, res) => json(res, 202, {}, { location: `${elsewhere.url}/status` }));
    const error = await rejection(agent(s.url).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'OUTBOUND_REFUSED' });
    expect(elsewhere.received).toHaveLength(0);

    // Allowed by the policy, the other origin is polled — without the bearer credential.
    await agent(s.url, { allow: ['127.0.0.1'], authentication: 'k', credential: () => 'tok-3' }).call(agentTask(), signal());
    expect(elsewhere.received[0]?.headers.authorization).toBeUndefined();
  });

  it('never lets the credential out: not in replies, errors or their causes', async () => {
    let status = 200;
    const s = await serve((req, res) => json(res, status, { echoed: req.headers.authorization, status: status === 200 ? 'succeeded' : 'failed', result: { auth: req.headers.authorization } }, { 'x-echo': String(req.headers.authorization) }));
    const a = agent(s.url, { authentication: 'k', credential: () => `${CANARY}\n` });
    const reply = await a.call(agentTask(), signal());
    expect(s.received[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(reply).toEqual({ status: 'succeeded', result: { auth: 'Bearer [REDACTED]' } });
    status = 401;
    const error = await rejection(a.call(agentTask(), signal()));
    expect(error.message).toContain('Bearer [REDACTED]');
    for (const thing of [reply, error]) expect(everythingIn(thing)).not.toContain(CANARY);
  });

  it('sends its credential only to a declared origin, and reads none from the environment by itself', async () => {
    const s = await serve((_req, res) => json(res, 200, { status: 'succeeded', result: {} }));
    const credential = () => CANARY;
    await agent(s.url, { authentication: 'k', credential, credentialOrigins: () => [s.url] }).call(agentTask(), signal());
    const refused = await rejection(agent(s.url, { authentication: 'k', credential, credentialOrigins: () => ['https://agents.example.com'] }).call(agentTask(), signal()));
    expect(refused).toMatchObject({ code: 'CREDENTIAL_REFUSED' });
    expect(s.received).toHaveLength(1);
    expect(everythingIn(refused)).not.toContain(CANARY);
    expect(() => httpAgent({ url: 'http://x', authentication: 'k' })).toThrow('httpAgent: expected `credential` (a function from a credential\'s name to its value) with `authentication`, got nothing');
  });

  it('validates its options when made', () => {
    expect(() => httpAgent({ url: 'ftp://x' })).toThrow('httpAgent: expected `url` to be an http or https URL, got `"ftp://x"` (string)');
    expect(() => httpAgent({ url: 'http://x', pollIntervalMs: 0 })).toThrow('expected `pollIntervalMs` to be an integer ≥ 1, got `0` (number)');
    expect(() => httpAgent({ url: 'http://x', maxAttempts: 0 })).toThrow('httpAgent: expected `maxAttempts`');
  });
});
