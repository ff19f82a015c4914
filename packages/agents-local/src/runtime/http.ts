import { Agent, request } from 'undici';
import { isGantryError } from '@gantry/engine';

/** One HTTP answer, read whole. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  /** From sending the request to the end of the body. */
  readonly ms: number;
}

export interface HttpOptions {
  readonly method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** @default 5000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

// Keep-alive connections to the local services: the load driver sends many small requests.
const dispatcher = new Agent({ keepAliveTimeout: 4000, connections: 64 });

/** Sends a request to a loopback service; a connection failure or a timeout throws. */
export async function http(url: string, options: HttpOptions = {}): Promise<HttpAnswer> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 5000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const answer = await request(url, {
    method: options.method ?? 'GET',
    dispatcher,
    signal,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await answer.body.text();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) if (typeof value === 'string') headers[name] = value;
  return { status: answer.statusCode, headers, text, ms: performance.now() - started };
}

/** The answer's body as JSON, or undefined when it is not JSON. */
export function jsonOf(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short description of a failed request, for results and messages. */
export function describeFailure(error: unknown): string {
  // The pack's own failures say what happened in their message; their code is Gantry's.
  if (isGantryError(error)) return error.message;
  const e = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.code ?? e.code ?? e.message ?? String(error);
}
