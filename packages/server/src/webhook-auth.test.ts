import { describe, expect, it } from 'vitest';
import { sign, verify } from '@octokit/webhooks-methods';
import { isGantryError } from '@gantry/engine';
import { HttpError } from './http.js';
import { isSignatureScheme, signatureMatches, verifyWebhook, webhookAuth } from './webhook-auth.js';

const secret = "It's a Secret to Everybody";
const body = '{"action":"opened","sender":{"login":"octocat"}}';
const env: Record<string, string> = { GITHUB_WEBHOOK_SECRET: secret, GITHUB_TOKEN: 'ghp_abc' };
const credentials = (name: string) => env[name.toUpperCase()];
const where = 'flow "F" node "hook"';
const describeCredential = (name: string) => `the environment variable ${name.toUpperCase()}`;

describe('webhook signatures', () => {
  it('agrees with @octokit/webhooks-methods, including GitHub\'s documented test vector', async () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const vector = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(signatureMatches(Buffer.from(secret), Buffer.from('Hello, World!'), vector)).toBe(true);
    const signature = await sign(secret, body);
    expect(await verify(secret, body, signature)).toBe(true);
    expect(signatureMatches(Buffer.from(secret), Buffer.from(body), signature)).toBe(true);
    expect(signatureMatches(Buffer.from(secret), Buffer.from(body), signature.toUpperCase().replace('SHA256=', 'sha256='))).toBe(true);
  });

  it('refuses what is not exactly sha256= and 64 hex digits of the right HMAC', async () => {
    const signature = await sign(secret, body);
    for (const bad of [undefined, '', 'sha256=', signature.slice(0, -1), `${signature}0`, signature.replace('sha256=', 'sha1='), `sha256=${'g'.repeat(64)}`, await sign('other', body)]) {
      expect(signatureMatches(Buffer.from(secret), Buffer.from(body), bad), String(bad)).toBe(false);
    }
  });
});

describe('webhookAuth', () => {
  it('takes a *webhook_secret credential as an HMAC secret and any other as a bearer token', () => {
    expect(isSignatureScheme('github_webhook_secret')).toBe(true);
    expect(isSignatureScheme('github_token')).toBe(false);
    expect(webhookAuth('github_webhook_secret', credentials, where, describeCredential).kind).toBe('hmac');
    expect(webhookAuth('github_token', credentials, where, describeCredential).kind).toBe('bearer');
    expect(webhookAuth(undefined, credentials, where, describeCredential).kind).toBe('none');
  });

  it('refuses a credential that is not set, empty or only whitespace, naming the node and the variable, never its value', () => {
    const values: Record<string, string> = { EMPTY_TOKEN: '', BLANK_WEBHOOK_SECRET: ' \t\n ', BLANK_TOKEN: '  ' };
    const cases = [
      ['deploy_webhook_secret', 'is not set'],
      ['empty_token', 'is empty'],
      ['blank_webhook_secret', 'holds only whitespace'],
      ['blank_token', 'holds only whitespace'],
    ];
    for (const [name, state] of cases) {
      try {
        webhookAuth(name, (n) => values[n.toUpperCase()], where, describeCredential);
        expect.unreachable();
      } catch (error) {
        expect(isGantryError(error, 'CONFIG_INVALID')).toBe(true);
        expect((error as Error).message).toContain(`flow "F" node "hook": authentication "${name}" needs the environment variable ${name.toUpperCase()}, which ${state}`);
      }
    }
  });

  it('answers 401 without revealing the secret, and checks bearer tokens in constant time through their hashes', async () => {
    const hmac = webhookAuth('github_webhook_secret', credentials, where, describeCredential);
    const signature = await sign(secret, body);
    expect(() => verifyWebhook(hmac, { 'x-hub-signature-256': signature }, Buffer.from(body))).not.toThrow();
    const refusal = (() => {
      try {
        verifyWebhook(hmac, { 'x-hub-signature-256': signature }, Buffer.from(`${body} `));
      } catch (error) {
        return error as HttpError;
      }
      throw new Error('not refused');
    })();
    expect(refusal).toBeInstanceOf(HttpError);
    expect(refusal.status).toBe(401);
    expect(refusal.message).not.toContain(secret);
    const bearer = webhookAuth('github_token', credentials, where, describeCredential);
    expect(() => verifyWebhook(bearer, { authorization: 'Bearer ghp_abc' }, Buffer.alloc(0))).not.toThrow();
    expect(() => verifyWebhook(bearer, { authorization: 'Bearer ghp_abcd' }, Buffer.alloc(0))).toThrow(/not the one this webhook expects/);
    expect(() => verifyWebhook(bearer, { authorization: 'Basic Z2hwX2FiYw==' }, Buffer.alloc(0))).toThrow(/no Authorization: Bearer token/);
  });
});
