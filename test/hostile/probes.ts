/**
 * What the harness sends and measures: HTTP calls recorded for the canary scan, signed webhook
 * deliveries, `GET /health` probed in parallel with its latencies, a run polled to its end.
 */
import { createHash, createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { CANARY_ENV } from './canaries.js';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The principal every serve case configures to read the runs API. */
export const OPERATOR_TOKEN = 'hostile-operator-token-0d5e';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: any;
  /** From the first byte sent to the end of the answer. */
  readonly ms: number;
}

/** Every answer a case received, for the canary scan. */
export type AnswerLog = string[];

export interface CallOptions {
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Give up (status 0) after this long. */
  readonly timeoutMs?: number;
  readonly log?: AnswerLog;
}

/** One request on a fresh connection. A failure to connect or a timeout is status 0. */
export function call(url: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (status: number, headers: Answer['headers'], text: string) => {
      const answer: Answer = { status, headers, text, json: parseJson(text), ms: performance.now() - started };
      options.log?.push(`${method} ${path} → ${status} ${JSON.stringify(headers)}\n${text}`);
      resolve(answer);
    };
    const req = request(`${url}${path}`, { method, headers: { connection: 'close', ...options.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8')));
      res.on('error', (e) => done(0, {}, `response error: ${e.message}`));
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('timed out')));
    req.on('error', (e) => done(0, {}, `request error: ${e.message}`));
    req.end(options.body);
  });
}

function parseJson(text: string): any {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const signature = (body: string | Buffer, secret = CANARY_ENV.GITHUB_WEBHOOK_SECRET!) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export interface Delivery {
  readonly delivery?: string;
  readonly event?: string;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
  readonly log?: AnswerLog;
}

/** POSTs a body signed with the webhook secret, as GitHub does. */
export function deliver(url: string, path: string, body: string, options: Delivery = {}): Promise<Answer> {
  return call(url, 'POST', path, {
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': signature(body),
      'x-github-event': options.event ?? 'push',
      ...(options.delivery === undefined ? {} : { 'x-github-delivery': options.delivery }),
      ...options.headers,
    },
    body,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.log ? { log: options.log } : {}),
  });
}

/** A runs-API read as the operator. */
export function api(url: string, path: string, options: { timeoutMs?: number; log?: AnswerLog; method?: string; body?: unknown; token?: string } = {}): Promise<Answer> {
  return call(url, options.method ?? 'GET', path, {
    headers: { authorization: `Bearer ${options.token ?? OPERATOR_TOKEN}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.log ? { log: options.log } : {}),
  });
}

export const FINAL = new Set(['succeeded', 'failed', 'blocked', 'rolled_back', 'cancelled']);

export interface Polled {
  /** The last view of the run (undefined when none could be read). */
  readonly view: any;
  /** When the run was first seen in a final status (or waiting, with `untilWaiting`), from `since`. */
  readonly ms: number | undefined;
}

/** Polls GET /runs/:id until the run is final (or waiting, if asked), or `deadline` (epoch ms) passes. */
export async function pollRun(url: string, runId: string, since: number, deadline: number, options: { log?: AnswerLog; untilWaiting?: boolean } = {}): Promise<Polled> {
  let view: any;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { view, ms: undefined };
    const answer = await api(url, `/runs/${encodeURIComponent(runId)}`, { timeoutMs: left, ...(options.log ? { log: options.log } : {}) });
    if (answer.status === 200) {
      view = answer.json;
      if (FINAL.has(view?.status) || (options.untilWaiting && view?.status === 'waiting')) return { view, ms: Date.now() - since };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface HealthFigures {
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
  /** Probes with no answer, or another status than 200 (or 503 with Retry-After). */
  readonly failed: number;
  readonly statuses: readonly number[];
  /** The median of a few probes of the idle server just before: how loaded the machine is. */
  idleP50?: number;
}

/**
 * The prober, a process of its own so that what the test process does meanwhile (a flood's
 * sockets, another case's scan) cannot delay its probes: `GET /health` back to back, a fresh
 * connection each, 20 ms apart; one JSON line per answer. A line on its stdin stops it: the probe
 * in flight gets 300 ms more to be answered, else it is reported with the time it has waited.
 */
const PROBER = `
const http = require('node:http');
const url = process.argv[1] + '/health';
let pendingSince;
let stopping = false;
const report = (line) => process.stdout.write(JSON.stringify(line) + '\\n');
process.stdin.once('data', () => {
  stopping = true;
  if (pendingSince === undefined) process.exit(0);
  setTimeout(() => {
    report({ pending: performance.now() - pendingSince });
    process.exit(0);
  }, 300);
});
(async () => {
  for (;;) {
    pendingSince = performance.now();
    const answer = await new Promise((ok) => {
      const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
        res.resume();
        res.on('end', () => ok({ status: res.statusCode, retryAfter: res.headers['retry-after'] !== undefined }));
      });
      req.on('error', () => ok({ status: 0 }));
    });
    report({ ms: performance.now() - pendingSince, ...answer });
    pendingSince = undefined;
    if (stopping || answer.status === 0) process.exit(0);
    await new Promise((r) => setTimeout(r, 20));
  }
})();
`;

/** One probe as the prober reports it. */
interface ProbeLine {
  readonly ms?: number;
  readonly pending?: number;
  readonly status?: number;
  readonly retryAfter?: boolean;
}

export interface HealthProbe {
  /** The median latency of the idle server, measured before `probeHealth` returned. */
  readonly idleP50: number;
  /**
   * Stops probing, once `minimum.windowMs` have passed since `probeHealth` returned and
   * `minimum.samples` probes were answered meanwhile (a frozen server: a second more, no
   * longer), and gives the figures of those probes.
   */
  stop(): Promise<HealthFigures>;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * `GET /health` probed by the prober process: what a load balancer sees. Resolves once
 * `idleSamples` probes of the idle server are in (its latency on this machine, now); what follows
 * is the hostile work's.
 */
export async function probeHealth(url: string, minimum: { windowMs: number; samples: number }, idleSamples = 5): Promise<HealthProbe> {
  const lines: ProbeLine[] = [];
  const child = spawn(process.execPath, ['-e', PROBER, url], { stdio: ['pipe', 'pipe', 'ignore'] });
  const ended = new Promise<void>((ok) => child.on('close', () => ok()));
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, newline)) as ProbeLine);
      buffered = buffered.slice(newline + 1);
    }
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const until = async (done: () => boolean, ms: number) => {
    const end = performance.now() + ms;
    while (!done() && !exited() && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  };
  await until(() => lines.length >= idleSamples, 10_000);
  const idle = lines.slice(0, idleSamples);
  const from = idle.length;
  const began = performance.now();
  return {
    idleP50: median(idle.map((l) => l.ms ?? l.pending ?? 0)),
    async stop() {
      const answered = () => lines.length - from;
      await until(() => performance.now() - began >= minimum.windowMs, minimum.windowMs);
      await until(() => answered() >= minimum.samples, 1_000);
      if (!exited()) child.stdin!.end('stop\n');
      await ended;
      const probes = lines.slice(from);
      const latencies = probes.map((l) => l.ms ?? l.pending!).sort((a, b) => a - b);
      const at = (q: number) => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
      const failed = probes.filter((l) => l.pending !== undefined || !(l.status === 200 || (l.status === 503 && l.retryAfter))).length;
      const statuses = [...new Set(probes.flatMap((l) => (l.status === undefined ? [] : [l.status])))];
      return { samples: latencies.length, p50: at(0.5), p90: at(0.9), max: latencies.at(-1) ?? 0, failed, statuses };
    },
  };
}
