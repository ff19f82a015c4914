import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { bearerToken, httpError } from './http.js';

/** Approver identities as the configuration gives them: roles and the sha256 (hex) of an API token. */
export type PrincipalTokens = Readonly<Record<string, { readonly roles: readonly string[]; readonly token_sha256?: string }>>;

/**
 * Who a request is: the principal whose `token_sha256` is the sha256 of its bearer token. Tokens
 * are never stored, only their hashes; every configured hash is compared (in constant time) so
 * that the answer takes as long whoever asks. 401 when no principal holds the token.
 */
export function principalResolver(principals: PrincipalTokens | undefined): (req: IncomingMessage) => string {
  const hashes = Object.entries(principals ?? {}).flatMap(([name, p]) => (p.token_sha256 === undefined ? [] : [{ name, hash: Buffer.from(p.token_sha256, 'hex') }]));
  return (req) => {
    const token = bearerToken(req);
    if (token === undefined) {
      throw httpError('UNAUTHORIZED', 'this API needs Authorization: Bearer <token>, the token of a principal of the configuration', { 'www-authenticate': 'Bearer' });
    }
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: string | undefined;
    for (const { name, hash } of hashes) {
      if (hash.length === digest.length && timingSafeEqual(hash, digest) && found === undefined) found = name;
    }
    if (found === undefined) throw httpError('UNAUTHORIZED', 'the bearer token is no principal\'s (principals.*.token_sha256 of the configuration)', { 'www-authenticate': 'Bearer error="invalid_token"' });
    return found;
  };
}
