import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { follow, type LinkState } from './live';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/events`;
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });

/** Follows until the state is final; resolves with the frames' ids, the states and the polls. */
function run(url: string, options: { poll?: () => Promise<boolean>; helloMs?: number } = {}) {
  const ids: string[] = [];
  const states: LinkState[] = [];
  let position: string | undefined;
  let fatal: number | undefined;
  return new Promise<{ ids: string[]; states: LinkState[]; fatal?: number }>((resolve) => {
    follow({
      url,
      headers: () => ({ authorization: 'Bearer t' }),
      position: () => position,
      onFrame: (f) => {
        if (f.id !== undefined) ids.push((position = f.id));
      },
      poll: options.poll ?? (async () => false),
      onState: (s) => {
        states.push(s);
        if (s === 'ended' || s === 'failed') resolve({ ids, states, ...(fatal === undefined ? {} : { fatal }) });
      },
      onFatal: (status) => (fatal = status),
      helloMs: options.helloMs ?? 2000,
      retryMs: 10,
      pollMs: 10,
    });
  });
}

describe('follow: a live stream over fetch', () => {
  it('reconnects after a drop from the last id it was given (Last-Event-ID), with the token, and stops at the end', async () => {
    const seen: (string | undefined)[] = [];
    let connections = 0;
    const url = await listen((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      expect(req.headers.authorization).toBe('Bearer t');
      sse(res);
      if (++connections === 1) {
        res.write('event: hello\ndata: {"heartbeat_ms":15000}\n\nid: 1\nevent: journal\ndata: {}\n\nid: 2\nevent: journal\ndata: {}\n\n');
        setTimeout(() => res.destroy(), 20);
      } else {
        res.end('id: 3\nevent: journal\ndata: {}\n\nevent: end\ndata: {}\n\n');
      }
    });
    const { ids, states } = await run(url);
    expect(ids).toEqual(['1', '2', '3']);
    expect(seen).toEqual([undefined, '2']);
    expect(states).toEqual(['connecting', 'live', 'reconnecting', 'reconnecting', 'live', 'ended']);
  });

  it('falls back to polling when a stream stays silent (a proxy holding it back), until the poll says it is over', async () => {
    let polls = 0;
    let streams = 0;
    const url = await listen((_req, res) => {
      streams++;
      sse(res);
      res.write(''); // headers through, then nothing: what a buffering proxy does.
    });
    const { states } = await run(url, { helloMs: 80, poll: async () => ++polls === 3 });
    expect(streams).toBe(2);
    expect(polls).toBe(3);
    expect(states).toEqual(['connecting', 'reconnecting', 'reconnecting', 'polling', 'ended']);
  });

  it('gives up on a refusal (401) and says so', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"UNAUTHORIZED","message":"no"}}');
    });
    expect(await run(url)).toMatchObject({ states: ['connecting', 'failed'], fatal: 401 });
  });
});
