/**
 * A credential goes only to the origins it may be sent to (DESIGN §11): checked at each request,
 * redirects included, against real loopback servers. The refusal names the credential, never
 * its value, and nothing is sent.
 */
import { describe, expect, it } from 'vitest';
import { githubConnector } from './github.js';
import { httpConnector } from './http.js';
import { prometheusConnector } from './prometheus.js';
import { slackConnector } from './slack.js';
import { everythingIn, json, loopbackPerTest, rejection, testContext } from './test-kit.js';

const CANARY = 'canary-5be1-origin-token';
const serve = loopbackPerTest();
const http = () => httpConnector({ allow: ['127.0.0.1'] });

describe('where a credential may be sent', () => {
  it('the http connector sends a credential to a URL of the flow\'s only when its origins say so', async () => {
    const s = await serve((_req, res) => json(res, 200, { ok: true }));
    const declared = testContext({ credentials: { api: CANARY }, origins: { api: [s.url] }, authentication: 'api' });
    expect(await http().call('get', { url: `${s.url}/a` }, declared.ctx)).toMatchObject({ status: 200 });
    expect(s.received[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);

    const elsewhere = testContext({ credentials: { api: CANARY }, origins: { api: ['https://api.example.com'] }, authentication: 'api' });
    const refused = await rejection(http().call('get', { url: `${s.url}/b` }, elsewhere.ctx));
    expect(refused).toMatchObject({ code: 'CREDENTIAL_REFUSED', retryable: false });
    expect(refused.message).toContain(`the credential "api" may not be sent to ${s.url}`);
    expect(refused.message).toContain('https://api.example.com');
    // Told nothing about origins, the engine lets a credential go only where a connector was configured to go: an http URL is a flow's.
    const undeclared = await rejection(http().call('get', { url: `${s.url}/c` }, testContext({ credentials: { api: CANARY }, authentication: 'api' }).ctx));
    expect(undeclared).toMatchObject({ code: 'CREDENTIAL_REFUSED' });
    expect(s.received).toHaveLength(1);
    for (const error of [refused, undeclared]) expect(everythingIn(error)).not.toContain(CANARY);
  });

  it('follows a redirect within an allowed origin with the credential, and refuses a hop that would carry it elsewhere', async () => {
    const other = await serve((req, res) => json(res, 200, { at: req.url }));
    const s = await serve((req, res) => {
      if (req.url === '/old') return void res.writeHead(301, { location: '/new' }).end();
      // A service that writes the token it was sent into where it sends the caller.
      if (req.url === '/leak') return void res.writeHead(302, { location: `${other.url}/x?t=${String(req.headers.authorization).slice(7)}` }).end();
      json(res, 200, { at: req.url });
    });
    const { ctx } = testContext({ credentials: { api: CANARY }, origins: { api: [s.url] }, authentication: 'api' });
    expect(await http().call('get', { url: `${s.url}/old` }, ctx)).toMatchObject({ body: { at: '/new' } });
    expect(s.received.map((r) => r.headers.authorization)).toEqual([`Bearer ${CANARY}`, `Bearer ${CANARY}`]);
    const error = await rejection(http().call('get', { url: `${s.url}/leak` }, ctx));
    expect(error).toMatchObject({ code: 'CREDENTIAL_REFUSED' });
    expect(other.received).toEqual([]);
    expect(everythingIn(error)).not.toContain(CANARY);
  });

  it('holds the service connectors to the declared origins too, and to their configured base URL when none are declared', async () => {
    const s = await serve((_req, res) => json(res, 201, { id: 1 }));
    const params = { repository: 'o/r', issue_number: 1, body: 'hi' };
    const github = githubConnector({ baseUrl: s.url, allowPrivateNetworks: true });
    expect(await github.call('create_comment', params, testContext({ credentials: { github_token: CANARY } }).ctx)).toMatchObject({ status: 201 });
    const refused = await rejection(github.call('create_comment', params, testContext({ credentials: { github_token: CANARY }, origins: { github_token: ['https://api.github.com'] } }).ctx));
    expect(refused).toMatchObject({ code: 'CREDENTIAL_REFUSED' });
    expect(refused.message).toContain('"github_token"');
    expect(s.received).toHaveLength(1);
  });

  it('sends a Slack webhook URL held in a credential to itself, whatever the token origins', async () => {
    const s = await serve((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    const hook = `${s.url}/services/T0/B0/${CANARY}`;
    const { ctx } = testContext({ credentials: { slack_token: hook }, origins: { slack_token: ['https://slack.com'] } });
    expect(await slackConnector().call('send_notification', { text: 'deployed' }, ctx)).toEqual({ ok: true });
    expect(s.received[0]?.url).toBe(`/services/T0/B0/${CANARY}`);
  });

  it('never sends a webhook\'s signing secret, whatever the connector', async () => {
    const s = await serve((_req, res) => json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [0, '1'] } }));
    const { ctx } = testContext({ credentials: { github_webhook_secret: CANARY }, origins: { github_webhook_secret: [s.url] }, authentication: 'github_webhook_secret' });
    for (const call of [() => http().call('get', { url: s.url }, ctx), () => prometheusConnector({ baseUrl: s.url }).call('query', { query: 'up' }, ctx)]) {
      const error = await rejection(call());
      expect(error).toMatchObject({ code: 'CREDENTIAL_REFUSED' });
      expect(error.message).toContain('"github_webhook_secret" is a webhook\'s signing secret');
      expect(everythingIn(error)).not.toContain(CANARY);
    }
    expect(s.received).toEqual([]);
  });
});
