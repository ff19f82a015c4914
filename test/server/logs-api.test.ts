/**
 * GET /runs/:id/logs (DESIGN §12) on a real server and SQLite store: the lines each attempt of
 * the run kept, in order, narrowed by node and attempt, for principals only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentTransport } from '@gantry/engine';
import { TOKENS, asPrincipal, call, deliver, serve, until, type Served } from './harness.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** Prints two lines per task, the second without its newline; fails the first attempt of "flaky". */
const printer: AgentTransport = {
  async call(task, _signal, context) {
    context?.output?.write(`${task.task} attempt ${task.attempt}\nsecond line`, 'stderr');
    if (task.task === 'flaky' && task.attempt === 1) return { status: 'failed', error: { message: 'not yet', retryable: true } };
    return { status: 'succeeded', result: {} };
  },
};

const FLOW = {
  name: 'Printing',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/print', authentication: 'github_webhook_secret' } },
    { id: 'flaky', type: 'agent', data: { agent: 'printer', task: 'flaky' }, retry: { max_attempts: 2, initial_seconds: 1, jitter: false } },
    { id: 'steady', type: 'agent', data: { agent: 'printer', task: 'steady' } },
  ],
  edges: [
    { from: 'hook', to: 'flaky' },
    { from: 'flaky', to: 'steady' },
  ],
};

describe('gantry serve: a run\'s logs', () => {
  it('answers the lines of every attempt, by node and attempt; 404 for a node the flow has not, 400 for a bad attempt', async () => {
    served = await serve([FLOW], { agents: { printer } });
    const s = served;
    await deliver(s.url, '/print', '{}', { delivery: 'l1' });
    await until('l1 succeeds', () => asPrincipal(s.url, TOKENS.dave, 'GET', '/runs/delivery-l1'), (a) => a.body.status === 'succeeded');
    const logs = (query = '') => asPrincipal(s.url, TOKENS.dave, 'GET', `/runs/delivery-l1/logs${query}`);

    const all = await logs();
    expect(all.status).toBe(200);
    const text = (body: { lines: { node: string; attempt: number; source: string; text: string }[] }) => body.lines.map((l) => `${l.node}#${l.attempt} ${l.source}: ${l.text}`);
    expect(text(all.body)).toEqual([
      'flaky#1 stderr: flaky attempt 1',
      'flaky#1 stderr: second line',
      'flaky#2 stderr: flaky attempt 2',
      'flaky#2 stderr: second line',
      'steady#1 stderr: steady attempt 1',
      'steady#1 stderr: second line',
    ]);
    expect(all.body).toMatchObject({ run_id: 'delivery-l1', dropped: [], last_seq: expect.any(Number) });
    expect(all.body.lines[0].at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(text((await logs('?node=flaky&attempt=2')).body)).toEqual(['flaky#2 stderr: flaky attempt 2', 'flaky#2 stderr: second line']);
    expect((await logs('?node=hook')).body.lines).toEqual([]);

    const unknown = await logs('?node=stedy');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({ code: 'NODE_NOT_FOUND', message: 'the flow "Printing" of run delivery-l1 has no node "stedy" — did you mean "steady"?' });
    expect((await logs('?node=flaky&attempt=0')).status).toBe(400);
    expect((await call(s.url, 'GET', '/runs/delivery-l1/logs')).status).toBe(401);
    expect((await asPrincipal(s.url, TOKENS.dave, 'GET', '/runs/nope/logs')).status).toBe(404);
  });
});
