// What the web UI reads from gantry serve: the details added to GET /runs and GET /runs/:id, the
// flow graph, who a token is, and the live streams with their resume positions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFlowText, type AgentTransport } from '@gantry/engine';
import { DEPLOY_FLOW, TOKENS, asPrincipal, call, deliver, serve, until, type Served } from './harness.js';
import { readSse, type Reader } from './sse-reader.js';

let served: Served | undefined;
const readers: Reader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  await served?.close();
  served = undefined;
});

const push = (s: Served, delivery: string, sender = 'octocat', path = '/deploy/webhook', body: object = { ref: 'refs/heads/main' }) =>
  deliver(s.url, path, JSON.stringify({ ...body, sender: { login: sender } }), { delivery });
const get = (s: Served, path: string, token: string = TOKENS.alice) => asPrincipal(s.url, token, 'GET', path);
const waiting = (s: Served, runId: string) => until(`${runId} waits`, () => get(s, `/runs/${runId}`), (a) => a.body.status === 'waiting');
const approveBoth = async (s: Served, runId: string) => {
  for (const token of [TOKENS.alice, TOKENS.bob]) expect((await asPrincipal(s.url, token, 'POST', `/runs/${runId}/nodes/approval/decision`, { decision: 'approve' })).status).toBe(200);
};
async function stream(s: Served, path: string, headers: Record<string, string> = {}): Promise<Reader> {
  const r = await readSse(s.url, path, { authorization: `Bearer ${TOKENS.alice}`, ...headers });
  readers.push(r);
  return r;
}
const journal = (r: Reader) => r.frames.filter((f) => f.event === 'journal');
/** A run stream's id read back: run id → events seen. */
function positions(root: string, id: string): Map<string, number> {
  const [first, ...rest] = id.split(';');
  return new Map([[root, Number(first)], ...rest.map((part): [string, number] => [`${root}.${decodeURIComponent(part.split('=')[0]!)}`, Number(part.split('=')[1])])]);
}

/** webhook → gate on the trigger's score: pass → deploy, fail → notify_fail. */
const GATE_FLOW = {
  name: 'Gated',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/gated', authentication: 'github_webhook_secret' } },
    { id: 'quality_gate', type: 'conditional', data: { conditions: [{ metric: 'score', operator: '>=', value: 8 }] } },
    { id: 'deploy', type: 'agent', data: { agent: 'builder', task: 'deploy' } },
    { id: 'notify_fail', type: 'agent', data: { agent: 'builder', task: 'notify' } },
    { id: 'report', type: 'agent', join: 'all', data: { agent: 'builder', task: 'report' } },
  ],
  edges: [
    { from: 'hook', to: 'quality_gate' },
    { from: 'quality_gate', to: 'deploy', condition: 'pass' },
    { from: 'quality_gate', to: 'notify_fail', condition: 'fail' },
    { from: 'deploy', to: 'report' },
    { from: 'notify_fail', to: 'report' },
  ],
};

describe('gantry serve: what the web UI reads', () => {
  it('GET /whoami says who a token is, with the roles; 401 otherwise', async () => {
    served = await serve();
    expect((await get(served, '/whoami', TOKENS.carol)).body).toEqual({ principal: 'carol', roles: ['tech-lead', 'product-manager'] });
    expect((await get(served, '/whoami', 'token-mallory')).status).toBe(401);
  });

  it('GET /runs/:id adds the journal length, the actions offered, each node\'s why, and per approval whether the caller may decide', async () => {
    served = await serve();
    await push(served, 'w1', 'alice');
    const view = (await waiting(served, 'delivery-w1')).body;
    expect(view.last_seq).toBe(served.store.events('delivery-w1').length);
    expect(view.actions).toEqual(['cancel']);
    expect(view.started_by).toEqual({ via: 'webhook', initiator: 'alice', delivery: 'w1' });
    const why = Object.fromEntries(view.nodes.map((n: { id: string; why: string }) => [n.id, n.why]));
    expect(why.build).toBe('succeeded; took the edge to approval');
    expect(why.approval).toBe('waits for a human decision: each of tech-lead and product-manager must approve (none so far)');
    expect(why.release).toBe('waits for its predecessor approval (waiting)');
    const [approval] = view.pending_approvals;
    expect(approval.deciders).toEqual({ 'tech-lead': ['alice', 'carol'], 'product-manager': ['bob', 'carol'] });
    // alice started the run: she may reject, not approve, as the decision API would say.
    expect(approval).toMatchObject({ can_decide: true, can_approve: false, why_not: expect.stringMatching(/you started this run and allow_self_approval is off/) });
    expect((await get(served, '/runs/delivery-w1', TOKENS.bob)).body.pending_approvals[0]).toMatchObject({ can_decide: true, can_approve: true });
    expect((await get(served, '/runs/delivery-w1', TOKENS.bob)).body.pending_approvals[0].why_not).toBeUndefined();
    const dave = (await get(served, '/runs/delivery-w1', TOKENS.dave)).body.pending_approvals[0];
    expect(dave).toMatchObject({ can_decide: false, can_approve: false, why_not: 'you (dave) hold none of its approver roles: tech-lead and product-manager' });
    expect((await asPrincipal(served.url, TOKENS.dave, 'POST', '/runs/delivery-w1/nodes/approval/decision', { decision: 'approve' })).status).toBe(403);
    await asPrincipal(served.url, TOKENS.bob, 'POST', '/runs/delivery-w1/nodes/approval/decision', { decision: 'approve' });
    expect((await get(served, '/runs/delivery-w1', TOKENS.bob)).body.pending_approvals[0]).toMatchObject({ can_decide: false, why_not: 'you have already approved it' });
    expect((await get(served, '/runs/delivery-w1', TOKENS.carol)).body.nodes[2].why).toBe('waits for a human decision: each of tech-lead and product-manager must approve (bob approved)');
    await asPrincipal(served.url, TOKENS.carol, 'POST', '/runs/delivery-w1/nodes/approval/decision', { decision: 'approve' });
    const done = await until('delivery-w1 succeeds', () => get(served!, '/runs/delivery-w1'), (a) => a.body.status === 'succeeded');
    expect(done.body.actions).toEqual([]);
    expect(done.body.last_seq).toBe(served.store.events('delivery-w1').length);
  });

  it('says in words why a node was skipped, from the gate\'s outcome and the join', async () => {
    served = await serve([GATE_FLOW]);
    await push(served, 'g1', 'octocat', '/gated', { score: 9 });
    const view = (await until('g1 ends', () => get(served!, '/runs/delivery-g1'), (a) => a.body.status === 'succeeded')).body;
    const why = Object.fromEntries(view.nodes.map((n: { id: string; why: string }) => [n.id, n.why]));
    expect(why.notify_fail).toBe('skipped: its only incoming edge, from quality_gate, is labelled fail and the gate passed');
    expect(why.quality_gate).toBe('succeeded; it passed; took the edge to deploy');
    expect(why.report).toBe(
      'skipped: join "all" needs all 2 incoming edges taken, and one was not: the edge from notify_fail: notify_fail was skipped, and a skipped node takes none of its edges',
    );
  });

  it('GET /runs?details=true&top_level=true&flow=… lists who started each run and who may decide what it waits for', async () => {
    served = await serve([DEPLOY_FLOW, GATE_FLOW]);
    await push(served, 'l1', 'hubot');
    await waiting(served, 'delivery-l1');
    await push(served, 'l2', 'octocat', '/gated', { score: 1 });
    await until('l2 ends', () => get(served!, '/runs/delivery-l2'), (a) => a.body.status === 'succeeded');
    const page = (await get(served, '/runs?details=true&top_level=true')).body;
    expect(page.flows).toEqual(['Deploy', 'Gated']);
    expect(page.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['delivery-l2', 'delivery-l1']);
    expect(page.runs[0]).toMatchObject({ flow: 'Gated', status: 'succeeded', started_by: { via: 'webhook', initiator: 'octocat' } });
    expect(page.runs[0].waiting_for).toBeUndefined();
    expect(page.runs[1].waiting_for).toEqual([
      { run_id: 'delivery-l1', node: 'approval', approvers: ['tech-lead', 'product-manager'], required: 2, approved: 0, deadline: expect.any(String), deciders: { 'tech-lead': ['alice', 'carol'], 'product-manager': ['bob', 'carol'] } },
    ]);
    expect((await get(served, '/runs?flow=Gated')).body.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['delivery-l2']);
    // Without details the list is as it was.
    expect(Object.keys((await get(served, '/runs?flow=Deploy')).body.runs[0]).sort()).toEqual(['flow', 'run_id', 'started_at', 'status']);
    expect((await get(served, '/runs?details=yes')).status).toBe(400);
    expect((await get(served, '/runs?flow=')).status).toBe(400);
  });

  it('GET /runs/:id/graph gives the flow of the run\'s version with the engine\'s defaults, cached under its hash', async () => {
    served = await serve([GATE_FLOW]);
    await push(served, 'gr', 'octocat', '/gated', { score: 9 });
    const graph = await get(served, '/runs/delivery-gr/graph');
    expect(graph.status).toBe(200);
    expect(graph.body.nodes.map((n: { id: string; join: string }) => [n.id, n.join])).toEqual([['hook', 'any'], ['quality_gate', 'any'], ['deploy', 'any'], ['notify_fail', 'any'], ['report', 'all']]);
    expect(graph.body.nodes[1].detail).toEqual({ form: 'gate', conditions: [{ metric: 'score', operator: '>=', value: 8 }] });
    expect(graph.body.edges[2]).toEqual({ index: 2, from: 'quality_gate', to: 'notify_fail', condition: 'fail' });
    const again = await call(served.url, 'GET', '/runs/delivery-gr/graph', { headers: { authorization: `Bearer ${TOKENS.bob}`, 'if-none-match': graph.headers.etag as string } });
    expect(again.status).toBe(304);
    expect((await call(served.url, 'GET', '/runs/delivery-gr/graph')).status).toBe(401);
  });
});

describe('gantry serve: the live streams', () => {
  it('streams a run\'s journal with resumable ids, carries on from Last-Event-ID or ?after= without a gap or a repeat, and ends with the run', async () => {
    served = await serve();
    await push(served, 's1');
    await waiting(served, 'delivery-s1');
    const first = await stream(served, '/runs/delivery-s1/events');
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(first.headers['x-accel-buffering']).toBe('no');
    const hello = await first.until('hello', (f) => f.event === 'hello');
    expect(hello.data).toEqual({ run_id: 'delivery-s1', heartbeat_ms: 15000 });
    const backlog = await first.until('the backlog', (f) => f.event === 'journal');
    const count = served.store.events('delivery-s1').length;
    expect(backlog.data).toMatchObject({ run: 'delivery-s1', from: 0 });
    expect(backlog.data.events).toEqual(served.store.events('delivery-s1'));
    expect(backlog.id).toBe(String(count));
    first.close();

    await asPrincipal(served.url, TOKENS.alice, 'POST', '/runs/delivery-s1/nodes/approval/decision', { decision: 'approve' });
    // A reconnect with the last id gets what happened since, and only that.
    const resumed = await stream(served, '/runs/delivery-s1/events', { 'last-event-id': backlog.id! });
    const next = await resumed.until('the decision', (f) => f.event === 'journal');
    expect(next.data.from).toBe(count);
    expect(next.data.events.map((e: { type: string }) => e.type)).toEqual(['approval.decided']);
    await asPrincipal(served.url, TOKENS.bob, 'POST', '/runs/delivery-s1/nodes/approval/decision', { decision: 'approve' });
    await resumed.until('the end', (f) => f.event === 'end');
    await resumed.ended;
    const all = journal(resumed).flatMap((f) => f.data.events);
    expect([...served.store.events('delivery-s1').slice(0, count), ...all]).toEqual(served.store.events('delivery-s1'));
    expect(resumed.frames.at(-1)!.data).toEqual({ run_id: 'delivery-s1', status: 'succeeded' });
    expect(journal(resumed).at(-1)!.id).toBe(String(served.store.events('delivery-s1').length));

    // A finished run: the rest at once, then the end; ?after= as a page that read the run sends it.
    const late = await stream(served, `/runs/delivery-s1/events?after=${count}`);
    await late.ended;
    expect(journal(late).flatMap((f) => f.data.events)).toEqual(served.store.events('delivery-s1').slice(count));
    expect(late.frames.map((f) => f.event)).toEqual(['hello', 'journal', 'end']);
  });

  it('answers JSON for polling, refuses a position it never gave, and needs a token', async () => {
    served = await serve();
    await push(served, 'p1');
    await waiting(served, 'delivery-p1');
    const poll = await call(served.url, 'GET', '/runs/delivery-p1/events?after=2', { headers: { authorization: `Bearer ${TOKENS.bob}`, accept: 'application/json' } });
    expect(poll.status).toBe(200);
    expect(poll.body).toMatchObject({ run_id: 'delivery-p1', finished: false, heartbeat_ms: 15000 });
    expect(poll.body.batches).toEqual([{ run: 'delivery-p1', from: 2, events: served.store.events('delivery-p1').slice(2) }]);
    expect(poll.body.cursor).toBe(String(served.store.events('delivery-p1').length));
    const bad = await get(served, '/runs/delivery-p1/events?after=abc&poll=true');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/the stream position "abc" is not one this server gives/);
    expect((await call(served.url, 'GET', '/runs/delivery-p1/events')).status).toBe(401);
    expect((await get(served, '/runs/delivery-nope/events')).status).toBe(404);
  });

  it('reads each journal event of a followed run once: what came after the readers, not the whole journal at each change', async () => {
    // Prints a line every 150 ms for 1.5 s: node.log events every half second while it runs.
    const ticker: AgentTransport = {
      async call(_task, _signal, context) {
        for (let i = 1; i <= 10; i++) {
          context?.output?.write(`tick ${i}\n`, 'stderr');
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
        return { status: 'succeeded', result: {} };
      },
    };
    const flow = {
      name: 'Ticking',
      nodes: [
        { id: 'hook', type: 'webhook', data: { endpoint: '/tick', authentication: 'github_webhook_secret' } },
        { id: 'first', type: 'agent', data: { agent: 'ticker', task: 'tick' } },
        { id: 'second', type: 'agent', data: { agent: 'ticker', task: 'tick' } },
      ],
      edges: [
        { from: 'hook', to: 'first' },
        { from: 'first', to: 'second' },
      ],
    };
    served = await serve([flow], { agents: { ticker } });
    const s = served;
    // The rows of journals the store answers with, whichever read the live streams use.
    let rows = 0;
    const store = s.store;
    const events = store.events.bind(store);
    const eventsAfter = store.eventsAfter.bind(store);
    store.events = (runId) => {
      const read = events(runId);
      rows += read.length;
      return read;
    };
    store.eventsAfter = (runId, afterSeq) => {
      const read = eventsAfter(runId, afterSeq);
      rows += read.length;
      return read;
    };
    await deliver(s.url, '/tick', '{}', { delivery: 't1' });
    const follow = await stream(s, '/runs/delivery-t1/events');
    await follow.until('the end', (f) => f.event === 'end', 15_000);
    const read = rows;
    const journalNow = events('delivery-t1');
    expect(journal(follow).flatMap((f) => f.data.events)).toEqual(journalNow);
    expect(journalNow.filter((e) => e.type === 'node.log').length).toBeGreaterThanOrEqual(4);
    expect(journal(follow).length).toBeGreaterThanOrEqual(4);
    expect(read).toBe(journalNow.length);

    // A poll from a position past the journal's end (not one this server gave) is taken back to the end.
    const past = await get(s, `/runs/delivery-t1/events?after=${journalNow.length + 5}&poll=true`);
    expect(past.body).toMatchObject({ batches: [], cursor: String(journalNow.length), finished: true });
    const tail = await get(s, `/runs/delivery-t1/events?after=${journalNow.length - 2}&poll=true`);
    expect(tail.body.batches).toEqual([{ run: 'delivery-t1', from: journalNow.length - 2, events: journalNow.slice(-2) }]);
  });

  it('follows a run\'s sub-flow runs in the same stream, each named in the resume position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-live-'));
    try {
      writeFileSync(join(dir, 'child.json'), JSON.stringify({ name: 'Child', nodes: [{ id: 'work', type: 'agent', data: { agent: 'builder', task: 'child' } }, { id: 'approval', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 3600 } }], edges: [{ from: 'work', to: 'approval' }] }));
      const parentText = JSON.stringify({
        name: 'Parent',
        nodes: [
          { id: 'hook', type: 'webhook', data: { endpoint: '/parent', authentication: 'github_webhook_secret' } },
          { id: 'steps', type: 'subflow', for_each: [1, 2], data: { flow: 'child.json' } },
        ],
        edges: [{ from: 'hook', to: 'steps' }],
      });
      writeFileSync(join(dir, 'parent.json'), parentText);
      served = await serve([]);
      // The harness compiles documents; this flow needs its path, for its sub-flow's.
      await served.server.close();
      const { createServer } = await import('@gantry/server');
      const server = createServer({ engine: served.engine, flows: [loadFlowText(parentText, { path: join(dir, 'parent.json') })] });
      const { url } = await server.listen(0);
      try {
        await deliver(url, '/parent', '{}', { delivery: 't1' });
        const r = await readSse(url, '/runs/delivery-t1/events', { authorization: `Bearer ${TOKENS.alice}` });
        readers.push(r);
        await r.until('the first step waits', (f) => f.event === 'journal' && f.data.run === 'delivery-t1.steps[0]' && f.data.events.some((e: { type: string }) => e.type === 'approval.requested'));
        expect(r.headers['content-type']).toMatch(/event-stream/);
        await asPrincipal(url, TOKENS.alice, 'POST', `/runs/${encodeURIComponent('delivery-t1.steps[0]')}/nodes/approval/decision`, { decision: 'approve' });
        const second = await r.until('the second step waits', (f) => f.event === 'journal' && f.data.run === 'delivery-t1.steps[1]' && f.data.events.some((e: { type: string }) => e.type === 'approval.requested'));
        expect(second.id).toMatch(/^\d+;steps%5B0%5D=\d+;steps%5B1%5D=\d+$/);
        // Resuming from that id repeats nothing, then carries on in every run of the tree.
        r.close();
        const again = await readSse(url, '/runs/delivery-t1/events', { authorization: `Bearer ${TOKENS.alice}`, 'last-event-id': second.id! });
        readers.push(again);
        await asPrincipal(url, TOKENS.alice, 'POST', `/runs/${encodeURIComponent('delivery-t1.steps[1]')}/nodes/approval/decision`, { decision: 'approve' });
        await again.until('the end', (f) => f.event === 'end');
        const seen = positions('delivery-t1', second.id!);
        for (const f of journal(again)) {
          expect(f.data.from).toBe(seen.get(f.data.run));
          seen.set(f.data.run, f.data.from + f.data.events.length);
        }
        expect(seen.get('delivery-t1')).toBe(served.store.events('delivery-t1').length);
        expect(seen.get('delivery-t1.steps[1]')).toBe(served.store.events('delivery-t1.steps[1]').length);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams the runs list: a line per change, resumed from Last-Event-ID, else told to read the list again', async () => {
    served = await serve();
    const list = await stream(served, '/events');
    expect((await list.until('hello', (f) => f.event === 'hello')).data).toEqual({ heartbeat_ms: 15000, resumed: false });
    await push(served, 'e1', 'hubot');
    const waits = await list.until('e1 waits', (f) => f.event === 'run' && f.data.run_id === 'delivery-e1' && f.data.status === 'waiting');
    expect(waits.data).toMatchObject({ flow: 'Deploy', started_by: { initiator: 'hubot' }, waiting_for: [{ node: 'approval', approved: 0 }] });
    expect(waits.id).toMatch(/^[0-9a-f]{8}-\d+$/);
    const second = await stream(served, '/events', { 'last-event-id': waits.id! });
    expect((await second.until('hello', (f) => f.event === 'hello')).data.resumed).toBe(true);
    await approveBoth(served, 'delivery-e1');
    await second.until('e1 succeeds', (f) => f.event === 'run' && f.data.status === 'succeeded');
    expect(second.frames.filter((f) => f.event === 'run').every((f) => Number(f.id!.split('-')[1]) > Number(waits.id!.split('-')[1]))).toBe(true);
    const stranger = await stream(served, '/events', { 'last-event-id': '00000000-3' });
    expect((await stranger.until('hello', (f) => f.event === 'hello')).data.resumed).toBe(false);
  });

  it('sends heartbeats, and close() ends every stream at once', async () => {
    served = await serve([DEPLOY_FLOW], { server: { heartbeatMs: 40 } });
    await push(served, 'h1');
    await waiting(served, 'delivery-h1');
    const run = await stream(served, '/runs/delivery-h1/events');
    const list = await stream(served, '/events');
    await until('heartbeats', () => run.comments + list.comments, (n) => n >= 4, 5000);
    const started = Date.now();
    await served.server.close();
    await Promise.all([run.ended, list.ended]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
