import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_ERRORS, type HttpErrorCode } from './http-errors.js';

/**
 * An error that is an HTTP answer: its status, a stable code from {@link HTTP_ERRORS} (or an
 * engine error code) and a message naming what was wrong. It becomes `{ error: { code, message } }`.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** An HttpError with the status its code is documented with. */
export function httpError(code: HttpErrorCode, message: string, headers?: Readonly<Record<string, string>>): HttpError {
  return new HttpError(HTTP_ERRORS[code].status, code, message, headers);
}

/** How long a client refused for want of room is asked to wait, in seconds (Retry-After). */
export const RETRY_AFTER_SECONDS = 5;

/** 503 SERVER_BUSY with Retry-After: `why` says which cap was reached. */
export function serverBusy(why: string): HttpError {
  return httpError('SERVER_BUSY', `the server is busy: ${why}; try again in ${RETRY_AFTER_SECONDS} s`, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
    ...closeIfUnread(res),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}

/**
 * The headers an answer adds when its request's body was not read to its end (refused at its
 * headers or as it passed a limit, or sent where no body is taken): the body is not drained, the
 * connection ends with the answer and not one more byte of the body is read.
 */
export function closeIfUnread(res: ServerResponse): Readonly<Record<string, string>> {
  if (res.req.complete) return {};
  closeWithoutReading(res.req);
  return { connection: 'close' };
}

/** How long a connection refused before its body was read stays half-closed before it is dropped. */
const LINGER_MS = 1000;

/**
 * Once the answer is sent, node:http reads and discards a body nobody consumed, then closes the
 * socket at once. Taking the body (read(0), paused) keeps it from reading; and since a close
 * with unread bytes resets the connection — a client still writing would lose the answer — the
 * socket is half-closed with the answer and dropped a moment later, or when the client closes.
 */
function closeWithoutReading(req: IncomingMessage): void {
  req.pause();
  req.read(0);
  const socket = req.socket;
  // node:http ends a `Connection: close` exchange with destroySoon(); this one lingers.
  socket.destroySoon = function lingeringClose(this: typeof socket) {
    this.end();
    const drop = setTimeout(() => this.destroy(), LINGER_MS);
    drop.unref();
    this.once('close', () => clearTimeout(drop));
  };
}

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Refuses (415) any content type but application/json, optionally with charset=utf-8. */
export function requireJson(req: IncomingMessage): void {
  const type = req.headers['content-type'];
  if (type === undefined || !JSON_TYPE.test(type.trim())) {
    throw httpError('UNSUPPORTED_MEDIA_TYPE', `expected Content-Type application/json, got ${type === undefined ? 'none' : JSON.stringify(type)}`);
  }
}

/** The token of an `Authorization: Bearer <token>` header (also GitHub's `token <token>`). */
export function bearerToken(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
