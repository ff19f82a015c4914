/**
 * One HTTP call under the outbound policy (`outbound.ts`), on undici: the total deadline, the
 * caller's abort signal, the response size cap, and redirects checked hop by hop are enforced
 * here once. A call is one attempt at the other side (Temporal's rule: the engine owns retries):
 * every way it can fail becomes a `GantryError` that says whether a retry could help, and how
 * long the other side asked to wait (`Retry-After`, as `retryAfterMs`); the node's `retry`
 * decides. The one retry made here is of a connection that could not be opened, when nothing
 * reached the other side. Callers decide what a status means. Time is the caller's clock.
 */
import { request, type Dispatcher } from 'undici';
import { GantryError, systemClock, type Clock, type ConnectorContext, type JsonValue } from '@gantry/engine';
import type { Outbound, OutboundPolicy } from './outbound.js';
import type { CallSite } from './params.js';
import { checkCredentialOrigin, safeCause, scrubText, type Credential } from './secrets.js';

export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  /** How the target appears in messages and logs: no query, and never a URL that is a secret. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface IncomingAnswer {
  readonly status: number;
  /** Lower-cased names; a repeated header is joined with ", " (set-cookie included: callers drop it). */
  readonly headers: Readonly<Record<string, string>>;
  /** The content type without parameters, lower-cased: `application/json`. */
  readonly mediaType: string;
  readonly text: string;
  /** The request that got this answer: the one sent, or the last redirect's. */
  readonly request: OutgoingRequest;
  /**
   * The wait its `Retry-After` asks for (seconds, or an HTTP date read on the caller's clock when
   * the answer came), in ms, at most the policy's `maxRetryAfterMs`; undefined without one.
   */
  readonly retryAfterMs: number | undefined;
}

/** The code of the errors a call throws: a connector's, or an agent transport's. */
export type FailureCode = 'CONNECTOR_FAILED' | 'AGENT_FAILED';

/** What one call runs with. `secrets` are scrubbed from every message it produces. */
export interface CallEnv {
  readonly site: CallSite;
  readonly outbound: Outbound;
  /** The caller's signal, log and clock (the system clock when it has none). */
  readonly ctx: Pick<ConnectorContext, 'signal' | 'log' | 'clock'>;
  readonly secrets: readonly string[];
  /** The credential the call carries: each request is checked against where it may go. */
  readonly credential?: Credential;
  /** @default "CONNECTOR_FAILED" */
  readonly code?: FailureCode;
  /** This call's total time instead of the policy's `timeoutMs` (an agent's own timeout). */
  readonly timeoutMs?: number;
}

/** Why this module aborted a request: undici rejects with the abort reason, so it must be ours to tell apart. */
class Stop extends Error {
  constructor(readonly kind: 'timeout' | 'caller' | 'too_large') {
    super(kind);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/**
 * Failures to open a connection: no byte of the request left this machine, so trying again
 * cannot repeat an effect, whatever the method. A refused connection, an unreachable network, a
 * DNS lookup that may succeed later, a connect timeout.
 */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** The caller's clock, or the system clock for a caller that has none. */
export function clockOf(env: Pick<CallEnv, 'ctx'>): Clock {
  return env.ctx.clock ?? systemClock;
}

/**
 * Sends `req` and reads the whole answer within the policy, following redirects. The answer is
 * returned whatever its status; failing to get one throws. A connection that could not be opened
 * is tried again (up to `maxAttempts`, with full jitter, within the deadline); nothing else is.
 */
export async function send(env: CallEnv, req: OutgoingRequest): Promise<IncomingAnswer> {
  const { ctx } = env;
  const clock = clockOf(env);
  const policy = env.outbound.policy;
  const timeoutMs = env.timeoutMs ?? policy.timeoutMs;
  if (ctx.signal.aborted) throw aborted(env, describe(env, req));

  const stop = new AbortController();
  const onAbort = () => stop.abort(new Stop('caller'));
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  // On the clock: in real time on the system clock (a hung socket still times out), in a test's
  // time on a fake one.
  const deadline = clock.now() + timeoutMs;
  const cancelTimer = clock.at(deadline, () => stop.abort(new Stop('timeout')));
  let current = req;
  let redirects = 0;
  try {
    for (let attempt = 1; ; ) {
      let answer: IncomingAnswer;
      try {
        answer = await exchange(env, current, stop);
      } catch (error) {
        const failure = classify(env, current, error, stop.signal.reason, timeoutMs);
        const wait = !stop.signal.aborted && attempt < policy.maxAttempts && notConnected(error) ? connectDelay(policy, attempt) : undefined;
        if (wait === undefined || clock.now() + wait >= deadline) throw failure;
        ctx.log.debug({ ...fields(env, current), attempt, error: failure.message, delayMs: Math.round(wait) }, 'outbound call retrying');
        try {
          await pause(clock, wait, stop.signal);
        } catch (reason) {
          throw classify(env, current, reason, stop.signal.reason, timeoutMs);
        }
        attempt += 1;
        continue;
      }
      const next = redirectOf(env, answer, redirects);
      if (next === undefined) return answer;
      current = next;
      redirects += 1;
    }
  } finally {
    cancelTimer();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** One request and its whole answer, read within the size cap. */
async function exchange(env: CallEnv, req: OutgoingRequest, stop: AbortController): Promise<IncomingAnswer> {
  const { maxResponseBytes, maxRetryAfterMs } = env.outbound.policy;
  // Each hop is checked, redirects and retries included: a credential goes only where it may.
  checkCredentialOrigin(env.site, env.credential, req.url, [req.url.href, req.body ?? '', ...Object.values(req.headers)], env.outbound.isTrusted);
  const clock = clockOf(env);
  const started = clock.now();
  try {
    const res = await request(req.url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body ?? null,
      signal: stop.signal,
      dispatcher: env.outbound.dispatcher,
    });
    const tooLarge = () => {
      stop.abort(new Stop('too_large'));
      return new GantryError(
        'RESPONSE_TOO_LARGE',
        `${describe(env, req)}: the answer is larger than the ${maxResponseBytes}-byte limit (maxResponseBytes)`,
      );
    };
    // A declared length over the cap fails before a byte is read; a chunked body is counted as it
    // comes. A HEAD answer's length describes a body that is never sent.
    if (req.method !== 'HEAD' && Number(res.headers['content-length'] ?? 0) > maxResponseBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxResponseBytes) throw tooLarge();
      chunks.push(chunk);
    }
    const headers = flattenHeaders(res.headers);
    const [mediaType = '', ...parameters] = (headers['content-type'] ?? '').split(';');
    const answer: IncomingAnswer = {
      status: res.statusCode,
      headers,
      mediaType: mediaType.trim().toLowerCase(),
      text: decode(Buffer.concat(chunks, size), parameters),
      request: req,
      retryAfterMs: cap(retryAfterMs(headers['retry-after'], clock.now()), maxRetryAfterMs),
    };
    env.ctx.log.debug({ ...fields(env, req), status: answer.status, durationMs: clock.now() - started }, 'outbound call');
    return answer;
  } catch (error) {
    env.ctx.log.debug({ ...fields(env, req), durationMs: clock.now() - started, error: scrubText(String((error as Error)?.message ?? error), env.secrets) }, 'outbound call failed');
    throw error;
  }
}

/** The next hop of a redirect, checked like the first by the dispatcher; undefined when the answer is final. */
function redirectOf(env: CallEnv, answer: IncomingAnswer, count: number): OutgoingRequest | undefined {
  const { maxRedirects } = env.outbound.policy;
  const location = answer.headers.location;
  const req = answer.request;
  if (!REDIRECTS.has(answer.status) || maxRedirects === 0 || location === undefined) return undefined;
  const fail = (why: string) => new GantryError(env.code ?? 'CONNECTOR_FAILED', `${describe(env, req)} ${why}`);
  if (count >= maxRedirects) throw fail(`was redirected more than ${maxRedirects} times (maxRedirects)`);
  let url: URL;
  try {
    url = new URL(location, req.url);
  } catch {
    throw fail(`answered HTTP ${answer.status} with a Location that is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail(`was redirected to a ${url.protocol.slice(0, -1)} URL; only http and https are followed`);
  }
  const headers: Record<string, string> = { ...req.headers };
  // Credentials go to the origin they were meant for, never to one a redirect names (as fetch does).
  if (url.origin !== req.url.origin) for (const name of ['authorization', 'cookie', 'proxy-authorization']) delete headers[name];
  const toGet = (answer.status === 303 && req.method !== 'HEAD') || ((answer.status === 301 || answer.status === 302) && req.method === 'POST');
  if (toGet) for (const name of ['content-type', 'content-length']) delete headers[name];
  const next: OutgoingRequest = {
    method: toGet ? 'GET' : req.method,
    url,
    target: scrubText(`${url.origin}${url.pathname}`, env.secrets),
    headers,
    ...(toGet || req.body === undefined ? {} : { body: req.body }),
  };
  env.ctx.log.debug({ ...fields(env, req), status: answer.status, to: next.target }, 'outbound call redirected');
  return next;
}

/** Full jitter before connect attempt n + 1: a random wait below min(retryMaxMs, retryBaseMs · 2ⁿ⁻¹). */
function connectDelay(policy: OutboundPolicy, attempt: number): number {
  return policy.random() * Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** (attempt - 1));
}

/** Whether a failure came before any byte of the request was sent (see {@link NOT_CONNECTED}). */
function notConnected(error: unknown): boolean {
  const code = errorCodeOf(error);
  return code !== undefined && NOT_CONNECTED.has(code);
}

function cap(ms: number | undefined, max: number): number | undefined {
  return ms === undefined ? undefined : Math.min(ms, max);
}

/** `Retry-After` in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or malformed. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) || !/[a-z]/i.test(text) ? undefined : Math.max(0, at - now);
}

/** Resolves `ms` from now on `clock`, or rejects with the signal's reason once it aborts. */
export function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal.reason);
    };
    const cancel = clock.at(clock.now() + ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** 408, 429 and 5xx may succeed later; any other status will not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** A short, secret-free, one-line excerpt of an answer body for an error message. */
export function excerpt(text: string, secrets: readonly string[], max = 200): string {
  // Scrub before cutting: a secret cut in half would no longer match.
  const line = scrubText(text, secrets).replace(/\s+/g, ' ').trim();
  if (line === '') return '(empty body)';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** A failure for a status the call did not expect; `detail` is what the body says (default: the body). */
export function statusFailure(
  env: Pick<CallEnv, 'site' | 'secrets' | 'code'>,
  answer: IncomingAnswer,
  options: { expected?: string; retryable?: boolean; detail?: string } = {},
): GantryError {
  const expected = options.expected === undefined ? '' : ` (expected ${options.expected})`;
  const retryAfter = answer.headers['retry-after'] === undefined ? '' : ` (Retry-After: ${excerpt(answer.headers['retry-after'], env.secrets, 40)})`;
  const retryable = options.retryable ?? isRetryableStatus(answer.status);
  return new GantryError(
    env.code ?? 'CONNECTOR_FAILED',
    `${describe(env, answer.request)} answered HTTP ${answer.status}${expected}${retryAfter}: ${excerpt(options.detail ?? answer.text, env.secrets)}`,
    { retryable, ...(retryable && answer.retryAfterMs !== undefined ? { retryAfterMs: answer.retryAfterMs } : {}) },
  );
}

export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/** The answer's body as JSON (`null` when empty); a body that does not parse is not retried. */
export function parseJsonBody(env: Pick<CallEnv, 'site' | 'secrets' | 'code'>, answer: IncomingAnswer): JsonValue {
  if (answer.text.trim() === '') return null;
  try {
    return JSON.parse(answer.text) as JsonValue;
  } catch {
    throw new GantryError(
      env.code ?? 'CONNECTOR_FAILED',
      `${describe(env, answer.request)} answered ${answer.mediaType || 'no content type'} but the body is not JSON: ${excerpt(answer.text, env.secrets)}`,
    );
  }
}

/** `github create_comment: POST https://…/comments` — who calls what, for messages. */
export function describe(env: Pick<CallEnv, 'site'>, req: Pick<OutgoingRequest, 'method' | 'target'>): string {
  return `${env.site.service} ${env.site.action}: ${req.method} ${req.target}`;
}

function fields(env: CallEnv, req: OutgoingRequest) {
  return { service: env.site.service, action: env.site.action, method: req.method, target: req.target };
}

function classify(env: CallEnv, req: OutgoingRequest, error: unknown, reason: unknown, timeoutMs: number): GantryError {
  if (error instanceof GantryError) return error;
  const what = describe(env, req);
  const code = env.code ?? 'CONNECTOR_FAILED';
  const cause = safeCause(error, env.secrets);
  if (reason instanceof Stop && reason.kind === 'caller') return aborted(env, what);
  const refused = findInChain(error, (e) => (e as { code?: unknown }).code === 'GANTRY_OUTBOUND_REFUSED') as { reason?: string } | undefined;
  if (refused !== undefined) {
    return new GantryError(
      'OUTBOUND_REFUSED',
      `${what} was refused: ${refused.reason ?? 'a private address'}; the configuration's outbound policy (outbound.allow, outbound.allow_private_networks) decides which private addresses may be called`,
    );
  }
  const errorCode = errorCodeOf(error);
  if ((reason instanceof Stop && reason.kind === 'timeout') || errorCode === 'UND_ERR_HEADERS_TIMEOUT' || errorCode === 'UND_ERR_BODY_TIMEOUT') {
    return new GantryError(code, `${what} timed out after ${timeoutMs} ms`, { retryable: true, cause });
  }
  if (errorCode === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GantryError(code, `${what} could not connect within ${env.outbound.policy.connectTimeoutMs} ms (connectTimeoutMs)`, { retryable: true, cause });
  }
  const message = scrubText(error instanceof Error ? error.message : String(error), env.secrets);
  if (errorCode === 'UND_ERR_INVALID_ARG') {
    return new GantryError('USAGE', `${what}: the request was refused before it was sent: ${message}`, { cause });
  }
  // Refused, reset, DNS and TLS failures, malformed answers: the network, which may recover.
  const prefix = errorCode !== undefined && !message.includes(errorCode) ? `${errorCode} ` : '';
  return new GantryError(code, `${what} failed: ${prefix}${message}`, { retryable: true, cause });
}

/** The caller aborted: the engine's own reason (a timeout, a cancellation) is passed on as it is. */
function aborted(env: CallEnv, what: string): GantryError {
  const reason: unknown = env.ctx.signal.reason;
  if (reason instanceof GantryError) return reason;
  return new GantryError(env.code ?? 'CONNECTOR_FAILED', `${what} was aborted by the caller`, {
    retryable: false,
    cause: safeCause(reason, env.secrets),
  });
}

function findInChain(error: unknown, test: (e: Error) => boolean): Error | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    if (test(e)) return e;
  }
  return undefined;
}

function errorCodeOf(error: unknown): string | undefined {
  const found = findInChain(error, (e) => typeof (e as { code?: unknown }).code === 'string');
  return found === undefined ? undefined : ((found as { code?: string }).code as string);
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Text in the declared charset when Node knows it, else UTF-8 (what JSON and most APIs send). */
function decode(bytes: Buffer, parameters: string[]): string {
  const charset = parameters.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)/i.exec(p)?.[1]).find(Boolean);
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

