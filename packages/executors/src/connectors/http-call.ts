/**
 * One HTTP exchange for a connector, on undici: the total timeout, the caller's abort signal and
 * the response size cap are enforced here once, and every way it can fail becomes a
 * `GantryError` that says whether a retry could help. Connectors decide what a status means.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { GantryError, type ConnectorContext, type JsonValue } from '@gantry/engine';
import type { CallSite, ResolvedLimits } from './params.js';
import { safeCause, scrubText } from './secrets.js';

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
}

/** What one call runs with. `secrets` are scrubbed from every message it produces. */
export interface CallEnv {
  readonly site: CallSite;
  readonly limits: ResolvedLimits;
  readonly dispatcher: Dispatcher;
  readonly ctx: Pick<ConnectorContext, 'signal' | 'log'>;
  readonly secrets: readonly string[];
}

/** Why this module aborted a request: undici rejects with the abort reason, so it must be ours to tell apart. */
class Stop extends Error {
  constructor(readonly kind: 'timeout' | 'caller' | 'too_large') {
    super(kind);
  }
}

/** A connection pool per connector. Our timer bounds the call; undici's own timeouts are only a backstop. */
export function createDispatcher(limits: ResolvedLimits): Agent {
  return new Agent({ headersTimeout: limits.timeoutMs, bodyTimeout: limits.timeoutMs });
}

/** Sends `req` and reads the whole answer, within the time and size limits. Any status is returned. */
export async function send(env: CallEnv, req: OutgoingRequest): Promise<IncomingAnswer> {
  const { site, limits, ctx } = env;
  const what = `${site.service} ${site.action}: ${req.method} ${req.target}`;
  if (ctx.signal.aborted) throw aborted(env, what);

  const stop = new AbortController();
  const onAbort = () => stop.abort(new Stop('caller'));
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => stop.abort(new Stop('timeout')), limits.timeoutMs);
  const started = performance.now();
  const fields = { service: site.service, action: site.action, method: req.method, target: req.target };
  try {
    const res = await request(req.url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body ?? null,
      signal: stop.signal,
      dispatcher: env.dispatcher,
    });
    const tooLarge = () => {
      stop.abort(new Stop('too_large'));
      return new GantryError(
        'CONNECTOR_FAILED',
        `${what}: the answer is larger than the ${limits.maxResponseBytes}-byte limit (maxResponseBytes)`,
      );
    };
    // A declared length over the cap fails before a byte is read; a chunked body is counted as it
    // comes. A HEAD answer's length describes a body that is never sent.
    if (req.method !== 'HEAD' && Number(res.headers['content-length'] ?? 0) > limits.maxResponseBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limits.maxResponseBytes) throw tooLarge();
      chunks.push(chunk);
    }
    const headers = flattenHeaders(res.headers);
    const [mediaType = '', ...parameters] = (headers['content-type'] ?? '').split(';');
    const answer: IncomingAnswer = {
      status: res.statusCode,
      headers,
      mediaType: mediaType.trim().toLowerCase(),
      text: decode(Buffer.concat(chunks, size), parameters),
    };
    ctx.log.debug({ ...fields, status: answer.status, durationMs: elapsed(started) }, 'connector call');
    return answer;
  } catch (error) {
    const failure = classify(env, what, error, stop.signal.reason);
    ctx.log.debug({ ...fields, durationMs: elapsed(started), error: failure.message }, 'connector call failed');
    throw failure;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
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

/** A CONNECTOR_FAILED for a status the call did not expect. */
export function statusFailure(
  env: Pick<CallEnv, 'site' | 'secrets'>,
  req: Pick<OutgoingRequest, 'method' | 'target'>,
  status: number,
  detail: string,
  options: { expected?: string; retryable?: boolean } = {},
): GantryError {
  const expected = options.expected === undefined ? '' : ` (expected ${options.expected})`;
  return new GantryError(
    'CONNECTOR_FAILED',
    `${env.site.service} ${env.site.action}: ${req.method} ${req.target} answered HTTP ${status}${expected}: ${excerpt(detail, env.secrets)}`,
    { retryable: options.retryable ?? isRetryableStatus(status) },
  );
}

export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/** The answer's body as JSON (`null` when empty); a body that does not parse is not retried. */
export function parseJsonBody(env: Pick<CallEnv, 'site' | 'secrets'>, req: OutgoingRequest, answer: IncomingAnswer): JsonValue {
  if (answer.text.trim() === '') return null;
  try {
    return JSON.parse(answer.text) as JsonValue;
  } catch {
    throw new GantryError(
      'CONNECTOR_FAILED',
      `${env.site.service} ${env.site.action}: ${req.method} ${req.target} answered ${answer.mediaType || 'no content type'} but the body is not JSON: ${excerpt(answer.text, env.secrets)}`,
    );
  }
}

function classify(env: CallEnv, what: string, error: unknown, reason: unknown): GantryError {
  if (error instanceof GantryError) return error;
  const cause = safeCause(error, env.secrets);
  if (reason instanceof Stop && reason.kind === 'caller') return aborted(env, what);
  const code = errorCode(error);
  if ((reason instanceof Stop && reason.kind === 'timeout') || (code !== undefined && /^UND_ERR_(CONNECT|HEADERS|BODY)_TIMEOUT$/.test(code))) {
    return new GantryError('CONNECTOR_FAILED', `${what} timed out after ${env.limits.timeoutMs} ms`, { retryable: true, cause });
  }
  const message = scrubText(error instanceof Error ? error.message : String(error), env.secrets);
  if (code === 'UND_ERR_INVALID_ARG') {
    return new GantryError('USAGE', `${what}: the request was refused before it was sent: ${message}`, { cause });
  }
  // Refused, reset, DNS and TLS failures, malformed answers: the network, which may recover.
  const prefix = code !== undefined && !message.includes(code) ? `${code} ` : '';
  return new GantryError('CONNECTOR_FAILED', `${what} failed: ${prefix}${message}`, { retryable: true, cause });
}

/** The caller aborted: the engine's own reason (a timeout, a cancellation) is passed on as it is. */
function aborted(env: CallEnv, what: string): GantryError {
  const reason: unknown = env.ctx.signal.reason;
  if (reason instanceof GantryError) return reason;
  return new GantryError('CONNECTOR_FAILED', `${what} was aborted by the caller`, {
    retryable: false,
    cause: safeCause(reason, env.secrets),
  });
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
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

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
