/**
 * Raw HTTP/1.1 over a socket, for what node:http's client will not do: send headers and hold the
 * body back, send part of it, or never finish the request at all.
 */
import { connect, type Socket } from 'node:net';

export interface HeldRequest {
  readonly socket: Socket;
  /** The status of the answer, as soon as its status line arrives (0: closed without one; `reset` when by a TCP reset). */
  readonly answered: Promise<Answered>;
  /** Writes, waiting for the socket to drain; false once the server has answered or closed it. */
  write(data: string | Buffer): Promise<boolean>;
  close(): void;
}

export interface Answered {
  readonly status: number;
  readonly head: string;
  readonly at: number;
  readonly reset?: boolean;
}

export async function holdRequest(url: string, head: string): Promise<HeldRequest> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let reset = false;
  socket.on('error', (e: NodeJS.ErrnoException) => (reset ||= e.code === 'ECONNRESET' || e.code === 'EPIPE'));
  await new Promise<void>((ok, fail) => {
    socket.once('connect', ok);
    socket.once('error', fail);
  });
  let received = '';
  const answered = new Promise<Answered>((ok) => {
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end >= 0) ok({ status: Number(/^HTTP\/1\.\d (\d{3})/.exec(received)?.[1] ?? 0), head: received.slice(0, end), at: performance.now() });
    });
    socket.on('close', () => ok({ status: 0, head: received, at: performance.now(), reset }));
  });
  socket.write(head);
  let over = false;
  void answered.then(() => (over = true));
  return {
    socket,
    answered,
    async write(data) {
      if (over || socket.destroyed || !socket.writable) return false;
      if (socket.write(data)) return true;
      // A server that answered (401, 413, 503) may stop reading: then drain never comes.
      return Promise.race([new Promise<boolean>((ok) => socket.once('drain', () => ok(true))), answered.then(() => false)]);
    },
    close() {
      socket.destroy();
    },
  };
}

/** The head of a POST to `path` with these headers (Host and the rest), ending the header block. */
export function postHead(path: string, headers: Record<string, string | number>): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** One chunk of a chunked body. */
export const chunk = (data: Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);

/** Resolves with `value` after `ms`. */
export const after = <T>(ms: number, value: T) => new Promise<T>((ok) => setTimeout(() => ok(value), ms));
