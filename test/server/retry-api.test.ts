/**
 * POST /runs/:id/retry (DESIGN §12) on a real server and SQLite store: a principal retries a
 * failed run from where it failed, in its own journal; GET /runs/:id offers `retry` only for a
 * run the API would take; refusals are 401, 400 (with "did you mean"), 404 and 409.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { DEPLOY_FLOW, TOKENS, asPrincipal, call, deliver, serve, until, type Served } from './harness.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

const FLOW = {
  name: 'Ship',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/ship', authentication: 'github_webhook_secret' } },
    { id: 'build', type: 'agent', data: { agent: 'flaky', task: 'build' } },
    { id: 'release', type: 'agent', data: { agent: 'flaky', task: 'release' } },
  ],
  edges: [
    { from: 'hook', to: 'build' },
    { from: 'build', to: 'release' },
  ],
};

describe('gantry serve: retrying a run', () => {
  it('retries a failed run from its failure as a principal; offers retry only while the API would take it', async () => {
    const broken = new Set(['release']);
    const calls: string[] = [];
    const flaky = moduleAgent((_inputs: JsonObject, task) => {
      calls.push(`${task.task}#${task.attempt}`);
      return broken.has(task.task) ? { status: 'failed', error: { message: `${task.task} is broken` } } : { [task.task]: 'done' };
    });
    served = await serve([FLOW, DEPLOY_FLOW], { agents: { flaky } });
    const s = served;
    const view = (id: string) => asPrincipal(s.url, TOKENS.alice, 'GET', `/runs/${id}`);
    const retry = (id: string, body?: unknown, token: string = TOKENS.bob) => asPrincipal(s.url, token, 'POST', `/runs/${id}/retry`, body);

    expect((await deliver(s.url, '/ship', '{}', { delivery: 'r1' })).status).toBe(202);
    const failed = await until('r1 fails', () => view('delivery-r1'), (a) => a.body.status === 'failed');
    expect(failed.body.actions).toEqual(['retry']);

    expect((await call(s.url, 'POST', '/runs/delivery-r1/retry')).status).toBe(401);
    const typo = await retry('delivery-r1', { from: 'relase' });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toEqual({ code: 'USAGE', message: 'run delivery-r1\'s flow "Ship" has no node "relase" — did you mean "release"?' });
    const extra = await retry('delivery-r1', { from: 'release', force: true });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toBe('unknown key "force" in the body; it takes "from"');
    expect((await retry('delivery-nope')).status).toBe(404);

    broken.clear();
    const accepted = await retry('delivery-r1');
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ run_id: 'delivery-r1', status: 'running', retried_by: 'bob' });
    const done = await until('r1 succeeds', () => view('delivery-r1?events=true'), (a) => a.body.status === 'succeeded');
    expect(done.body.actions).toEqual([]);
    expect(calls).toEqual(['build#1', 'release#1', 'release#2']);
    expect(done.body.events.find((e: { type: string }) => e.type === 'run.retried')).toMatchObject({ nodes: ['release'], by: 'bob' });

    const refused = await retry('delivery-r1');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'RUN_NOT_RETRYABLE', message: 'run delivery-r1 is succeeded: only a failed, rolled-back or cancelled run can be retried' });

    // From a node that had succeeded, with a JSON body: that node and what follows run again.
    broken.add('release');
    await deliver(s.url, '/ship', '{}', { delivery: 'r2' });
    await until('r2 fails', () => view('delivery-r2'), (a) => a.body.status === 'failed');
    broken.clear();
    expect((await retry('delivery-r2', { from: 'build' }, TOKENS.carol)).body).toMatchObject({ from: 'build', retried_by: 'carol' });
    await until('r2 succeeds', () => view('delivery-r2'), (a) => a.body.status === 'succeeded');
    expect(calls.slice(3)).toEqual(['build#1', 'release#1', 'build#2', 'release#2']);

    // A run that waits for a person is cancelled, not retried; once cancelled it is retried.
    await deliver(s.url, '/deploy/webhook', JSON.stringify({ sender: { login: 'octocat' } }), { delivery: 'w1' });
    const waiting = await until('w1 waits', () => view('delivery-w1'), (a) => a.body.status === 'waiting');
    expect(waiting.body.actions).toEqual(['cancel']);
    expect((await retry('delivery-w1')).status).toBe(409);
    await asPrincipal(s.url, TOKENS.bob, 'POST', '/runs/delivery-w1/cancel');
    expect((await view('delivery-w1')).body.actions).toEqual(['retry']);
    expect((await retry('delivery-w1')).status).toBe(202);
    await until('w1 waits again', () => view('delivery-w1'), (a) => a.body.status === 'waiting');
  });
});
