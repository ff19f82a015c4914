import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GantryError } from '@gantry/engine';
import { bearerToken, httpError } from './http.js';

/**
 * How a webhook's requests are authenticated, from its node's `authentication` (a credential
 * name) and that credential's value, resolved once at start:
 * - a name ending in `webhook_secret` (`github_webhook_secret`) is an HMAC secret: the request
 *   carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, as GitHub signs;
 * - any other name (`github_token`) is a token the request presents as
 *   `Authorization: Bearer <token>` (or GitHub's `token <token>`);
 * - no `authentication`: the endpoint is open (the server logs a warning when it starts).
 */
export type WebhookAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'hmac'; readonly credential: string; readonly secret: Buffer }
  | { readonly kind: 'bearer'; readonly credential: string; readonly tokenHash: Buffer };

/** Whether a credential name means an HMAC signature rather than a bearer token. */
export function isSignatureScheme(authentication: string): boolean {
  return /webhook_secret$/i.test(authentication);
}

/**
 * The authentication of one webhook node; refuses (CONFIG_INVALID) a credential that is not set,
 * naming the flow, the node and where the value was looked for: the server never falls back to
 * accepting unsigned requests.
 */
export function webhookAuth(
  authentication: string | undefined,
  credentials: (name: string) => string | undefined,
  where: string,
  describeCredential: (name: string) => string,
): WebhookAuth {
  if (authentication === undefined) return { kind: 'none' };
  const value = credentials(authentication);
  if (value === undefined || value.trim() === '') {
    // An empty secret signs for anyone who guesses it is empty: as good as none.
    const state = value === undefined ? 'is not set' : value === '' ? 'is empty' : 'holds only whitespace';
    throw new GantryError(
      'CONFIG_INVALID',
      `${where}: authentication "${authentication}" needs ${describeCredential(authentication)}, which ${state}; set it (or bind the credential in the configuration's "credentials") — the server does not accept unauthenticated requests on this endpoint`,
    );
  }
  if (isSignatureScheme(authentication)) return { kind: 'hmac', credential: authentication, secret: Buffer.from(value, 'utf8') };
  return { kind: 'bearer', credential: authentication, tokenHash: sha256(value) };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/** Whether `header` is `sha256=` + the HMAC-SHA256 of `body` with `secret`, compared in constant time. */
export function signatureMatches(secret: Buffer, body: Buffer, header: string | undefined): boolean {
  const match = header === undefined ? null : SIGNATURE.exec(header.trim());
  if (match === null) return false;
  const given = Buffer.from(match[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(given, expected);
}

/** Whether `token` is the expected one: both hashed first, so the comparison takes the same time whatever their lengths. */
export function tokenMatches(expectedHash: Buffer, token: string | undefined): boolean {
  if (token === undefined) return false;
  return timingSafeEqual(sha256(token), expectedHash);
}

/**
 * A webhook request's authentication, checked as early as it can be. What the headers decide is
 * decided when this is called, before a byte of the body is read: a missing or malformed
 * X-Hub-Signature-256, a missing or wrong bearer token (401). A signature is then computed over
 * the body as it streams (`observe` each chunk) and compared once it has all arrived (`verify`).
 */
export interface WebhookCheck {
  readonly observe?: (chunk: Buffer) => void;
  readonly verify: () => void;
}

const NOTHING_TO_VERIFY: WebhookCheck = { verify: () => {} };

export function startWebhookCheck(auth: WebhookAuth, headers: IncomingHttpHeaders): WebhookCheck {
  if (auth.kind === 'none') return NOTHING_TO_VERIFY;
  if (auth.kind === 'bearer') {
    const token = bearerToken({ headers });
    if (!tokenMatches(auth.tokenHash, token)) {
      throw httpError('WEBHOOK_UNAUTHORIZED', token === undefined ? 'the request has no Authorization: Bearer token' : 'the bearer token is not the one this webhook expects', {
        'www-authenticate': 'Bearer',
      });
    }
    return NOTHING_TO_VERIFY;
  }
  const header = headers['x-hub-signature-256'];
  const value = Array.isArray(header) ? undefined : header;
  if (value === undefined) {
    const hint = headers['x-hub-signature'] === undefined ? '' : ' (only the SHA-1 X-Hub-Signature was sent; SHA-256 is required)';
    throw httpError('WEBHOOK_UNAUTHORIZED', `the request is not signed: X-Hub-Signature-256 is missing${hint}`);
  }
  const given = SIGNATURE.exec(value.trim());
  // A header no HMAC can match is as wrong as one that does not match: the same answer.
  const mismatch = () => httpError('WEBHOOK_UNAUTHORIZED', 'X-Hub-Signature-256 does not match the body');
  if (given === null) throw mismatch();
  const hmac = createHmac('sha256', auth.secret);
  return {
    observe: (chunk) => hmac.update(chunk),
    verify: () => {
      if (!timingSafeEqual(Buffer.from(given[1]!, 'hex'), hmac.digest())) throw mismatch();
    },
  };
}

/** Throws 401 unless the request with this whole body is authenticated: {@link startWebhookCheck} in one call. */
export function verifyWebhook(auth: WebhookAuth, headers: IncomingHttpHeaders, body: Buffer): void {
  const check = startWebhookCheck(auth, headers);
  check.observe?.(body);
  check.verify();
}
