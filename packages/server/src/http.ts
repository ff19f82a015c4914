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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  // A body we stopped reading (413) is not drained: the connection ends with the answer.
  const close: Record<string, string> = error.status === 413 ? { connection: 'close' } : {};
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, { ...error.headers, ...close });
}

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Refuses (415) any content type but application/json, optionally with charset=utf-8. */
export function requireJson(req: IncomingMessage): void {
  const type = req.headers['content-type'];
  if (type === undefined || !JSON_TYPE.test(type.trim())) {
    throw httpError('UNSUPPORTED_MEDIA_TYPE', `expected Content-Type application/json, got ${type === undefined ? 'none' : JSON.stringify(type)}`);
  }
}

/**
 * Reads a request's body as bytes, up to `limit`: a declared Content-Length above it is refused
 * before anything is read, a longer body as soon as it passes it (413). `limitName` says where the
 * limit comes from, for the message.
 */
export function readBody(req: IncomingMessage, limit: number, limitName = 'server.body_limit_bytes'): Promise<Buffer> {
  const tooLarge = () => httpError('PAYLOAD_TOO_LARGE', `the body is larger than the limit of ${limit} bytes (${limitName})`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new HttpError(400, 'BAD_REQUEST', `the request body could not be read: ${error.message}`));
    };
    const onClose = () => {
      cleanup();
      reject(new HttpError(400, 'BAD_REQUEST', 'the client closed the connection before the body was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Parses a JSON body (after it was authenticated); 400 naming the syntax error otherwise. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw httpError('INVALID_JSON', `the body is not JSON: ${(error as Error).message}`);
  }
}

/** The token of an `Authorization: Bearer <token>` header (also GitHub's `token <token>`). */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
