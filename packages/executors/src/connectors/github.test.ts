import { describe, expect, it } from 'vitest';
import { FakeClock, type JsonObject } from '@gantry/engine';
import { githubConnector } from './github.js';
import { everythingIn, json, rejection, loopbackPerTest, testContext, type Respond } from './test-kit.js';

const CANARY = 'canary-3f9a52d0-github-token';
const SHA = '6dcb09b5b57875f334f61aebed695e2e4193db5e';

const serve = loopbackPerTest();

/** A stand-in for api.github.com that answers each create call the way GitHub does. */
function github(): Respond {
  return (req, res) => {
    if (req.url.endsWith('/reviews')) {
      json(res, 200, { id: 80, node_id: 'PRR_1', html_url: 'https://github.com/o/r/pull/12#pullrequestreview-80', state: 'COMMENTED', submitted_at: '2026-01-01T00:00:00Z', commit_id: SHA, user: { login: 'gantry' } });
    } else if (req.url.includes('/statuses/')) {
      json(res, 201, { id: 1, url: 'https://api.github.com/repos/o/r/statuses/x', state: 'success', context: 'gantry', description: 'ok', target_url: null, created_at: '2026-01-01T00:00:00Z', creator: {} });
    } else {
      json(res, 201, { id: 1000, html_url: 'https://github.com/o/r/issues/5#issuecomment-1000', created_at: '2026-01-01T00:00:00Z', body: 'x' });
    }
  };
}

function context(authentication = 'github_app') {
  return testContext({ credentials: { github_app: 'ghs_installation', github_token: 'ghp_default' }, authentication });
}

describe('githubConnector', () => {
  it('creates a PR review with GitHub\'s headers and returns the useful fields', async () => {
    const s = await serve(github());
    const out = await githubConnector({ baseUrl: s.url }).call(
      'create_pr_review',
      { repository: 'octo/widgets', pull_number: 12, body: 'Looks good', event: 'approve' },
      context().ctx,
    );
    expect(out).toEqual({
      status: 200,
      id: 80,
      html_url: 'https://github.com/o/r/pull/12#pullrequestreview-80',
      state: 'COMMENTED',
      submitted_at: '2026-01-01T00:00:00Z',
      commit_id: SHA,
    });
    const [got] = s.received;
    expect(got).toMatchObject({ method: 'POST', url: '/repos/octo/widgets/pulls/12/reviews' });
    expect(JSON.parse(got?.body ?? '')).toEqual({ event: 'APPROVE', body: 'Looks good' });
    expect(got?.headers).toMatchObject({
      authorization: 'Bearer ghs_installation',
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'gantry',
      'content-type': 'application/json',
    });
  });

  it('reads the repository and number from webhook-payload-shaped params', async () => {
    const s = await serve(github());
    const connector = githubConnector({ baseUrl: s.url });
    const { ctx } = context();
    const payload: JsonObject = {
      action: 'opened',
      number: 12,
      pull_request: { number: 12, head: { sha: SHA }, base: { repo: { full_name: 'octo/widgets' } } },
      repository: { full_name: 'octo/widgets', name: 'widgets', owner: { login: 'octo' } },
    };
    await connector.call('create_pr_review', { ...payload, body: 'Automated review' }, ctx);
    await connector.call('create_pr_review', { repository: { name: 'gadgets', owner: { login: 'acme' } }, number: '7', body: 'x' }, ctx);
    await connector.call('create_pr_review', { pull_request: payload.pull_request ?? null, body: 'from the PR alone' }, ctx);
    await connector.call('create_commit_status', { ...payload, state: 'success' }, ctx);
    await connector.call('create_comment', { ...payload, body: 'Deployed' }, ctx);

    expect(s.received.map((r) => r.url)).toEqual([
      '/repos/octo/widgets/pulls/12/reviews',
      '/repos/acme/gadgets/pulls/7/reviews',
      '/repos/octo/widgets/pulls/12/reviews',
      `/repos/octo/widgets/statuses/${SHA}`,
      '/repos/octo/widgets/issues/12/comments',
    ]);
    expect(JSON.parse(s.received[0]?.body ?? '')).toEqual({ event: 'COMMENT', body: 'Automated review' });
  });

  it('writes the review body from a quality gate\'s checks when the node gives none', async () => {
    const s = await serve(github());
    const gateOutput: JsonObject = {
      outcome: 'fail',
      passed: false,
      checks: [
        { metric: 'overall_score', operator: '>=', expected: 7.5, actual: 8.1, passed: true },
        { metric: 'security_score', operator: '>=', expected: 8, actual: null, passed: false, missing: true },
      ],
      repository: { full_name: 'octo/widgets' },
      pull_request: { number: 3 },
    };
    await githubConnector({ baseUrl: s.url }).call('create_pr_review', gateOutput, context().ctx);
    expect(JSON.parse(s.received[0]?.body ?? '')).toEqual({
      event: 'COMMENT',
      body: '**Quality gate: fail**\n\n- ✅ `overall_score >= 7.5` (actual: 8.1)\n- ❌ `security_score >= 8` (actual: missing)',
    });
  });

  it('creates a commit status with a default context and a description GitHub will accept', async () => {
    const s = await serve(github());
    const out = await githubConnector({ baseUrl: s.url }).call(
      'create_commit_status',
      { repository: 'octo/widgets', sha: SHA, state: 'success', description: 'd'.repeat(200), target_url: 'https://ci.example.com/runs/1' },
      context().ctx,
    );
    expect(out).toMatchObject({ status: 201, id: 1, state: 'success', context: 'gantry', target_url: null });
    const sent = JSON.parse(s.received[0]?.body ?? '') as JsonObject;
    expect(sent).toMatchObject({ state: 'success', context: 'gantry', target_url: 'https://ci.example.com/runs/1' });
    expect(String(sent.description)).toHaveLength(140);
  });

  it('creates a comment, keeping a base URL\'s path (GitHub Enterprise Server)', async () => {
    const s = await serve(github());
    const out = await githubConnector({ baseUrl: `${s.url}/api/v3/` }).call(
      'create_comment',
      { repository: 'octo/widgets', issue_number: 5, body: 'Deployed to staging' },
      context('github_token').ctx,
    );
    expect(out).toEqual({ status: 201, id: 1000, html_url: 'https://github.com/o/r/issues/5#issuecomment-1000', created_at: '2026-01-01T00:00:00Z' });
    expect(s.received[0]).toMatchObject({ url: '/api/v3/repos/octo/widgets/issues/5/comments', body: '{"body":"Deployed to staging"}' });
    expect(s.received[0]?.headers.authorization).toBe('Bearer ghp_default');
  });

  it('uses the default credential when the node names none', async () => {
    const s = await serve(github());
    const { ctx } = testContext({ credentials: { github_token: 'ghp_fallback' } });
    await githubConnector({ baseUrl: s.url }).call('create_comment', { repository: 'o/r', issue_number: 1, body: 'hi' }, ctx);
    expect(s.received[0]?.headers.authorization).toBe('Bearer ghp_fallback');

    const none = await rejection(githubConnector({ baseUrl: s.url }).call('create_comment', { repository: 'o/r', issue_number: 1, body: 'hi' }, testContext().ctx));
    expect(none).toMatchObject({ code: 'USAGE' });
    expect(none.message).toBe('github create_comment: the credential "github_token" is not configured (expected it under `credentials` in the configuration, found no value)');
  });

  it('refuses a call with nothing to post to, or params GitHub would refuse, before calling', async () => {
    const s = await serve(github());
    const connector = githubConnector({ baseUrl: s.url });
    const { ctx } = context();
    const cases: [string, JsonObject, string][] = [
      ['create_pr_review', { pull_number: 1, body: 'x' }, 'nothing to post to: expected `repository` ("owner/name") or a webhook payload\'s `repository.full_name`, found neither'],
      ['create_pr_review', { repository: 'octo/widgets', body: 'x' }, 'nothing to post to: expected `pull_number`'],
      ['create_pr_review', { repository: 'octo', pull_number: 1, body: 'x' }, 'expected `repository` to be "owner/name", got `"octo"` (string)'],
      ['create_pr_review', { repository: 'octo/..', pull_number: 1, body: 'x' }, 'expected `repository` to be "owner/name", got `"octo/.."` (string)'],
      ['create_pr_review', { repository: 'o/r', pull_number: 0, body: 'x' }, 'expected `pull_number` to be a positive integer, got `0` (number)'],
      ['create_pr_review', { repository: 'o/r', pull_number: 1, event: 'REQUEST_CHANGES' }, 'expected `body` to be a non-empty string for a REQUEST_CHANGES review'],
      ['create_pr_review', { repository: 'o/r', pull_number: 1, body: 'x', event: 'MERGE' }, 'expected `event` to be one of COMMENT, APPROVE, REQUEST_CHANGES, got `"MERGE"` (string)'],
      ['create_commit_status', { repository: 'o/r', state: 'success' }, 'expected `sha` (or a webhook payload\'s `pull_request.head.sha`) to be a commit SHA, got nothing'],
      ['create_commit_status', { repository: 'o/r', sha: SHA }, 'expected `state` to be one of error, failure, pending, success, got nothing'],
      ['create_commit_status', { repository: 'o/r', sha: SHA, state: 'green' }, 'got `"green"` (string)'],
      ['create_comment', { repository: 'o/r', issue_number: 3 }, 'expected `body` to be a non-empty string (the comment, in Markdown), got nothing'],
      ['merge_pr', {}, 'github: unknown action "merge_pr"; expected one of create_pr_review, create_commit_status, create_comment'],
    ];
    for (const [action, params, message] of cases) {
      const error = await rejection(connector.call(action, params, ctx));
      expect(error, action).toMatchObject({ code: 'USAGE' });
      expect(error.message).toContain(message);
    }
    expect(s.received).toHaveLength(0);
  });

  it('turns GitHub\'s error answers into failures that say whether a retry can help', async () => {
    let answer: [number, unknown, Record<string, string>] = [422, {}, {}];
    const s = await serve((_req, res) => json(res, ...answer));
    const connector = githubConnector({ baseUrl: s.url });
    const { ctx } = context();
    const call = () => rejection(connector.call('create_comment', { repository: 'o/r', issue_number: 1, body: 'x' }, ctx));

    answer = [422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'custom', message: 'body is too long' }] }, {}];
    let error = await call();
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(error.message).toBe(`github create_comment: POST ${s.url}/repos/o/r/issues/1/comments answered HTTP 422: Validation Failed: body is too long`);

    answer = [404, { message: 'Not Found' }, {}];
    expect(await call()).toMatchObject({ retryable: false });
    answer = [403, { message: 'Resource not accessible by integration' }, {}];
    expect(await call()).toMatchObject({ retryable: false });
    answer = [403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0' }];
    expect(await call()).toMatchObject({ retryable: true });
    answer = [403, { message: 'You have exceeded a secondary rate limit' }, { 'retry-after': '60' }];
    expect(await call()).toMatchObject({ retryable: true, retryAfterMs: 30_000 });
    answer = [502, { message: 'Server Error' }, {}];
    error = await call();
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('HTTP 502');
  });

  it('waits for a spent rate limit to reset, as GitHub\'s x-ratelimit-reset says on the engine\'s clock', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const reset = String(Date.UTC(2026, 0, 1, 0, 0, 20) / 1000);
    const s = await serve((_req, res) => json(res, 403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }));
    const { ctx } = testContext({ credentials: { github_token: 'ghp_default' }, clock });
    const error = await rejection(githubConnector({ baseUrl: s.url }).call('create_comment', { repository: 'o/r', issue_number: 1, body: 'x' }, ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true, retryAfterMs: 20_000 });
    expect(s.received).toHaveLength(1);
  });

  it('times out an API that does not answer', async () => {
    const s = await serve(() => {});
    const error = await rejection(
      githubConnector({ baseUrl: s.url, timeoutMs: 150 }).call('create_comment', { repository: 'o/r', issue_number: 1, body: 'x' }, context().ctx),
    );
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    expect(error.message).toContain('timed out after 150 ms');
  });

  it('never lets the token out: not in results, errors or log lines', async () => {
    let status = 200;
    const s = await serve((req, res) => json(res, status, { id: 1, html_url: `https://x/${String(req.headers.authorization)}`, state: 'COMMENTED', message: `bad credentials ${String(req.headers.authorization)}` }));
    const { ctx, logText } = testContext({ credentials: { github_app: CANARY }, authentication: 'github_app' });
    const connector = githubConnector({ baseUrl: s.url });
    const params = { repository: 'o/r', pull_number: 1, body: 'x' };

    const out = await connector.call('create_pr_review', params, ctx);
    expect(s.received[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(out.html_url).toBe('https://x/Bearer [REDACTED]');
    status = 401;
    const error = await rejection(connector.call('create_pr_review', params, ctx));
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(error.message).toContain('bad credentials Bearer [REDACTED]');

    for (const thing of [out, error]) expect(everythingIn(thing)).not.toContain(CANARY);
    expect(logText()).toContain('outbound call');
    expect(logText()).not.toContain(CANARY);
  });

  it('validates its options when made', () => {
    expect(() => githubConnector({ baseUrl: 'api.github.com' })).toThrow('githubConnector: expected `baseUrl` to be an http or https URL without a query');
    expect(() => githubConnector({ credential: '' })).toThrow('expected `credential` to be a non-empty string');
  });
});
