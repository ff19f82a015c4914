/**
 * GET /runs/:id/logs (DESIGN §12) on a real server and SQLite store: the lines each attempt of
 * the run kept, in order, narrowed by node and attempt, for principals only; the same lines as
 * `gantry logs` (a child process on the same store) gives; with after_seq, what came since.
 */
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentTransport } from '@gantry/engine';
import { BIN } from '../e2e/harness.js';
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
    { id: 'each', type: 'agent', data: { agent: 'printer', task: 'each' }, for_each: [1, 2] },
  ],
  edges: [
    { from: 'hook', to: 'flaky' },
    { from: 'flaky', to: 'steady' },
    { from: 'steady', to: 'each' },
  ],
};

interface WireLine {
  node: string;
  attempt: number;
  item?: number;
  at: string;
  source: string;
  level?: string;
  text: string;
}

/** `gantry logs <run> [args] --json` on the server's store, in a child process: its lines as the endpoint words them. */
function cliLines(storePath: string, runId: string, args: string[]): WireLine[] {
  const out = spawnSync(process.execPath, [BIN, 'logs', runId, ...args, '--json', '--store', storePath], { cwd: dirname(storePath), env: { PATH: process.env.PATH ?? '', HOME: dirname(storePath) }, encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as WireLine & { run: string; path: string })
    .map(({ node, attempt, item, at, source, level, text }) => ({ node, attempt, ...(item === undefined ? {} : { item }), at, source, ...(level === undefined ? {} : { level }), text }));
}

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
      'each#1 stderr: each attempt 1',
      'each#1 stderr: second line',
      'each#1 stderr: each attempt 1',
      'each#1 stderr: second line',
    ]);
    expect(all.body.lines.slice(-4).map((l: WireLine) => l.item)).toEqual([0, 0, 1, 1]);
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

  it('gives the lines gantry logs gives for the same run, whole and narrowed', async () => {
    served = await serve([FLOW], { agents: { printer } });
    const s = served;
    await deliver(s.url, '/print', '{}', { delivery: 'l2' });
    await until('l2 succeeds', () => asPrincipal(s.url, TOKENS.dave, 'GET', '/runs/delivery-l2'), (a) => a.body.status === 'succeeded');
    for (const [query, args] of [
      ['', []],
      ['?node=flaky', ['flaky']],
      ['?node=flaky&attempt=2', ['flaky', '--attempt', '2']],
      ['?node=each', ['each']],
    ] as const) {
      const api = (await asPrincipal(s.url, TOKENS.dave, 'GET', `/runs/delivery-l2/logs${query}`)).body.lines as WireLine[];
      expect(api.length, query).toBeGreaterThan(0);
      expect(cliLines(s.store.path, 'delivery-l2', [...args]), query).toEqual(api);
    }
  });

  it('after_seq gives the lines of the events after that seq: what a poll that kept last_seq has not read', async () => {
    served = await serve([FLOW], { agents: { printer } });
    const s = served;
    await deliver(s.url, '/print', '{}', { delivery: 'l3' });
    await until('l3 succeeds', () => asPrincipal(s.url, TOKENS.dave, 'GET', '/runs/delivery-l3'), (a) => a.body.status === 'succeeded');
    const logs = (query: string) => asPrincipal(s.url, TOKENS.dave, 'GET', `/runs/delivery-l3/logs${query}`);
    const events = s.store.events('delivery-l3');
    const textsOf = (from: number) => events.slice(from).flatMap((e) => (e.type === 'node.log' ? e.lines.map((l) => `${e.nodeId}#${e.attempt} ${l.text}`) : []));
    expect(textsOf(0)).toHaveLength(10);
    for (let n = 0; n <= events.length + 1; n++) {
      const answer = await logs(`?after_seq=${n}`);
      expect(answer.status).toBe(200);
      expect(answer.body.lines.map((l: WireLine) => `${l.node}#${l.attempt} ${l.text}`), `after_seq=${n}`).toEqual(textsOf(n));
      expect(answer.body.last_seq).toBe(Math.max(n, events.length));
    }
    expect((await logs('?after_seq=-1')).status).toBe(400);
    expect((await logs('?after_seq=x')).body.error.message).toBe('after_seq must be a whole number ≥ 0, got "x"');
  });
});
