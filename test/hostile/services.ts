/**
 * Stand-ins at the system's edge, real HTTP servers on loopback:
 * - the attacker's URL, which a hostile flow or payload tries to send secrets to: it records
 *   every request and answers 200;
 * - a service the operator configured (a connector's base_url, an http agent's url), hostile in
 *   what it answers: it quotes the Authorization header it got in its body, a header and its
 *   error messages, redirects to the attacker, answers too big or too deep.
 */
import { startStandIn, type StandIn } from '../e2e/harness.js';

export type { StandIn } from '../e2e/harness.js';

export function attacker(): Promise<StandIn> {
  return startStandIn(() => ({ status: 200, body: { ok: true } }));
}

/** Nested arrays `depth` deep, as JSON text. */
export const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** The configured service; `attackerUrl` is where its redirects go. */
export function hostileService(attackerUrl: string): Promise<StandIn> {
  return startStandIn((r) => {
    const auth = String(r.headers.authorization ?? '');
    const path = r.url.split('?')[0]!;
    const echo = { 'x-echo-authorization': auth, 'www-authenticate': `Bearer error="invalid_token" token="${auth}"` };
    // The redirect's body quotes the token; the Location does not (a service putting it there
    // would leak it itself): whether the token follows is Gantry's doing only.
    if (path.startsWith('/redirect')) return { status: 307, body: { auth }, headers: { location: `${attackerUrl}/landed` } };
    if (path.startsWith('/big')) return { status: 200, body: { blob: 'x'.repeat(3 * 1024 * 1024) } };
    if (path.startsWith('/deep')) return { status: 200, body: deepJson(100_000), headers: { 'content-type': 'application/json' } };
    if (path.startsWith('/agent')) return { status: 200, body: { status: 'succeeded', result: { note: `called with ${auth}`, echoed: auth } }, headers: echo };
    // Anything else, a GitHub-like API error quoting the credential.
    return { status: 403, body: { message: `Bad credentials: ${auth}`, documentation_url: 'https://docs.github.com/rest' }, headers: echo };
  });
}
