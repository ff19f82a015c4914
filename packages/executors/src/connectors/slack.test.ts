import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@gantry/engine';
import { slackConnector } from './slack.js';
import { everythingIn, json, rejection, loopbackPerTest, testContext, type Respond } from './test-kit.js';

const CANARY = 'canary-3f9a0b44-slack-secret';

const serve = loopbackPerTest();

/** chat.postMessage as Slack answers it: HTTP 200 either way, `ok` says which. */
function postMessage(answer: (body: JsonObject) => unknown = (b) => ({ ok: true, channel: 'C0123', ts: '1700000000.000100', message: { text: b.text } })): Respond {
  return (req, res) => json(res, 200, answer(JSON.parse(req.body) as JsonObject));
}

function tokenContext(extra: Record<string, string> = {}) {
  return testContext({ credentials: { slack_token: 'xoxb-1-2-3', ...extra } });
}

describe('slackConnector with a bot token', () => {
  it('posts to chat.postMessage with the token and returns the channel and ts', async () => {
    const s = await serve(postMessage());
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Deployed*' } }];
    const out = await slackConnector({ baseUrl: s.url }).call('send_notification', { channel: '#deploys', text: 'Deployed v1.2', blocks }, tokenContext().ctx);

    expect(out).toEqual({ ok: true, channel: 'C0123', ts: '1700000000.000100' });
    const [got] = s.received;
    expect(got).toMatchObject({ method: 'POST', url: '/chat.postMessage' });
    expect(got?.headers.authorization).toBe('Bearer xoxb-1-2-3');
    expect(got?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(got?.body ?? '')).toEqual({ channel: '#deploys', text: 'Deployed v1.2', blocks });
  });

  it('takes `message` for `text`, prefixes high severity, and uses the named credential', async () => {
    const s = await serve(postMessage());
    const { ctx } = testContext({ credentials: { ops_slack: 'xoxb-ops' }, authentication: 'ops_slack' });
    await slackConnector({ baseUrl: s.url }).call('post_message', { channel: 'C1', message: 'Rollback started', severity: 'high' }, ctx);
    expect(JSON.parse(s.received[0]?.body ?? '')).toEqual({ channel: 'C1', text: ':rotating_light: Rollback started' });
    expect(s.received[0]?.headers.authorization).toBe('Bearer xoxb-ops');
  });

  it('turns Slack\'s ok:false (an HTTP 200) into a failure naming Slack\'s error', async () => {
    let answer: unknown = { ok: false, error: 'channel_not_found' };
    const s = await serve(postMessage(() => answer));
    const connector = slackConnector({ baseUrl: s.url });
    const { ctx } = tokenContext();
    const call = () => rejection(connector.call('send_notification', { channel: '#nope', text: 'hi' }, ctx));

    let error = await call();
    expect(error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(error.message).toBe('slack send_notification: Slack refused the message to #nope: channel_not_found');

    answer = { ok: false, error: 'ratelimited' };
    expect(await call()).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });

    answer = { ok: false, error: 'invalid_blocks', response_metadata: { messages: ['[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text]'] } };
    error = await call();
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toContain('invalid_blocks: [ERROR] must be more than 0 characters [json-pointer:/blocks/0/text]');
  });

  it('makes an HTTP 429 or 5xx retryable', async () => {
    let status = 429;
    const s = await serve((_req, res) => {
      res.writeHead(status, { 'retry-after': '1' });
      res.end();
    });
    const connector = slackConnector({ baseUrl: s.url });
    const { ctx } = tokenContext();
    expect(await rejection(connector.call('send_notification', { channel: 'C1', text: 'x' }, ctx))).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true, retryAfterMs: 1_000 });
    status = 503;
    expect(await rejection(connector.call('send_notification', { channel: 'C1', text: 'x' }, ctx))).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
  });

  it('refuses calls it cannot make, before calling', async () => {
    const s = await serve(postMessage());
    const connector = slackConnector({ baseUrl: s.url });
    const { ctx } = tokenContext();
    const cases: [string, JsonObject, string][] = [
      ['send_notification', { text: 'x' }, 'expected `channel` (a channel ID or #name) with a bot token, got nothing'],
      ['send_notification', { channel: 'C1' }, 'expected `text` (or `message`) to be a non-empty string, or `blocks`, got nothing'],
      ['send_notification', { channel: 'C1', text: 'x', severity: 'urgent' }, 'expected `severity` to be one of normal, high, got `"urgent"` (string)'],
      ['send_notification', { channel: 'C1', text: 'x', blocks: 'nope' }, 'expected `blocks` to be a list of Block Kit objects'],
      ['send_notification', { channel: 5, text: 'x' }, 'expected `channel` to be a string, got `5` (number)'],
      ['send_dm', { channel: 'C1', text: 'x' }, 'slack: unknown action "send_dm"; expected one of send_notification, post_message'],
    ];
    for (const [action, params, message] of cases) {
      const error = await rejection(connector.call(action, params, ctx));
      expect(error, message).toMatchObject({ code: 'USAGE' });
      expect(error.message).toContain(message);
    }
    const missing = await rejection(connector.call('send_notification', { channel: 'C1', text: 'x' }, testContext().ctx));
    expect(missing.message).toContain('the credential "slack_token" is not configured');
    expect(s.received).toHaveLength(0);
  });
});

describe('slackConnector with an incoming-webhook URL', () => {
  it('posts text and blocks to the URL, with no token and no channel', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('ok');
    });
    const hook = `${s.url}/services/T000/B000/XXXX`;
    const { ctx } = testContext({ credentials: { deploy_hook: hook }, authentication: 'deploy_hook' });
    const out = await slackConnector().call('send_notification', { channel: '#deploys', text: 'Shipped', severity: 'high' }, ctx);

    expect(out).toEqual({ ok: true, channel: '#deploys' });
    const [got] = s.received;
    expect(got).toMatchObject({ method: 'POST', url: '/services/T000/B000/XXXX' });
    expect(got?.headers.authorization).toBeUndefined();
    expect(JSON.parse(got?.body ?? '')).toEqual({ text: ':rotating_light: Shipped' });
  });

  it('fails on Slack\'s error answers without showing the URL, which is the secret', async () => {
    let answer: [number, string] = [404, 'channel_not_found'];
    const s = await serve((_req, res) => {
      res.writeHead(answer[0], { 'content-type': 'text/html' });
      res.end(answer[1]);
    });
    const hook = `${s.url}/services/T000/B000/${CANARY}`;
    const { ctx, logText } = testContext({ credentials: { slack_token: hook } });
    const connector = slackConnector({ timeoutMs: 200 });
    const call = () => rejection(connector.call('send_notification', { text: 'x' }, ctx));

    const notFound = await call();
    expect(notFound).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(notFound.message).toBe('slack send_notification: POST the Slack incoming webhook answered HTTP 404: channel_not_found');
    answer = [500, `rollup_error at ${hook}`];
    const serverError = await call();
    expect(serverError).toMatchObject({ retryable: true });
    expect(serverError.message).toContain('rollup_error at [REDACTED]');

    await s.close();
    const refused = await call();
    expect(refused).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: true });
    const silent = await serve(() => {});
    const hung = await rejection(
      connector.call('send_notification', { text: 'x' }, testContext({ credentials: { slack_token: `${silent.url}/services/${CANARY}` } }).ctx),
    );
    expect(hung.message).toContain('timed out');

    for (const error of [notFound, serverError, refused, hung]) expect(everythingIn(error)).not.toContain(CANARY);
    expect(logText()).toContain('the Slack incoming webhook');
    expect(logText()).not.toContain(CANARY);
  });

  it('refuses a webhook URL over plain http to a remote host without printing it', async () => {
    const { ctx } = testContext({ credentials: { slack_token: `http://hooks.example.com/services/${CANARY}` } });
    const error = await rejection(slackConnector().call('post_message', { text: 'x' }, ctx));
    expect(error).toMatchObject({ code: 'USAGE' });
    expect(error.message).toBe('slack post_message: the credential "slack_token" is a webhook URL over plain http; expected https://');
    expect(everythingIn(error)).not.toContain(CANARY);
  });
});

describe('slackConnector secrets', () => {
  it('never lets a bot token out: not in results, errors or log lines', async () => {
    let answer: unknown = { ok: true, channel: 'C1', ts: '1.2' };
    const s = await serve((req, res) => json(res, 200, answer === 'echo' ? { ok: false, error: `invalid_auth ${String(req.headers.authorization)}` } : answer));
    const { ctx, logText } = testContext({ credentials: { slack_token: CANARY } });
    const connector = slackConnector({ baseUrl: s.url });

    const out = await connector.call('send_notification', { channel: 'C1', text: 'x' }, ctx);
    expect(s.received[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    answer = 'echo';
    const error = await rejection(connector.call('send_notification', { channel: 'C1', text: 'x' }, ctx));
    expect(error.message).toContain('invalid_auth Bearer [REDACTED]');

    for (const thing of [out, error]) expect(everythingIn(thing)).not.toContain(CANARY);
    expect(logText()).not.toContain(CANARY);
  });
});
