import { isGantryError, type ErrorCode } from '@gantry/engine';
import { HttpError } from './http.js';

/**
 * Every error code the server answers with besides the engine's, with its status and the
 * sentence that documents it. Answers are `{ "error": { "code", "message" } }`; a test checks
 * that every code is in the package's README.
 */
export const HTTP_ERRORS = {
  NOT_FOUND: { status: 404, doc: 'No route at this path.' },
  NODE_NOT_FOUND: { status: 404, doc: "The run's flow has no node with this id." },
  METHOD_NOT_ALLOWED: { status: 405, doc: 'The path exists, but not with this method; the Allow header lists those it takes.' },
  UNAUTHORIZED: { status: 401, doc: 'The bearer token is missing or is no principal\'s (approvals and runs API); nothing was done.' },
  WEBHOOK_UNAUTHORIZED: { status: 401, doc: 'A webhook request is unsigned, its X-Hub-Signature-256 does not match its body, or its bearer token is wrong; nothing was stored.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'The body is not Content-Type application/json.' },
  PAYLOAD_TOO_LARGE: { status: 413, doc: 'The body is larger than server.body_limit_bytes (25 MiB by default, GitHub\'s own cap; 64 KiB for API requests): refused as soon as a declared size or the bytes received pass it, the rest not read.' },
  INVALID_JSON: { status: 400, doc: 'The body (authenticated first, for a webhook) is not JSON.' },
  PAYLOAD_TOO_DEEP: { status: 400, doc: 'The body (authenticated first, for a webhook) nests JSON arrays and objects deeper than server.json_depth_limit (100 by default); the message names the limit.' },
  BAD_REQUEST: { status: 400, doc: 'A body field, query parameter or header has a value the server does not accept; the message names it.' },
  SERVER_CLOSING: { status: 503, doc: 'The server is shutting down (SIGTERM, SIGINT); the request was not handled. Retry after a moment.' },
  SERVER_BUSY: {
    status: 503,
    doc: 'The server is at its cap on open connections (server.connection_limit) or on request body bytes held in memory at once (server.buffered_bytes_limit); the request was not handled and its body not read. Retry after the Retry-After header\'s seconds.',
  },
  DELIVERY_CONFLICT: { status: 409, doc: 'This X-GitHub-Delivery id started a run of another flow already.' },
} as const satisfies Record<string, { status: number; doc: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The status each engine error code is answered with; any other is a 500. */
export const ENGINE_ERROR_STATUS: Partial<Record<ErrorCode, number>> = {
  USAGE: 400,
  RUN_NOT_FOUND: 404,
  APPROVAL_FORBIDDEN: 403,
  APPROVAL_NOT_WAITING: 409,
  APPROVAL_ALREADY_DECIDED: 409,
  RUN_FINISHED: 409,
  RUN_NOT_RETRYABLE: 409,
  STORE_CONFLICT: 409,
  RUN_HELD: 409,
  APPROVAL_EXPIRED: 410,
  STORE_LOCKED: 503,
  STORE_FAILED: 503,
  STORE_UNAVAILABLE: 503,
};

/** What any thrown value is answered with. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isGantryError(error)) return new HttpError(ENGINE_ERROR_STATUS[error.code] ?? 500, error.code, error.message);
  return new HttpError(500, 'INTERNAL', 'the server failed while answering; its log says why');
}
