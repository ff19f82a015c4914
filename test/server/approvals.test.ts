import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@gantry/engine';
import { TOKENS, asPrincipal, call, deliver, serve, until, type Served } from './harness.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** Delivers a push by `sender` and waits until its run waits for the approval. */
async function waitingRun(s: Served, sender = 'octocat', delivery = `d-${sender}`): Promise<string> {
  const answer = await deliver(s.url, '/deploy/webhook', JSON.stringify({ ref: 'refs/heads/main', sender: { login: sender } }), { delivery });
  expect(answer.status).toBe(202);
  const runId = answer.body.run_id as string;
  await until('the run waits for its approval', () => asPrincipal(s.url, TOKENS.alice, 'GET', `/runs/${runId}`), (a) => a.body.status === 'waiting');
  return runId;
}

const decide = (s: Served, token: string, runId: string, node: string, body: unknown) => asPrincipal(s.url, token, 'POST', `/runs/${runId}/nodes/${node}/decision`, body);

describe('gantry serve: the approvals API', () => {
  it('completes a flow paused at human_approval with the decisions of two principals, recorded with channel "api"', async () => {
    served = await serve();
    const runId = await waitingRun(served);
    const before = await asPrincipal(served.url, TOKENS.bob, 'GET', `/runs/${runId}`);
    expect(before.body.pending_approvals).toEqual([
      expect.objectContaining({ run_id: runId, node: 'approval', approvers: ['tech-lead', 'product-manager'], required: 2, decisions: [], decide: `POST /runs/${runId}/nodes/approval/decision` }),
    ]);
    expect(before.body.nodes.map((n: { id: string; status: string }) => [n.id, n.status])).toEqual([
      ['hook', 'succeeded'],
      ['build', 'succeeded'],
      ['approval', 'waiting'],
      ['release', 'pending'],
    ]);

    const first = await decide(served, TOKENS.alice, runId, 'approval', { decision: 'approve', comment: 'code looks good' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ run_id: runId, node: 'approval', principal: 'alice', decision: 'approve', approval: 'pending' });
    const second = await decide(served, TOKENS.bob, runId, 'approval', { decision: 'approve' });
    expect(second.status).toBe(200);
    expect(second.body.approval).toBe('approved');

    const done = await until('the run succeeds', () => asPrincipal(served!.url, TOKENS.alice, 'GET', `/runs/${runId}`), (a) => a.body.status === 'succeeded');
    const approval = done.body.nodes.find((n: { id: string }) => n.id === 'approval');
    expect(approval.decisions).toEqual([
      expect.objectContaining({ principal: 'alice', decision: 'approve', channel: 'api', comment: 'code looks good' }),
      expect.objectContaining({ principal: 'bob', decision: 'approve', channel: 'api' }),
    ]);
    expect(done.body.nodes.find((n: { id: string }) => n.id === 'release').status).toBe('succeeded');
    expect(done.body.pending_approvals).toEqual([]);
    // The journal has the decisions too, as `gantry show` reads them.
    expect(served.store.events(runId).filter((e) => e.type === 'approval.decided').map((e) => (e as { principal: string }).principal)).toEqual(['alice', 'bob']);
  });

  it('answers 401 to a missing or unknown token and records nothing', async () => {
    served = await serve();
    const runId = await waitingRun(served);
    const count = served.store.events(runId).length;
    const none = await call(served.url, 'POST', `/runs/${runId}/nodes/approval/decision`, { headers: { 'content-type': 'application/json' }, body: '{"decision":"approve"}' });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const unknown = await decide(served, 'token-mallory', runId, 'approval', { decision: 'approve' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toMatch(/no principal's/);
    expect(served.store.events(runId)).toHaveLength(count);
  });

  it('answers 403 to a principal holding no approver role, and to the run\'s initiator approving (the webhook\'s sender)', async () => {
    served = await serve();
    const runId = await waitingRun(served, 'alice');
    const dave = await decide(served, TOKENS.dave, runId, 'approval', { decision: 'approve' });
    expect(dave.status).toBe(403);
    expect(dave.body.error).toMatchObject({ code: 'APPROVAL_FORBIDDEN', message: expect.stringMatching(/"dave" holds none of the approver roles/) });
    const self = await decide(served, TOKENS.alice, runId, 'approval', { decision: 'approve' });
    expect(self.status).toBe(403);
    expect(self.body.error.message).toMatch(/"alice" started this run and may not approve it/);
    // The initiator may still reject.
    const reject = await decide(served, TOKENS.alice, runId, 'approval', { decision: 'reject', comment: 'not yet' });
    expect(reject.status).toBe(200);
    expect(reject.body.approval).toBe('rejected');
    expect(reject.body.run_status).toBe('failed');
    const failed = await until('the run fails', () => asPrincipal(served!.url, TOKENS.bob, 'GET', `/runs/${runId}`), (a) => a.body.status === 'failed');
    expect(failed.body.error).toMatchObject({ code: 'APPROVAL_REJECTED' });
  });

  it('answers 409 to a node that is not waiting and to a second decision of one principal', async () => {
    served = await serve();
    const runId = await waitingRun(served);
    const notYet = await decide(served, TOKENS.alice, runId, 'release', { decision: 'approve' });
    expect(notYet.status).toBe(409);
    expect(notYet.body.error).toMatchObject({ code: 'APPROVAL_NOT_WAITING', message: expect.stringMatching(/node "release" is pending, not waiting for a decision/) });
    expect((await decide(served, TOKENS.alice, runId, 'approval', { decision: 'approve' })).status).toBe(200);
    const again = await decide(served, TOKENS.alice, runId, 'approval', { decision: 'reject' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('APPROVAL_ALREADY_DECIDED');
    expect((await decide(served, TOKENS.bob, runId, 'approval', { decision: 'approve' })).status).toBe(200);
    await until('the run succeeds', () => asPrincipal(served!.url, TOKENS.alice, 'GET', `/runs/${runId}`), (a) => a.body.status === 'succeeded');
    const late = await decide(served, TOKENS.carol, runId, 'approval', { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/node "approval" is succeeded/);
  });

  it('answers 410 once the deadline has passed', async () => {
    const clock = new FakeClock(Date.now());
    served = await serve(undefined, { clock });
    const runId = await waitingRun(served);
    await clock.advance(3601 * 1000);
    const late = await decide(served, TOKENS.alice, runId, 'approval', { decision: 'approve' });
    expect(late.status).toBe(410);
    expect(late.body.error).toMatchObject({ code: 'APPROVAL_EXPIRED', message: expect.stringMatching(/expired at/) });
    const failed = await until('the run fails', () => asPrincipal(served!.url, TOKENS.bob, 'GET', `/runs/${runId}`), (a) => a.body.status === 'failed');
    expect(failed.body.error.code).toBe('APPROVAL_TIMEOUT');
  });

  it('answers 404 to an unknown run or node, 400 to a bad decision body and 415 to a body that is not JSON', async () => {
    served = await serve();
    const runId = await waitingRun(served);
    const noRun = await decide(served, TOKENS.alice, 'no-such-run', 'approval', { decision: 'approve' });
    expect(noRun.status).toBe(404);
    expect(noRun.body.error.code).toBe('RUN_NOT_FOUND');
    const noNode = await decide(served, TOKENS.alice, runId, 'aproval', { decision: 'approve' });
    expect(noNode.status).toBe(404);
    expect(noNode.body.error).toMatchObject({ code: 'NODE_NOT_FOUND', message: expect.stringMatching(/has no node "aproval"/) });
    for (const [body, message] of [
      [{ decision: 'maybe' }, /"decision" must be "approve" or "reject", got "maybe"/],
      [{ decision: 'approve', principal: 'bob' }, /unknown key "principal"/],
      [{ decision: 'approve', comment: 5 }, /"comment" must be a string/],
      [['approve'], /must be a JSON object/],
    ] as const) {
      const answer = await decide(served, TOKENS.alice, runId, 'approval', body);
      expect(answer.status).toBe(400);
      expect(answer.body.error.message).toMatch(message);
    }
    const text = await call(served.url, 'POST', `/runs/${runId}/nodes/approval/decision`, { headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'text/plain' }, body: 'approve' });
    expect(text.status).toBe(415);
    const get = await asPrincipal(served.url, TOKENS.alice, 'GET', `/runs/${runId}/nodes/approval/decision`);
    expect(get.status).toBe(405);
    // Nothing of that was recorded: the approval still waits for both.
    const run = await asPrincipal(served.url, TOKENS.alice, 'GET', `/runs/${runId}`);
    expect(run.body.pending_approvals[0].decisions).toEqual([]);
  });
});
