import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** What a connection beyond the cap has to send its request's head in, in ms, before it is dropped. */
const OVER_CAP_HEAD_MS = 1000;

export interface ConnectionCap {
  /** Whether this connection arrived beyond the cap: its requests are answered 503 and it is closed. */
  isOver(socket: Socket): boolean;
  /** Connections open now. */
  readonly open: number;
}

/**
 * Counts a server's open connections (server.connection_limit). One that arrives beyond the cap
 * is still accepted, so that it can be told why (503 with Retry-After) and GET /health can still
 * be answered, but it must send its request head within a second, not the headers timeout: slow
 * senders beyond the cap hold a socket for a second each, not for as long as they please.
 */
export function capConnections(server: Server, limit: number, headersTimeoutMs: number): ConnectionCap {
  const over = new WeakSet<Socket>();
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
    if (open <= limit) return;
    over.add(socket);
    // node:http destroys a socket whose timeout fires while no request is being answered.
    socket.setTimeout(Math.min(OVER_CAP_HEAD_MS, headersTimeoutMs));
  });
  return {
    isOver: (socket) => over.has(socket),
    get open() {
      return open;
    },
  };
}
