import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { cancelRunHandler, getRunHandler, listRunsHandler, retryRunHandler, runLogsHandler } from './runs-api.js';
import { decisionHandler } from './approvals-api.js';
import { ByteBudget, type BodyPolicy } from './body.js';
import { capConnections } from './connection-cap.js';
import { closeIfUnread, httpError, sendError, sendJson, serverBusy } from './http.js';
import { toHttpError } from './http-errors.js';
import { createMetrics } from './metrics.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { principalResolver } from './principals.js';
import { Router, type Handler } from './router.js';
import { describeNode, webhookHandler, webhookRoutes, type WebhookDeps } from './webhooks.js';
import { mountUi, refuseUiEndpoints } from './ui-mount.js';
import { peersHandler, registerClusterMetrics, storeHealth } from './cluster.js';
import { isUiPath, UI_PATH, withoutBasePath } from './ui-files.js';
import { Scheduler, scheduleSlots, type ServedSchedule } from './schedules.js';

/**
 * The request target as a URL. Origin-form (`/runs?x=1`) is read as a path even when it starts
 * with `//`, which a base URL would take for a host (`//evil/runs` is not `/runs`); absolute-form
 * (`http://host/runs`, sent through proxies) is taken as it is; anything else is a 400.
 */
function requestUrl(target: string): URL {
  try {
    return target.startsWith('/') ? new URL(`http://gantry.invalid${target}`) : new URL(target);
  } catch {
    throw httpError('BAD_REQUEST', `the request target ${JSON.stringify(target.slice(0, 200))} is not a path or a URL`);
  }
}

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:8080` */
  readonly url: string;
}

/** A webhook the server listens for, as `gantry serve` lists them when it starts. */
export interface ServedWebhook {
  readonly method: string;
  readonly endpoint: string;
  readonly flow: string;
  readonly node: string;
  /** The credential requests are checked against; absent for an open endpoint. */
  readonly authentication?: string;
  readonly scheme: 'hmac-sha256' | 'bearer' | 'none';
}

export interface GantryServer {
  /**
   * Resumes the store's unfinished runs (unless `resume: false`), then listens. Port 0 asks the
   * system for a free port; the address says which. @default port 8080, host 127.0.0.1
   */
  listen(port?: number, host?: string): Promise<ServerAddress>;
  /** Stops accepting, lets requests in progress answer (up to `closeGraceMs`), stops listening to the engine. The store stays open: it is the caller's. */
  close(): Promise<void>;
  address(): ServerAddress | undefined;
  readonly webhooks: readonly ServedWebhook[];
  /** The flows' schedule nodes, each with its next due time (DESIGN §12). */
  readonly schedules: readonly ServedSchedule[];
  /** Run ids resumed by listen(). */
  readonly resumed: readonly string[];
  /** The Prometheus registry GET /metrics serves. */
  readonly metrics: Registry;
  /** The request listener, to mount the server in a node:http server of your own. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * The HTTP face of an engine (DESIGN §7): each webhook node's endpoint, the runs and approvals
 * API, /metrics and /health, on node:http. Refuses (CONFIG_INVALID) a webhook whose credential
 * is not set, an endpoint that collides with another or with the API, and (as engine.start would)
 * a webhook flow naming node types, functions, agents or services the engine does not have.
 */
export function createServer(options: ServerOptions): GantryServer {
  const o = resolveServerOptions(options);
  const { engine, logger } = o;
  const store = engine.options.store;
  const metrics = createMetrics(engine);
  const unclaim = o.cluster === undefined ? undefined : registerClusterMetrics(metrics.registry, o.cluster);
  const principalOf = principalResolver(o.principals);
  const router = new Router();
  const api = 'the server';
  const add = (method: string, pattern: string, handler: Handler, owner = api) => router.add({ method, pattern, handler, owner, reserved: owner === api });

  add('GET', '/health', async ({ res }) => {
    let health;
    try {
      health = await storeHealth(store);
    } catch (error) {
      logger.error({ err: error }, 'health check: the run store cannot be read');
      sendJson(res, 503, { status: 'unavailable', error: { code: 'STORE_FAILED', message: 'the run store cannot be read' } });
      return;
    }
    const storeState = { kind: health.kind, writable: health.writable, ...health.details };
    const peer = o.cluster === undefined ? {} : { peer: o.cluster.peerId };
    if (!health.writable) {
      sendJson(res, 503, { status: 'unavailable', store: storeState, ...peer, error: { code: 'STORE_FAILED', message: 'the run store cannot be written by this process' } });
      return;
    }
    sendJson(res, 200, { status: 'ok', uptime_seconds: Math.round(process.uptime()), flows: o.flows.length, webhooks: webhooks.length, store: storeState, ...peer });
  });
  add('GET', '/peers', peersHandler(o.cluster, principalOf));
  add('GET', '/metrics', async ({ res }) => {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store', ...closeIfUnread(res) });
    res.end(text);
  });
  add('GET', '/runs', listRunsHandler({ engine, principalOf, flowNames: o.flows.map((f) => f.name) }));
  add('GET', '/runs/:id', getRunHandler({ engine, principalOf }));
  add('GET', '/runs/:id/logs', runLogsHandler({ engine, principalOf }));
  add('POST', '/runs/:id/cancel', cancelRunHandler({ engine, principalOf }));
  const bodies: BodyPolicy = { budget: new ByteBudget(o.bufferedBytesLimit), jsonDepthLimit: o.jsonDepthLimit };
  add('POST', '/runs/:id/nodes/:node/decision', decisionHandler({ engine, principalOf, bodies }));
  add('POST', '/runs/:id/retry', retryRunHandler({ engine, principalOf, bodies }));
  const ui = mountUi(o, add, principalOf);
  // Where a browser finds the UI, as it sees the server (through a proxy's base path).
  const uiHint = ui.files === undefined ? '' : `; its web UI is at ${o.basePath}${UI_PATH}/`;

  const deps: WebhookDeps = { engine, bodyLimitBytes: o.bodyLimitBytes, bodies, logger, inflight: new Map() };
  const routes = webhookRoutes(o.flows, o.credentials, o.describeCredential);
  const slots = scheduleSlots(o.flows);
  // A flow the server would start on every request or due time must be runnable here: refused now, not then.
  for (const flow of new Set([...routes.map((r) => r.flow), ...slots.map((s) => s.flow)])) engine.check(flow);
  const scheduler = new Scheduler(engine, slots, logger);
  refuseUiEndpoints(ui, routes);
  for (const route of routes) add(route.method, route.endpoint, webhookHandler(route, deps), describeNode(route.flow, route.nodeId));
  const webhooks: ServedWebhook[] = routes.map((r) => ({
    method: r.method,
    endpoint: r.endpoint,
    flow: r.flow.name,
    node: r.nodeId,
    ...(r.authentication === undefined ? {} : { authentication: r.authentication }),
    scheme: r.auth.kind === 'hmac' ? 'hmac-sha256' : r.auth.kind,
  }));
  for (const w of webhooks) {
    if (w.scheme === 'none') logger.warn({ endpoint: w.endpoint, flow: w.flow, node: w.node }, `${w.method} ${w.endpoint} has no authentication: anyone who can reach it starts runs of "${w.flow}"`);
  }

  let closing: Promise<void> | undefined;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    let endpoint = 'unmatched';
    let observed = false;
    const observe = () => {
      if (observed) return;
      observed = true;
      // 499, as nginx says it: the client went away before the answer was sent.
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.observeHttp(method, endpoint, status, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.on('finish', observe);
    res.on('close', observe);
    const answer = async () => {
      if (closing !== undefined) throw httpError('SERVER_CLOSING', 'the server is shutting down; try again in a moment', { connection: 'close', 'retry-after': '5' });
      const url = withoutBasePath(requestUrl(req.url ?? '/'), o.basePath);
      if (ui.files !== undefined && isUiPath(url.pathname)) {
        endpoint = UI_PATH;
        return ui.files.serve(req, res, url);
      }
      const match = router.match(method, url.pathname);
      if (match === undefined) throw httpError('NOT_FOUND', `nothing at ${url.pathname}: the server answers /runs, /metrics, /health and its webhooks' endpoints${uiHint}`);
      if ('allowed' in match) throw httpError('METHOD_NOT_ALLOWED', `${url.pathname} takes ${match.allowed.join(', ')}, not ${method}`, { allow: match.allowed.join(', ') });
      endpoint = match.route.pattern;
      if (connections.isOver(req.socket)) {
        req.socket.setTimeout(0);
        res.setHeader('connection', 'close');
        // Health checks still get their answer: they say whether the process is alive, and are cheap.
        if (endpoint !== '/health') throw serverBusy(`it has as many connections open as it may (${o.connectionLimit}, server.connection_limit)`);
      }
      await match.route.handler({ req, res, params: match.params, url });
    };
    answer().catch((error: unknown) => {
      const failure = toHttpError(error);
      if (failure.status >= 500) logger.error({ err: error, method, endpoint }, `${method} ${endpoint} failed: ${failure.code}`);
      else if (failure.status === 401) logger.warn({ method, endpoint, remote: req.socket.remoteAddress, code: failure.code }, failure.message);
      else logger.debug({ method, endpoint, code: failure.code }, failure.message);
      if (!res.headersSent) sendError(res, failure);
      else res.destroy();
    });
  };

  const http = createHttpServer(
    {
      // Slow senders (slowloris) are cut off with 408; node checks these deadlines on an interval.
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(o.headersTimeoutMs / 4)),
    },
    handle,
  );
  const connections = capConnections(http, o.connectionLimit, o.headersTimeoutMs);
  let resumed: string[] = [];

  async function resumeUnfinished(): Promise<string[]> {
    const ids = (await store.listRuns({ status: ['running', 'waiting'], parentRunId: null })).map((r) => r.runId).reverse();
    const done: string[] = [];
    for (const runId of ids) {
      if (engine.run(runId) !== undefined) continue;
      try {
        await engine.resume(runId);
        done.push(runId);
      } catch (error) {
        logger.error({ err: error, runId }, `run ${runId} could not be resumed; it stays in the store as it was`);
      }
    }
    metrics.track(done);
    if (done.length > 0) logger.info({ runs: done.length }, `resumed ${done.length} unfinished run${done.length === 1 ? '' : 's'}`);
    return done;
  }

  const address = (): ServerAddress | undefined => {
    const a = http.address() as AddressInfo | null;
    if (a === null || typeof a === 'string') return undefined;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `http://${host}:${a.port}` };
  };

  return {
    async listen(port = 8080, host = '127.0.0.1') {
      if (o.resume) resumed = await resumeUnfinished();
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        http.once('error', onError);
        http.listen(port, host, () => {
          http.off('error', onError);
          resolve();
        });
      });
      const bound = address()!;
      // After the resumption: a due time's run that had started goes on as it was, not again.
      if (o.schedules) await scheduler.start();
      logger.info({ url: bound.url, webhooks: webhooks.length, schedules: slots.length }, `listening on ${bound.url}`);
      return bound;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        scheduler.close();
        metrics.dispose();
        unclaim?.();
        // Open streams would hold close() for its whole grace period.
        ui.feed.close();
        if (!http.listening) return resolve();
        const force = setTimeout(() => http.closeAllConnections(), o.closeGraceMs);
        force.unref();
        http.close(() => {
          clearTimeout(force);
          resolve();
        });
        http.closeIdleConnections();
      });
      return closing;
    },
    address,
    webhooks,
    get schedules() {
      return scheduler.served();
    },
    get resumed() {
      return resumed;
    },
    metrics: metrics.registry,
    handle,
  };
}
