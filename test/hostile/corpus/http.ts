/**
 * Items 6 and 9 at the HTTP edge of `gantry serve`: huge unsigned or badly signed bodies, bodies
 * over the limit, floods of connections and of slow bodies, deep JSON, HEAD /health, blank webhook
 * secrets. Each is answered at once with its status (401, 413, 503 with Retry-After, 400, 200),
 * with bounded memory, while /health keeps answering.
 */
import { BUDGET, type CaseContext, type HostileCase } from '../case.js';
import { checkAlive } from '../drivers.js';
import { residentBytes, type Served } from '../processes.js';
import { call, deliver, signature } from '../probes.js';
import { deepJson } from '../services.js';
import { after, chunk, holdRequest, postHead, type HeldRequest } from '../sockets.js';

const MiB = 1024 * 1024;
/**
 * How far the floods go before a 503 with Retry-After must have come: above any sensible default
 * cap on connections, and on bodies buffered at once (A-CODES leaves both to the fix).
 */
const MAX_CONNECTIONS = 5_000;
const MAX_SLOW_BODIES = 3_000;

/**
 * Serve, bystanders, /health probed while `work` runs, the server checked alive after. What
 * `work` returns (closing what it held open) runs once the probing has stopped.
 */
async function served(ctx: CaseContext, work: (s: Served) => Promise<void | (() => void)>): Promise<void> {
  const s = await ctx.serveWithBystanders();
  if (!s) return;
  const health = await ctx.watchHealth(s);
  let cleanup: void | (() => void);
  try {
    cleanup = await work(s);
  } finally {
    await health();
    cleanup?.();
  }
  await checkAlive(ctx, s);
}

/** Waits for an answer or `ms`, whichever is first: status 0 when no answer came. */
const answerWithin = (held: HeldRequest, ms: number) => Promise.race([held.answered, after(ms, { status: 0, head: '', at: performance.now() })]);

async function unsignedHugeBody(ctx: CaseContext): Promise<void> {
  await served(ctx, async (s) => {
    const start = performance.now();
    // The 24 MB are declared and never sent: the 401 must not wait for them. (Nothing of the body
    // is sent, so that a server closing after its answer has nothing unread to reset.)
    const held = await holdRequest(s.url, postHead('/hostile', { 'content-type': 'application/json', 'content-length': 24 * MiB, 'x-github-event': 'push' }));
    const answer = await answerWithin(held, 2 * ctx.c.expect.budgetMs);
    held.close();
    ctx.refused(answer.status ? answer.at - start : 2 * ctx.c.expect.budgetMs + 1, answer.status ? `${answer.status}` : 'no answer');
    if (answer.status !== 401) ctx.problem(`an unsigned 24 MB body was answered ${answer.status || 'nothing'} while its body was held back, expected 401 at once`);
  });
}

async function badSignaturesHeld(ctx: CaseContext): Promise<void> {
  const connections = 8;
  const sent = 16 * MiB;
  const limit = 64 * MiB;
  await served(ctx, async (s) => {
    const before = residentBytes(s.pid) ?? 0;
    const start = performance.now();
    const block = Buffer.alloc(MiB, 97);
    const held: HeldRequest[] = [];
    for (let i = 0; i < connections; i++) {
      const h = await holdRequest(s.url, postHead('/hostile', { 'content-type': 'application/json', 'content-length': 24 * MiB, 'x-github-event': 'push', 'x-hub-signature-256': signature('something else') }));
      held.push(h);
      for (let n = 0; n < sent / MiB; n++) if (!(await h.write(block))) break;
    }
    await after(500, null);
    const grown = (residentBytes(s.pid) ?? 0) - before;
    ctx.note(`resident memory grew ${Math.round(grown / MiB)} MiB with ${connections} × ${sent / MiB} MiB of badly signed bodies held open`);
    if (grown > limit) ctx.problem(`gantry serve's memory grew ${Math.round(grown / MiB)} MiB holding ${connections} unfinished badly signed bodies (${(connections * sent) / MiB} MiB): over ${limit / MiB} MiB, the bodies are buffered`);
    // Finish them: each is refused (401, or 503 past the cap on bodies at once).
    await Promise.all(held.map(async (h) => { for (let n = sent / MiB; n < 24; n++) if (!(await h.write(block))) break; }));
    const answers = await Promise.all(held.map((h) => answerWithin(h, 2 * ctx.c.expect.budgetMs)));
    held.forEach((h) => h.close());
    ctx.refused(Math.max(...answers.map((a) => (a.status ? a.at : performance.now()) - start)), answers.map((a) => a.status || 'none').join(','));
    const wrong = answers.filter((a) => a.status !== 401 && a.status !== 503);
    if (wrong.length > 0) ctx.problem(`badly signed bodies answered ${answers.map((a) => a.status || 'nothing').join(', ')}, expected 401 (or 503)`);
  });
}

async function overLimitStreaming(ctx: CaseContext): Promise<void> {
  await served(ctx, async (s) => {
    const start = performance.now();
    const held = await holdRequest(s.url, postHead('/hostile', { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-github-event': 'push', 'x-hub-signature-256': signature('{}') }));
    // 2 MiB of a body with no declared length, past the 1 MiB limit, then held open.
    for (let n = 0; n < 32; n++) if (!(await held.write(chunk(Buffer.alloc(64 * 1024, 32))))) break;
    const answer = await answerWithin(held, 2 * ctx.c.expect.budgetMs);
    held.close();
    // Refusing with 413 and closing while the client still sends may reach the client as a TCP
    // reset before the 413 is read: a refusal as good, the connection cut at the limit.
    const cut = answer.status === 0 && answer.reset === true;
    ctx.refused(answer.status || cut ? answer.at - start : 2 * ctx.c.expect.budgetMs + 1, answer.status ? `${answer.status}` : cut ? 'reset' : 'no answer');
    if (cut) ctx.note('the connection was reset at the limit (the 413, if sent, was lost to the reset)');
    else if (answer.status !== 413) ctx.problem(`a chunked body past the limit was answered ${answer.status || 'nothing'}, expected 413 as soon as the limit passed`);
  });
}

async function declaredOverLimit(ctx: CaseContext): Promise<void> {
  await served(ctx, async (s) => {
    const start = performance.now();
    const held = await holdRequest(s.url, postHead('/hostile', { 'content-type': 'application/json', 'content-length': 30 * MiB, 'x-github-event': 'push', 'x-hub-signature-256': signature('{}') }));
    const answer = await answerWithin(held, 2 * ctx.c.expect.budgetMs);
    held.close();
    ctx.refused(answer.status ? answer.at - start : 2 * ctx.c.expect.budgetMs + 1, answer.status ? `${answer.status}` : 'no answer');
    if (answer.status !== 413) ctx.problem(`a body declaring 30 MB was answered ${answer.status || 'nothing'}, expected 413 before it is sent`);
  });
}

/**
 * Opens connections by the hundred, each holding `open` (an unfinished request), and after each
 * hundred tries `probe`: some answer must be 503 with Retry-After before `max` connections.
 */
async function flood(ctx: CaseContext, open: (url: string, i: number) => Promise<HeldRequest>, probe: (url: string) => Promise<{ status: number; headers: Record<string, unknown> }>, max: number): Promise<void> {
  await served(ctx, async (s) => {
    const start = performance.now();
    const held: HeldRequest[] = [];
    let refusedAt: number | undefined;
    let seen = '';
    const closeAll = () => held.forEach((h) => h.close());
    try {
      while (held.length < max && refusedAt === undefined && performance.now() - start < 2 * ctx.c.expect.budgetMs) {
        const batch = await Promise.all(Array.from({ length: 100 }, (_, i) => open(s.url, held.length + i).catch(() => undefined)));
        for (const h of batch) if (h) held.push(h);
        // A connection the server answered at once (503 with Retry-After) counts as refused too.
        const early = await Promise.all(batch.map((h) => (h ? answerWithin(h, 20) : { status: 0, head: '', at: 0 })));
        const answered503 = early.find((a) => a.status === 503);
        const p = await probe(s.url);
        seen = `${p.status}`;
        if ((p.status === 503 && p.headers['retry-after'] !== undefined) || (answered503 && /retry-after/i.test(answered503.head))) refusedAt = performance.now();
      }
    } catch (error) {
      closeAll();
      throw error;
    }
    ctx.note(`${held.length} connections held open`);
    if (refusedAt === undefined) {
      ctx.refused(performance.now() - start, `no 503 after ${held.length} connections (last probe ${seen})`);
      ctx.problem(`${held.length} held connections and still no 503 with Retry-After (last probe answered ${seen})`);
    } else ctx.refused(refusedAt - start, `503 Retry-After at ${held.length} connections`);
    // /health is judged while they are held; they are let go after.
    return closeAll;
  });
}

async function connectionFlood(ctx: CaseContext): Promise<void> {
  // A request line and one header, never finished.
  const open = (url: string) => holdRequest(url, 'GET /runs HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  // The probe is an API read (401 while there is room): /health may be exempt from the cap, and
  // is probed throughout anyway.
  await flood(ctx, open, (url) => call(url, 'GET', '/runs', { timeoutMs: 2_000 }), MAX_CONNECTIONS);
}

async function slowBodiesFlood(ctx: CaseContext): Promise<void> {
  const body = JSON.stringify({ ref: 'refs/heads/main', pad: 'x'.repeat(64 * 1024) });
  // Correctly signed, so only a cap on bodies buffered at once can turn them away.
  const open = async (url: string) => {
    const h = await holdRequest(url, postHead('/hostile', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-github-event': 'push', 'x-hub-signature-256': signature(body) }));
    await h.write(body.slice(0, 1024));
    return h;
  };
  await flood(ctx, open, (url) => deliver(url, '/hostile', JSON.stringify({ ref: 'probe' }), { timeoutMs: 2_000 }), MAX_SLOW_BODIES);
}

async function headHealth(ctx: CaseContext): Promise<void> {
  const s = await ctx.serveWithBystanders();
  if (!s) return;
  const a = await call(s.url, 'HEAD', '/health', { log: ctx.answers });
  ctx.refused(a.ms, `${a.status}`);
  if (a.status !== 200) ctx.problem(`HEAD /health answered ${a.status}, expected 200`);
  if (a.text !== '') ctx.problem(`HEAD /health answered a body: ${a.text.slice(0, 100)}`);
  await checkAlive(ctx, s);
}

const blankSecret = (id: string, value: string, shown: string): HostileCase => ({
  id,
  item: '9',
  title: `GITHUB_WEBHOOK_SECRET is ${shown}: gantry serve refuses to start, naming the variable`,
  via: 'serve-start',
  env: { GITHUB_WEBHOOK_SECRET: value },
  expect: { budgetMs: BUDGET.process, exit: 2, says: /GITHUB_WEBHOOK_SECRET/ },
});

export const httpCases: HostileCase[] = [
  {
    id: 'http-unsigned-huge-body',
    item: '6',
    title: 'an unsigned POST declaring 24 MB, body held back: 401 before the body is read',
    via: 'custom',
    drive: unsignedHugeBody,
    expect: { budgetMs: BUDGET.answer },
  },
  {
    id: 'http-bad-signatures-held',
    alone: true,
    item: '6',
    title: '8 badly signed 24 MB bodies, 16 MB of each sent and held: memory stays flat, all 401',
    via: 'custom',
    drive: badSignaturesHeld,
    expect: { budgetMs: 4_000 },
  },
  {
    id: 'http-over-limit-chunked',
    item: '6',
    title: 'a chunked body (no Content-Length) past a 1 MiB limit, then held: 413 as soon as it passes',
    via: 'custom',
    drive: overLimitStreaming,
    config: { server: { body_limit_bytes: MiB } },
    expect: { budgetMs: BUDGET.heavyRun },
  },
  {
    id: 'http-over-limit-declared',
    item: '6',
    title: 'a signed POST declaring 30 MB (over the 25 MiB limit), body held back: 413 at once',
    via: 'custom',
    drive: declaredOverLimit,
    expect: { budgetMs: BUDGET.answer },
  },
  {
    id: 'http-connection-flood',
    alone: true,
    item: '6',
    title: 'up to 5,000 connections holding unfinished requests: 503 with Retry-After past the cap',
    via: 'custom',
    drive: connectionFlood,
    expect: { budgetMs: 5_000 },
  },
  {
    id: 'http-slow-bodies-flood',
    alone: true,
    item: '6',
    title: 'up to 3,000 signed deliveries sending 1 KB of 64 KB and waiting: 503 with Retry-After past the cap',
    via: 'custom',
    drive: slowBodiesFlood,
    expect: { budgetMs: 5_000 },
  },
  {
    id: 'http-deep-json',
    item: '9',
    title: 'a signed payload nested 45,000 deep: 400 naming the depth limit (500 on main)',
    via: 'webhook',
    payload: `{"deep":${deepJson(45_000)}}`,
    expect: { budgetMs: BUDGET.run, answer: { status: 400, says: /dep|nest/i } },
  },
  {
    id: 'http-head-health',
    item: '9',
    title: 'HEAD /health: 200 with no body (405 on main)',
    via: 'custom',
    drive: headHealth,
    expect: { budgetMs: BUDGET.answer },
  },
  blankSecret('serve-blank-secret', '   ', 'three spaces'),
  blankSecret('serve-empty-secret', '', 'empty'),
  blankSecret('serve-whitespace-secret', '\t\n', 'a tab and a newline'),
];
