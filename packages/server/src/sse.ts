import type { IncomingMessage, ServerResponse } from 'node:http';

/** One Server-Sent Events response: frames, comments, and its end (by either side). */
export interface SseStream {
  send(frame: { readonly id?: string; readonly event: string; readonly data: unknown }): void;
  /** A comment line: the heartbeat that keeps proxies and the browser's watchdog from giving up. */
  comment(text: string): void;
  end(): void;
  readonly closed: boolean;
  /** Called once, when the stream ends from either side. */
  onClose(listener: () => void): void;
}

/**
 * Starts an event stream: headers that stop caches and buffering proxies (`X-Accel-Buffering:
 * no`), and the delay a browser waits before it reconnects.
 */
export function openSse(req: IncomingMessage, res: ServerResponse, retryMs: number): SseStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  res.write(`retry: ${retryMs}\n\n`);
  const listeners: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const listener of listeners.splice(0)) listener();
  };
  req.on('close', close);
  res.on('close', close);
  return {
    send({ id, event, data }) {
      if (closed) return;
      // JSON has no raw line breaks, so one data line carries the whole frame.
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    comment(text) {
      if (!closed) res.write(`: ${text}\n\n`);
    },
    end() {
      if (!closed) res.end();
      close();
    },
    get closed() {
      return closed;
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
}

/** Whether a request asks for JSON rather than a stream: the polling that stands in when a proxy holds streams back. */
export function wantsJson(req: IncomingMessage, url: URL): boolean {
  if (url.searchParams.get('poll') === 'true') return true;
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/event-stream');
}
