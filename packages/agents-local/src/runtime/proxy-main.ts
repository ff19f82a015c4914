/**
 * The production load balancer, run as its own process: a reverse proxy on node:http that sends
 * each request to blue or green by weight (smooth weighted round-robin, as nginx does: the split
 * is exact over any run of requests, no randomness), and an admin server on another port to set
 * the upstreams and the weights. Every proxied request is appended to an access log (JSON lines):
 * which upstream and version answered, the status and the time.
 *
 *   node proxy-main.js --access-log <file>
 *   prints {"msg":"listening","port":…,"admin_port":…}
 */
import { appendFileSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Color = 'blue' | 'green';
interface Upstream {
  url: string;
  version: string;
  deployment_id: string;
}

const COLORS: readonly Color[] = ['blue', 'green'];
const accessLog = process.argv[process.argv.indexOf('--access-log') + 1];
const upstreams: Partial<Record<Color, Upstream>> = {};
const weights: Record<Color, number> = { blue: 100, green: 0 };
const current: Record<Color, number> = { blue: 0, green: 0 };
const counts: Record<string, number> = {};
/** Requests on their way to or from each upstream: an upstream is taken out only once drained. */
const inflight: Record<Color, number> = { blue: 0, green: 0 };
const agent = new Agent({ keepAlive: true, maxSockets: 128 });

/** Smooth weighted round-robin over the upstreams that have a weight. */
function pick(): Color | undefined {
  const candidates = COLORS.filter((c) => weights[c] > 0 && upstreams[c] !== undefined);
  if (candidates.length === 0) return undefined;
  const total = candidates.reduce((sum, c) => sum + weights[c], 0);
  let best = candidates[0]!;
  for (const c of candidates) {
    current[c] += weights[c];
    if (current[c] > current[best]) best = c;
  }
  current[best] -= total;
  return best;
}

function log(entry: Record<string, unknown>): void {
  if (accessLog) appendFileSync(accessLog, `${JSON.stringify({ t: new Date().toISOString(), ...entry })}\n`);
}

function proxy(req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const color = pick();
  const probe = req.headers['x-gantry-probe'];
  let finished = false;
  const done = (status: number, version: string | undefined) => {
    if (finished) return;
    finished = true;
    if (color !== undefined) inflight[color] -= 1;
    counts[`${color ?? 'none'}:${status}`] = (counts[`${color ?? 'none'}:${status}`] ?? 0) + 1;
    log({ started: startedAt, upstream: color ?? null, version: version ?? null, status, ms: Math.round((performance.now() - started) * 10) / 10, path: req.url, ...(probe ? { probe } : {}) });
  };
  if (color !== undefined) inflight[color] += 1;
  if (color === undefined) {
    res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no upstream has any weight' }));
    return done(503, undefined);
  }
  const target = new URL(req.url ?? '/', upstreams[color]!.url);
  const upstreamReq = request(target, { method: req.method, headers: { ...req.headers, host: target.host }, agent }, (answer) => {
    const version = typeof answer.headers['x-service-version'] === 'string' ? answer.headers['x-service-version'] : undefined;
    res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'x-gantry-upstream': color });
    answer.pipe(res);
    answer.on('end', () => done(answer.statusCode ?? 502, version));
    // The upstream went away mid-answer (its 'error' comes on the answer, not on the request):
    // the client's answer is cut too, never taken for a whole one, and the request is over.
    answer.on('error', () => undefined);
    answer.on('close', () => {
      if (answer.complete) return;
      res.destroy();
      done(502, version);
    });
  });
  upstreamReq.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json', 'x-gantry-upstream': color }).end(JSON.stringify({ error: `${color}: ${error.message}` }));
    else res.destroy(error); // cut mid-answer: the client must not take half a body for a whole one
    done(502, undefined);
  });
  // The client went away first: nothing waits for the upstream's answer any more.
  res.on('close', () => {
    if (finished) return;
    upstreamReq.destroy();
    done(499, undefined);
  });
  req.pipe(upstreamReq);
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function state() {
  return { weights, upstreams, counts, inflight };
}

async function admin(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
  const route = /^\/upstreams\/(blue|green)$/.exec(req.url ?? '');
  try {
    if (req.method === 'GET' && req.url === '/state') return reply(200, state());
    if (route && req.method === 'PUT') {
      const given = await body(req);
      if (typeof given.url !== 'string') return reply(400, { error: 'expected { url, version, deployment_id }' });
      upstreams[route[1] as Color] = { url: given.url, version: String(given.version ?? ''), deployment_id: String(given.deployment_id ?? '') };
      return reply(200, state());
    }
    if (route && req.method === 'DELETE') {
      const color = route[1] as Color;
      // An upstream that still has weight cannot go: requests would have nowhere to go.
      if (weights[color] > 0) return reply(409, { error: `${color} still has ${weights[color]}% of the traffic` });
      // Drain: the requests it is still answering finish before it is let go (at most 30 s).
      const waited = performance.now();
      const draining = inflight[color];
      while (inflight[color] > 0 && performance.now() - waited < 30_000) await new Promise((resolve) => setTimeout(resolve, 20));
      delete upstreams[color];
      return reply(200, { ...state(), drained: { requests: draining, ms: Math.round(performance.now() - waited), left: inflight[color] } });
    }
    if (req.url === '/weights' && req.method === 'PUT') {
      const given = await body(req);
      const next = { blue: Number(given.blue), green: Number(given.green) };
      if (!COLORS.every((c) => Number.isFinite(next[c]) && next[c] >= 0) || next.blue + next.green !== 100) return reply(400, { error: `weights must be ≥ 0 and add up to 100, got ${JSON.stringify(given)}` });
      const missing = COLORS.filter((c) => next[c] > 0 && upstreams[c] === undefined);
      if (missing.length > 0) return reply(409, { error: `no ${missing.join(' and ')} upstream to send traffic to` });
      Object.assign(weights, next);
      Object.assign(current, { blue: 0, green: 0 });
      return reply(200, state());
    }
    reply(404, { error: `no admin route ${req.method} ${req.url}` });
  } catch (error) {
    reply(400, { error: (error as Error).message });
  }
}

const publicServer = createServer(proxy);
const adminServer = createServer((req, res) => void admin(req, res));
await Promise.all([publicServer, adminServer].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: (publicServer.address() as AddressInfo).port, admin_port: (adminServer.address() as AddressInfo).port })}\n`);
process.once('SIGTERM', () => process.exit(0));
