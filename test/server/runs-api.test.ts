import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, createEngine } from '@gantry/engine';
import { builtinExecutors, moduleAgent } from '@gantry/executors';
import { createServer } from '@gantry/server';
import { openSqliteStore } from '@gantry/store-sqlite';
import { PRINCIPALS, TOKENS, asPrincipal, call, deliver, serve, until, type Served } from './harness.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

const push = (s: Served, delivery: string, sender = 'octocat') => deliver(s.url, '/deploy/webhook', JSON.stringify({ ref: 'refs/heads/main', sender: { login: sender } }), { delivery });
const get = (s: Served, path: string) => asPrincipal(s.url, TOKENS.alice, 'GET', path);
const waiting = (s: Served, runId: string) => until(`${runId} waits`, () => get(s, `/runs/${runId}`), (a) => a.body.status === 'waiting');

describe('gantry serve: the runs API', () => {
  it('lists runs newest first, filtered by status, for principals only', async () => {
    served = await serve();
    for (const d of ['a', 'b', 'c']) expect((await push(served, d)).status).toBe(202);
    for (const d of ['a', 'b', 'c']) await waiting(served, `delivery-${d}`);
    expect((await call(served.url, 'GET', '/runs')).status).toBe(401);
    const all = await get(served, '/runs');
    expect(all.status).toBe(200);
    expect(all.body.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['delivery-c', 'delivery-b', 'delivery-a']);
    expect(all.body.runs[0]).toEqual({ run_id: 'delivery-c', flow: 'Deploy', status: 'waiting', started_at: expect.any(String) });
    expect((await get(served, '/runs?status=succeeded')).body.runs).toEqual([]);
    expect((await get(served, '/runs?status=waiting,succeeded&limit=2')).body.runs).toHaveLength(2);
    const bad = await get(served, '/runs?status=done');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/status must be one or more of running, waiting/);
    expect((await get(served, '/runs?limit=0')).status).toBe(400);
  });

  it('shows a run with its timeline and, on request, its journal; 404 for an unknown run', async () => {
    served = await serve();
    await push(served, 'x', 'hubot');
    const view = await waiting(served, 'delivery-x');
    expect(view.body).toMatchObject({ run_id: 'delivery-x', flow: 'Deploy', status: 'waiting', initiator: 'hubot', params: {} });
    expect(view.body.nodes[1]).toMatchObject({ id: 'build', type: 'agent', status: 'succeeded', attempts: 1, duration_ms: expect.any(Number) });
    expect(view.body.nodes[2]).toMatchObject({ id: 'approval', status: 'waiting', waiting_for: { kind: 'approval', until: expect.any(String) } });
    expect(view.body.events).toBeUndefined();
    const withEvents = await get(served, '/runs/delivery-x?events=true');
    expect(withEvents.body.events[0]).toMatchObject({ type: 'run.started', runId: 'delivery-x' });
    const missing = await get(served, '/runs/delivery-nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: 'RUN_NOT_FOUND', message: 'no run delivery-nope; GET /runs lists them' });
  });

  it('cancels a run (200), then refuses to cancel it again (409); 404 for an unknown run, 401 without a token', async () => {
    served = await serve();
    await push(served, 'c1');
    await waiting(served, 'delivery-c1');
    expect((await call(served.url, 'POST', '/runs/delivery-c1/cancel')).status).toBe(401);
    const cancelled = await asPrincipal(served.url, TOKENS.bob, 'POST', '/runs/delivery-c1/cancel');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ run_id: 'delivery-c1', status: 'cancelled', cancelled_by: 'bob' });
    expect((await get(served, '/runs/delivery-c1')).body.status).toBe('cancelled');
    const again = await asPrincipal(served.url, TOKENS.bob, 'POST', '/runs/delivery-c1/cancel');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RUN_FINISHED');
    expect((await asPrincipal(served.url, TOKENS.bob, 'POST', '/runs/nope/cancel')).status).toBe(404);
    expect((await asPrincipal(served.url, TOKENS.bob, 'GET', '/runs/delivery-c1/cancel')).status).toBe(405);
  });

  it('answers /health, and /metrics with the names of DESIGN §4, labelled by route pattern', async () => {
    served = await serve();
    const health = await call(served.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', flows: 1, webhooks: 1, store: { kind: 'sqlite', writable: true } });

    await push(served, 'm1');
    await waiting(served, 'delivery-m1');
    await push(served, 'm2');
    await waiting(served, 'delivery-m2');
    for (const token of [TOKENS.alice, TOKENS.bob]) await asPrincipal(served.url, token, 'POST', '/runs/delivery-m1/nodes/approval/decision', { decision: 'approve' });
    await until('delivery-m1 succeeds', () => get(served!, '/runs/delivery-m1'), (a) => a.body.status === 'succeeded');
    await call(served.url, 'GET', '/nope');

    const metrics = await call(served.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.body as string;
    expect(text).toContain('gantry_runs_total{flow="Deploy",status="succeeded"} 1');
    expect(text).toContain('gantry_runs_active{flow="Deploy",status="waiting"} 1');
    expect(text).toMatch(/gantry_node_duration_seconds_count\{flow="Deploy",node="build",type="agent",status="succeeded"\} 2/);
    expect(text).toMatch(/gantry_node_duration_seconds_count\{flow="Deploy",node="approval",type="human_approval",status="succeeded"\} 1/);
    expect(text).toMatch(/agent_task_duration_seconds_count\{agent_name="builder",task="build",status="succeeded"\} 2/);
    expect(text).toMatch(/agent_task_duration_seconds_count\{agent_name="builder",task="release",status="succeeded"\} 1/);
    expect(text).toContain('http_requests_total{method="POST",endpoint="/deploy/webhook",status="202"} 2');
    expect(text).toContain('http_requests_total{method="POST",endpoint="/runs/:id/nodes/:node/decision",status="200"} 2');
    expect(text).toContain('http_requests_total{method="GET",endpoint="unmatched",status="404"} 1');
    expect(text).toMatch(/http_request_duration_seconds_bucket\{le="0.1",method="GET",endpoint="\/runs\/:id",status="200"\} \d+/);
    // Raw paths never become labels: cardinality stays bounded by the routes.
    expect(text).not.toContain('delivery-m1');
  });

  it('resumes unfinished runs when it starts, and they can be decided there', async () => {
    // The first process: its clock is a fake one, so that nothing of it runs once it is "gone".
    const first = await serve(undefined, { clock: new FakeClock(Date.now()) });
    const path = first.store.path;
    await push(first, 'r1');
    await waiting(first, 'delivery-r1');
    await first.server.close();
    first.store.close();
    // The next process: a new store connection, engine and server on the same file.
    const store = openSqliteStore(path);
    const engine = createEngine({ executors: builtinExecutors, agents: { builder: moduleAgent(async () => ({ ok: true })) }, store, principals: PRINCIPALS });
    const restarted = createServer({ engine });
    const { url } = await restarted.listen(0);
    try {
      expect(restarted.resumed).toEqual(['delivery-r1']);
      for (const token of [TOKENS.alice, TOKENS.bob]) expect((await asPrincipal(url, token, 'POST', '/runs/delivery-r1/nodes/approval/decision', { decision: 'approve' })).status).toBe(200);
      await until('delivery-r1 succeeds', () => asPrincipal(url, TOKENS.alice, 'GET', '/runs/delivery-r1'), (a) => a.body.status === 'succeeded');
    } finally {
      await restarted.close();
      store.close();
      rmSync(dirname(path), { recursive: true, force: true });
    }
  });
});
