/**
 * Stand-ins at the system's edge, real HTTP servers on loopback:
 * - the attacker's URL, which a hostile flow or payload tries to send secrets to: it records
 *   every request and answers 200;
 * - a service the operator configured (a connector's base_url, an http agent's url), hostile in
 *   what it answers: it quotes the Authorization header it got in its body, a header and its
 *   error messages, redirects to the attacker, answers too big or too deep.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface StandIn {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

async function standIn(answer: (r: Received) => Answer): Promise<StandIn> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const a = answer(r);
      const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': typeof a.body === 'string' ? 'text/plain' : 'application/json', ...a.headers });
      res.end(text);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export function attacker(): Promise<StandIn> {
  return standIn(() => ({ status: 200, body: { ok: true } }));
}

/** Nested arrays `depth` deep, as JSON text. */
export const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** The configured service; `attackerUrl` is where its redirects go. */
export function hostileService(attackerUrl: string): Promise<StandIn> {
  return standIn((r): Answer => {
    const auth = String(r.headers.authorization ?? '');
    const path = r.url.split('?')[0]!;
    const echo = { 'x-echo-authorization': auth, 'www-authenticate': `Bearer error="invalid_token" token="${auth}"` };
    // The redirect's body quotes the token; the Location does not (a service putting it there
    // would leak it itself): whether the token follows is Gantry's doing only.
    if (path.startsWith('/redirect')) return { status: 307, body: { auth }, headers: { location: `${attackerUrl}/landed` } };
    if (path.startsWith('/big')) return { status: 200, body: { blob: 'x'.repeat(3 * 1024 * 1024) } };
    if (path.startsWith('/deep')) return { status: 200, body: deepJson(100_000), headers: { 'content-type': 'application/json' } };
    if (path.startsWith('/agent')) return { status: 200, body: { status: 'succeeded', result: { note: `called with ${auth}`, echoed: auth } }, headers: echo };
    if (path.startsWith('/ok')) return { status: 200, body: { ok: true, seen: auth }, headers: echo };
    // Anything else, a GitHub-like API error quoting the credential.
    return { status: 403, body: { message: `Bad credentials: ${auth}`, documentation_url: 'https://docs.github.com/rest' }, headers: echo };
  });
}
