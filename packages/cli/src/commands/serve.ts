import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { credentialVariable, GantryError, type Engine, type GantryConfig } from '@gantry/engine';
import type { ClusterView, ServerOptions } from '@gantry/server';
import type { PostgresPeer, PostgresStore } from '@gantry/store-postgres';
import { parseCommandArgs, usageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';
import { humanLogDestination } from '../log-lines.js';
import { credentialResolver } from '../credentials.js';
import { engineFromConfig, loadConfig } from '../setup.js';
import { isPostgres, openStore, storeName } from '../store.js';

const LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export const serveHelp = `Usage: gantry serve [--flows dir] [--port n] [--host h] [--config f] [--log-level level] [--json]

Serves the flows of a folder over HTTP. Each webhook node's endpoint starts one run per accepted
request (answered 202 once the run is stored; a repeated X-GitHub-Delivery is answered 200 with
the run it started). Each schedule node starts one run per due time ("gantry schedules" lists
them); due times that passed while no server ran start as its catch_up says. Approvers decide over the API, operators read /metrics. Unfinished runs of
the store are resumed first; one that crashed the process 3 times in a row (crash_loop in the
configuration) is ended failed with CRASH_LOOP instead. Ctrl-C or SIGTERM stops it: requests in
progress are answered, runs in progress carry on at the next start.

On a Postgres store (store.postgres in the configuration, or --store postgres://…) it is one peer
among any number on the database: it claims the runs ready for any peer (a peer's lease ran out,
a run handed back, a timer due) rather than resuming them all, hands a waiting run back to the
database, and on SIGTERM hands its runs to the others at once. GET /peers lists the peers.

Options:
  --flows dir        the folder of flow files (default: ./flows)
  --port n           the port; 0 picks a free one (default: the configuration's server.port, else 8080)
  --host h           the address to listen on; 0.0.0.0 for every interface (default: server.host, else 127.0.0.1)
  --config file      the configuration: agents, credentials, principals, server (default: ./gantry.config.json if present)
  --log-level level  logs on stderr: silent, fatal, error, warn, info, debug, trace (default: info)
  --json             logs as JSON lines (pino's), even on a terminal; they are JSON anyway when
                     stderr is not a terminal (a file, a pipe, a log collector)
  --store s          the run store: a SQLite file, or postgres://user:password@host:port/db (default: the configuration's)
  -h, --help         show this help

HTTP:
  <method> <endpoint>                     each webhook node's; X-Hub-Signature-256 (a *webhook_secret
                                          credential) or Authorization: Bearer (any other credential)
  GET  /runs  ·  GET /runs/:id            runs, and one run's timeline and pending approvals
  POST /runs/:id/nodes/:node/decision     {"decision":"approve"|"reject","comment":"…"}
  POST /runs/:id/cancel · /runs/:id/retry these take Authorization: Bearer <a principal's token>
  GET  /runs/:id/logs?node=&attempt=      the lines a run's attempts kept
  GET  /metrics  ·  GET /health           Prometheus metrics; liveness and the store (each GET also takes HEAD)
  GET  /peers                             on Postgres: the peers and the runs each holds (Bearer)
  GET  /ui                                the web UI: runs, a run's graph and timeline, approvals
                                          (sign in with a principal's token)

Exit status: 0 stopped by a signal, 1 the server failed, 2 invalid flow, configuration or usage.`;

/** The configuration's `server` limits as createServer's options; those not set keep their defaults. */
function serverLimits(server: GantryConfig['server']): Partial<ServerOptions> {
  const limits: { -readonly [K in keyof ServerOptions]?: ServerOptions[K] } = {};
  if (server?.body_limit_bytes !== undefined) limits.bodyLimitBytes = server.body_limit_bytes;
  if (server?.buffered_bytes_limit !== undefined) limits.bufferedBytesLimit = server.buffered_bytes_limit;
  if (server?.connection_limit !== undefined) limits.connectionLimit = server.connection_limit;
  if (server?.json_depth_limit !== undefined) limits.jsonDepthLimit = server.json_depth_limit;
  if (server?.headers_timeout_ms !== undefined) limits.headersTimeoutMs = server.headers_timeout_ms;
  if (server?.request_timeout_ms !== undefined) limits.requestTimeoutMs = server.request_timeout_ms;
  return limits;
}

function parsePort(value: string | undefined, configured: number | undefined): number {
  if (value === undefined) return configured ?? 8080;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw usageError('serve', `--port must be a whole number from 0 to 65535, got "${value}"`);
  return port;
}

/** Resolves at the first SIGINT or SIGTERM; a second one exits at once. */
function stopSignal(onSecond: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      process.once('SIGINT', onSecond);
      process.once('SIGTERM', onSecond);
      resolveSignal(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

export async function serveCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('serve', argv, {
    flows: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
    'log-level': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0) throw usageError('serve', `takes no arguments, got ${positionals.join(' ')}; name the flows folder with --flows`);
  const logLevel = String(values['log-level'] ?? 'info');
  if (!LEVELS.includes(logLevel)) throw usageError('serve', `--log-level must be ${LEVELS.slice(0, -1).join(', ')} or trace, got "${logLevel}"`);
  const loaded = loadConfig(values.config as string | undefined, io.cwd);
  const { config } = loaded;
  const port = parsePort(values.port as string | undefined, config.server?.port);
  const host = (values.host as string | undefined) ?? config.server?.host ?? '127.0.0.1';
  const flowsFolder = (values.flows as string | undefined) ?? 'flows';
  const basePath = (config.server?.base_path ?? '').replace(/\/$/, '');
  const p = printer(io);
  // At a terminal the logs are lines for a person, beside the lines above; elsewhere (or with
  // --json) JSON lines, for a machine.
  const jsonLogs = values.json === true || io.err.isTTY !== true;
  const logger = pino(
    { level: logLevel, redact: ['*.authorization', '*.token', '*.password', '*.secret', 'req.headers.authorization'] },
    jsonLogs ? pino.destination(2) : humanLogDestination(io.err, p.errStyle),
  );
  const { createServer, loadFlowsFolder, DEFAULT_BODY_LIMIT } = await import('@gantry/server');
  let server: ReturnType<typeof createServer> | undefined;
  // On Postgres this process is one peer among any number (DESIGN §9): waiting runs are handed back to the database.
  const store = await openStore(loaded, io.cwd, 'write', { kind: 'serve', park: true, logger, address: () => server?.address()?.url });
  try {
    const engine = await engineFromConfig(loaded, {
      env: io.env,
      store,
      logger,
      // Sub-flow references of the served flows may reach anywhere in the folder's tree.
      flowsFolder: resolve(io.cwd, flowsFolder),
      fallbackNotifier: (n) => logger.warn({ runId: n.runId, nodeId: n.nodeId, severity: n.severity }, n.message),
      triggerBytesAtLeast: config.server?.body_limit_bytes ?? DEFAULT_BODY_LIMIT,
    });
    const flows = await loadFlowsFolder(engine, flowsFolder, io.cwd);
    const envName = (name: string) => {
      const variable = credentialVariable(config, name);
      return variable === undefined ? `a declaration of the credential "${name}" under the configuration's credentials` : `the environment variable ${variable}`;
    };
    const peer = isPostgres(store) ? await startPeer(store, engine, logger, config.store?.postgres?.poll_ms) : undefined;
    server = createServer({
      engine,
      flows,
      credentials: credentialResolver(config, io.env),
      describeCredential: envName,
      ...(config.principals ? { principals: config.principals } : {}),
      ...serverLimits(config.server),
      basePath,
      logger,
      ...(peer === undefined ? {} : { resume: false, cluster: peer.view }),
    });
    let address;
    try {
      address = await server.listen(port, host);
    } catch (error) {
      await server.close();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new GantryError('USAGE', `gantry serve: ${host}:${port} is in use by another program; choose another --port`);
      if (code === 'EACCES') throw new GantryError('USAGE', `gantry serve: not allowed to listen on ${host}:${port}; ports below 1024 need privileges, choose another --port`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new GantryError('USAGE', `gantry serve: --host ${host} is not an address of this machine`);
      throw error;
    }
    p.out(`gantry serve: ${flows.length} flow${flows.length === 1 ? '' : 's'} from ${flowsFolder}, ${server.webhooks.length} webhook${server.webhooks.length === 1 ? '' : 's'}`);
    for (const w of server.webhooks) {
      const auth = w.scheme === 'hmac-sha256' ? `X-Hub-Signature-256 (${w.authentication})` : w.scheme === 'bearer' ? `bearer token (${w.authentication})` : 'no authentication';
      p.out(`  ${w.method} ${w.endpoint} → ${w.flow} (node ${w.node}; ${auth})`);
    }
    for (const s of server.schedules) p.out(`  schedule ${s.schedule} → ${s.flow} (node ${s.node}; catch_up ${s.catchUp}; next ${s.next ?? 'none: past its end_at'})`);
    if (server.resumed.length > 0) p.out(`resumed ${server.resumed.length} unfinished run${server.resumed.length === 1 ? '' : 's'}`);
    if (peer !== undefined) {
      await peer.peer.start();
      const others = (await peer.view.peers()).filter((q) => q.id !== peer.view.peerId && q.kind === 'serve').length;
      p.out(`peer ${peer.view.peerId} on ${storeName(store, io.cwd)}, with ${others} other serve peer${others === 1 ? '' : 's'}: runs ready for any peer are claimed here`);
    }
    p.out(`web UI at ${address.url}${basePath}/ui/ (sign in with a principal's token)`);
    p.out(`listening on ${address.url}`);
    const signal = await stopSignal(() => {
      p.err('gantry serve: stopped at once (second signal); runs in progress carry on at the next start');
      // Stopped on purpose: the runs it carried on did not crash it.
      engine.close();
      process.exit(EXIT.failed);
    });
    p.out(`${signal}: stopping — answering the requests in progress${peer === undefined ? '' : '; the runs this peer holds go to the others'}`);
    await server.close();
    await peer?.peer.stop();
    engine.close();
    return EXIT.succeeded;
  } finally {
    await store.close();
  }
}

/** This process as a peer of the shared store: what claims ready runs, and what the server shows of the peers. */
async function startPeer(store: PostgresStore, engine: Engine, logger: Logger, pollMs: number | undefined): Promise<{ peer: PostgresPeer; view: ClusterView }> {
  const { PostgresPeer } = await import('@gantry/store-postgres');
  const peer = new PostgresPeer(store, engine, logger, pollMs === undefined ? {} : { pollMs });
  const view: ClusterView = {
    peerId: store.peerId,
    peers: () => store.peers(),
    stats: store.stats,
    onClaim: (listener) => peer.onClaim(listener),
    heads: (query) => store.heads(query),
    // The live streams look for the other peers' writes as often as the peer looks for work.
    pollMs: pollMs ?? 1000,
  };
  return { peer, view };
}
