import type { IncomingMessage } from 'node:http';
import { HttpError, httpError, serverBusy } from './http.js';
import { JsonDepthGauge, parseJson } from './json-depth.js';

/** The API's own bodies are small: a decision and its comment, a retry's options. */
export const API_BODY_LIMIT = 64 * 1024;

/**
 * The bytes of request bodies held in memory at once, across every request (server.
 * buffered_bytes_limit): a body is read only while its bytes fit, so that many large bodies
 * sent at once cannot take the process's memory.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Takes `bytes` if they fit, and says whether they did; nothing is taken when they do not. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

/** What bounds every request body the server reads. */
export interface BodyPolicy {
  readonly budget: ByteBudget;
  /** How deep a JSON body may nest (server.json_depth_limit). */
  readonly jsonDepthLimit: number;
}

export interface BodyReading {
  /** The body's largest size in bytes, and where that limit comes from, for the 413's message. */
  readonly limit: number;
  readonly limitName: string;
  /** Sees each chunk as it arrives, before the next one is read: an HMAC being computed. */
  readonly observe?: ((chunk: Buffer) => void) | undefined;
  /** Runs once the last byte was observed, before anything is parsed: throws to refuse (401). */
  readonly verify?: (() => void) | undefined;
  /** Parse the body as JSON (after verify). @default true */
  readonly json?: boolean;
}

/**
 * Reads a request's body as it streams and returns it parsed (or undefined with `json: false`),
 * with everything decided as early as it can be:
 * - a declared Content-Length over `limit` is refused before a byte is read (413), and one that
 *   does not fit in the server's budget of buffered bytes is refused at once (503 Retry-After);
 * - each chunk goes to `observe` (an HMAC) and to a JSON depth gauge as it arrives; a chunked
 *   body is refused the moment it passes `limit` (413) or no longer fits the budget (503), and
 *   the rest is not read;
 * - `verify` (the signature) runs after the last byte, then the depth limit (400), then JSON.parse.
 * Its bytes go back to the budget once it is parsed or refused.
 */
export async function receiveBody(req: IncomingMessage, policy: BodyPolicy, reading: BodyReading): Promise<unknown> {
  const { limit, limitName } = reading;
  const tooLarge = () => httpError('PAYLOAD_TOO_LARGE', `the body is larger than the limit of ${limit} bytes (${limitName})`);
  const full = () => serverBusy(`it holds as many request body bytes as it may at once (${policy.budget.limit}, server.buffered_bytes_limit)`);
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) throw tooLarge();
  let taken = 0;
  if (declared !== undefined && declared > 0) {
    if (!policy.budget.take(declared)) throw full();
    taken = declared;
  }
  try {
    const gauge = new JsonDepthGauge(policy.jsonDepthLimit);
    const chunks: Buffer[] = [];
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
      };
      const stop = (error: Error) => {
        cleanup();
        // Not one more byte is read; the answer closes the connection (closeIfUnread).
        req.pause();
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return stop(tooLarge());
        if (size > taken) {
          if (!policy.budget.take(size - taken)) return stop(full());
          taken = size;
        }
        reading.observe?.(chunk);
        gauge.write(chunk);
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => stop(new HttpError(400, 'BAD_REQUEST', `the request body could not be read: ${error.message}`));
      const onClose = () => stop(new HttpError(400, 'BAD_REQUEST', 'the client closed the connection before the body was complete'));
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
    reading.verify?.();
    if (reading.json === false) return undefined;
    return parseJson(Buffer.concat(chunks, size), gauge, 'server.json_depth_limit');
  } finally {
    policy.budget.give(taken);
  }
}
