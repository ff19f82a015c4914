/**
 * Test support for connectors (not exported from the package): a real HTTP server on loopback
 * that records what it received, and a connector context whose pino logger writes to memory so
 * a test can scan every log line.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import type { Clock, ConnectorContext } from '@gantry/engine';

/** One request as the server saw it. */
export interface Received {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Answers a recorded request; a handler that never calls `res.end` stands in for a hung service. */
export type Respond = (req: Received, res: ServerResponse) => void;

export interface Loopback {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 at a free port. */
export async function startLoopback(respond: Respond): Promise<Loopback> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(record);
      respond(record, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        // Hung requests hold their sockets open: end them, or close would wait for them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends `body` as JSON with `status`. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export interface TestContextOptions {
  readonly credentials?: Readonly<Record<string, string>>;
  /** @default none (the system clock) */
  readonly clock?: Clock;
  /** Where each credential may be sent, as the configuration declares it; without, the engine was told nothing. */
  readonly origins?: Readonly<Record<string, readonly string[]>>;
  readonly authentication?: string;
  readonly signal?: AbortSignal;
  readonly idempotencyKey?: string;
}

export type TestConnectorContext = ConnectorContext & { readonly authentication?: string };

/** A connector context with a real pino logger at `trace` level; `logText()` is everything it wrote. */
export function testContext(options: TestContextOptions = {}): { ctx: TestConnectorContext; logText: () => string } {
  const lines: string[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  const credentials = options.credentials ?? {};
  const ctx: TestConnectorContext = {
    signal: options.signal ?? new AbortController().signal,
    idempotencyKey: options.idempotencyKey ?? 'run-1/node-a',
    log: log.child({ runId: 'run-1', nodeId: 'node-a', attempt: 1 }),
    credential: (name) => (Object.hasOwn(credentials, name) ? credentials[name] : undefined),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.origins === undefined ? {} : { credentialOrigins: (name: string) => (Object.hasOwn(options.origins!, name) ? options.origins![name] : []) }),
    ...(options.authentication === undefined ? {} : { authentication: options.authentication }),
  };
  return { ctx, logText: () => lines.join('') };
}

/** Resolves once `condition` holds, checked every few real milliseconds; fails after `timeoutMs`. */
export async function until(condition: () => boolean, what = 'the condition', timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A loopback port nothing listens on: a connection to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What a promise rejected with; fails when it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean; retryAfterMs?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; retryable?: boolean; retryAfterMs?: number };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Everything a value could show a reader: an error's message, stack, causes and JSON form. */
export function everythingIn(value: unknown): string {
  const parts = [inspect(value, { depth: 10 }), JSON.stringify(value) ?? ''];
  if (value instanceof Error) parts.push(value.message, value.stack ?? '', inspect(value.cause, { depth: 10 }));
  return parts.join('\n');
}

/**
 * A test file's loopback servers: `serve(respond)` starts one; every one a test started is closed
 * after it.
 */
export function loopbackPerTest(): (respond: Respond) => Promise<Loopback> {
  let servers: Loopback[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.close()));
    servers = [];
  });
  return async (respond) => {
    const server = await startLoopback(respond);
    servers.push(server);
    return server;
  };
}
