// A client that sends a request body a chunk at a time and keeps its connection open, as a hostile
// sender would: what the server answered, when, and how much it had been sent by then.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface StreamAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
  /** Bytes of the body written when the answer's head arrived. */
  readonly sentBefore: number;
  /** Milliseconds from the start of the request to the answer's head. */
  readonly ms: number;
}

export interface HeldBody {
  /** The server's answer (rejects if the connection ends without one). */
  readonly answer: Promise<StreamAnswer>;
  /** Resolves with the bytes written once the connection is closed, by either side. */
  readonly closed: Promise<number>;
  sent(): number;
  /** Writes the rest of the body at once and ends the request. */
  finish(): void;
  /** Drops the connection. */
  destroy(): void;
}

export interface HoldOptions {
  readonly headers: Record<string, string>;
  /** The body's size; declared as Content-Length unless `chunked`. */
  readonly total: number;
  readonly chunked?: boolean;
  /** Bytes written at once, then every `everyMs` the next chunk. @default 65536 */
  readonly chunk?: number;
  /** @default 20 */
  readonly everyMs?: number;
  /** Stop writing (and hold the connection open) once this many bytes are written. @default total */
  readonly holdAt?: number;
  /** What the body is: `total` bytes of it are sent. @default spaces */
  readonly content?: Buffer;
  /** @default POST */
  readonly method?: string;
}

/** Sends (POST) a body of `total` bytes a chunk at a time, holding the connection open at `holdAt`. */
export function holdBody(url: string, path: string, options: HoldOptions): HeldBody {
  const started = Date.now();
  const chunkSize = options.chunk ?? 65536;
  const holdAt = options.holdAt ?? options.total;
  const headers = { ...options.headers, ...(options.chunked ? {} : { 'content-length': String(options.total) }) };
  const req = request(`${url}${path}`, { method: options.method ?? 'POST', headers, agent: false });
  const content = options.content ?? Buffer.alloc(options.total, 0x20);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let socket: Socket | undefined;
  const write = (bytes: number) => {
    if (bytes <= 0 || req.destroyed) return;
    for (let at = sent; at < sent + bytes; at += chunkSize) req.write(content.subarray(at, Math.min(at + chunkSize, sent + bytes)));
    sent += bytes;
  };
  const pump = () => {
    if (sent >= holdAt || req.destroyed) return;
    write(Math.min(chunkSize, holdAt - sent));
    if (sent < holdAt) timer = setTimeout(pump, options.everyMs ?? 20);
    else if (sent >= options.total) req.end();
  };
  const answer = new Promise<StreamAnswer>((resolveAnswer, reject) => {
    req.on('response', (res) => {
      const sentBefore = sent;
      const ms = Date.now() - started;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text, sentBefore, ms });
      });
      res.on('error', reject);
    });
    // Writes after the server closed fail; the answer (if any) has arrived by then.
    req.on('error', (error) => setTimeout(() => reject(error), 200));
  });
  answer.catch(() => {});
  const closed = new Promise<number>((resolveClosed) => {
    req.on('socket', (s) => {
      socket = s;
      s.on('close', () => {
        clearTimeout(timer);
        resolveClosed(sent);
      });
    });
  });
  req.flushHeaders();
  pump();
  return {
    answer,
    closed,
    sent: () => sent,
    finish() {
      clearTimeout(timer);
      write(options.total - sent);
      req.end();
    },
    destroy() {
      clearTimeout(timer);
      req.destroy();
      socket?.destroy();
    },
  };
}

/** A raw connection: what it received, and when it closed (ms after it opened). */
export interface RawConnection {
  readonly socket: Socket;
  received(): string;
  readonly closed: Promise<number>;
}

export function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveOpen, reject) => {
    const started = Date.now();
    let text = '';
    const socket = connect(Number(port), hostname, () => resolveOpen({ socket, received: () => text, closed }));
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - started)));
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error) => (socket.connecting ? reject(error) : undefined));
  });
}
