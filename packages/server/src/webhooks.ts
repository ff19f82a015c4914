import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CompiledFlow, Engine, JsonValue, RunStatus } from '@gantry/engine';
import { GantryError } from '@gantry/engine';
import { receiveBody, type BodyPolicy } from './body.js';
import { httpError, requireJson, sendJson } from './http.js';
import type { Handler } from './router.js';
import { startWebhookCheck, webhookAuth, type WebhookAuth } from './webhook-auth.js';

/** One webhook node the server listens for. */
export interface WebhookRoute {
  readonly method: string;
  readonly endpoint: string;
  readonly flow: CompiledFlow;
  readonly nodeId: string;
  /** The credential name its requests are checked against; undefined for an open endpoint. */
  readonly authentication: string | undefined;
  readonly auth: WebhookAuth;
}

/** `flow "Complete Deployment Pipeline" (flows/complete-deployment.json) node "webhook_trigger"` */
export function describeNode(flow: CompiledFlow, nodeId: string): string {
  return `flow "${flow.name}"${flow.path ? ` (${flow.path})` : ''} node "${nodeId}"`;
}

/** Methods whose trigger is the query string, not a body. */
const BODYLESS = new Set(['GET', 'DELETE']);

/**
 * Every webhook node with an `endpoint` in these flows, its authentication resolved: a missing
 * credential refuses the whole start (CONFIG_INVALID naming the flow, node and variable), and so
 * does a signature secret on a GET or DELETE webhook, whose query string it would not cover.
 * Webhook nodes without an endpoint are for `gantry run --input` only and are not served.
 */
export function webhookRoutes(
  flows: readonly CompiledFlow[],
  credentials: (name: string) => string | undefined,
  describeCredential: (name: string) => string,
): WebhookRoute[] {
  const routes: WebhookRoute[] = [];
  // Every webhook that cannot be served is named at once, not one per attempt to start.
  const refusals: string[] = [];
  for (const flow of flows) {
    for (const node of flow.nodes.values()) {
      if (node.type !== 'webhook') continue;
      const data = node.definition.data as { endpoint?: string; method?: string; authentication?: string };
      if (typeof data.endpoint !== 'string') continue;
      const where = describeNode(flow, node.id);
      const method = data.method ?? 'POST';
      let auth: WebhookAuth;
      try {
        auth = webhookAuth(data.authentication, credentials, where, describeCredential);
      } catch (error) {
        refusals.push((error as Error).message);
        continue;
      }
      if (auth.kind === 'hmac' && BODYLESS.has(method)) {
        // The trigger of a GET is its query string, which X-Hub-Signature-256 (over the body) does not cover.
        refusals.push(
          `${where}: authentication "${data.authentication}" is an X-Hub-Signature-256 secret, which signs the body, but a ${method} webhook's trigger is its query string, which it would leave unsigned; use POST, or a bearer-token credential (a name not ending in webhook_secret)`,
        );
        continue;
      }
      routes.push({ method, endpoint: data.endpoint, flow, nodeId: node.id, authentication: data.authentication, auth });
    }
  }
  if (refusals.length === 1) throw new GantryError('CONFIG_INVALID', refusals[0]!);
  if (refusals.length > 1) throw new GantryError('CONFIG_INVALID', `${refusals.length} webhooks cannot be served:\n${refusals.map((r) => `  ${r}`).join('\n')}`);
  return routes;
}

/** A run started (or found) for a request: what the answer says about it. */
interface Started {
  readonly runId: string;
  /** The flow's name: a delivery id names one run of one flow. */
  readonly flow: string;
  readonly status: RunStatus;
  readonly created: boolean;
}

/**
 * Delivery ids become run ids, so that a repeat finds the run, after a restart too: `delivery-`
 * and the id when it is 1 to 100 letters, digits, `_` or `-`, else `delivery-h` and the first 32
 * hex digits of its SHA-256. Never a `.`, which names a sub-flow's run (`<run>.<node>`): a sender
 * cannot name a run ahead that a later run would take for its child (DESIGN §11).
 */
export const DELIVERY_RUN_PREFIX = 'delivery-';
const PLAIN_DELIVERY = /^[A-Za-z0-9_-]{1,100}$/;

export function deliveryRunId(delivery: string): string {
  if (PLAIN_DELIVERY.test(delivery)) return `${DELIVERY_RUN_PREFIX}${delivery}`;
  return `${DELIVERY_RUN_PREFIX}h${createHash('sha256').update(delivery).digest('hex').slice(0, 32)}`;
}

export interface WebhookDeps {
  readonly engine: Engine;
  readonly bodyLimitBytes: number;
  readonly bodies: BodyPolicy;
  readonly logger: Logger;
  /** Starts in progress by run id, shared by every webhook: concurrent repeats share one start. */
  readonly inflight: Map<string, Promise<Started>>;
}

/**
 * The handler of one webhook route. In order, each before anything later is read: what the
 * headers say of authentication (401: no signature, no or a wrong bearer token), content type
 * (415), declared size (413) and room for the body (503); then, as the body streams, its size
 * (413) and room (503) again and its HMAC; after the last byte the signature (401), the JSON
 * depth (400) and syntax (400), and the run is started (a delivery id names it: see deliveryRunId). The answer (202
 * with the new run, 200 with the run a repeated delivery started) is sent once the run and its
 * run.started are committed to the store. Nothing is stored or parsed before authentication.
 */
export function webhookHandler(route: WebhookRoute, deps: WebhookDeps): Handler {
  const { engine, logger } = deps;
  const store = engine.options.store;
  return async ({ req, res, url }) => {
    const check = startWebhookCheck(route.auth, req.headers);
    const hasBody = !BODYLESS.has(route.method);
    if (hasBody) requireJson(req);
    const body = await receiveBody(req, deps.bodies, { limit: deps.bodyLimitBytes, limitName: 'server.body_limit_bytes', observe: check.observe, verify: check.verify, json: hasBody });

    const deliveryHeader = req.headers['x-github-delivery'];
    const delivery = Array.isArray(deliveryHeader) ? deliveryHeader[0] : deliveryHeader;
    if (req.headers['x-github-event'] === 'ping') {
      // GitHub's first delivery to a new hook: it says the hook works, it asks for no run.
      sendJson(res, 200, { ok: true, event: 'ping', flow: route.flow.name });
      return;
    }
    const trigger = (hasBody ? body : Object.fromEntries(url.searchParams)) as JsonValue;
    const runId = delivery === undefined ? undefined : deliveryRunId(delivery);
    const started = await startOnce(trigger, runId);
    const answer = { run_id: started.runId, flow: route.flow.name, status: started.status, url: `/runs/${encodeURIComponent(started.runId)}`, ...(started.created ? {} : { duplicate: true }) };
    if (started.created) logger.info({ runId: started.runId, flow: route.flow.name, delivery, endpoint: route.endpoint }, 'webhook accepted: run started');
    else logger.info({ runId: started.runId, delivery }, 'webhook repeated: answered with the run it started');
    sendJson(res, started.created ? 202 : 200, answer, { location: answer.url });
  };

  function conflict(flow: string, runId: string) {
    return httpError('DELIVERY_CONFLICT', `delivery ${runId.slice(DELIVERY_RUN_PREFIX.length)} started a run of "${flow}" already (run ${runId}), not of "${route.flow.name}"`);
  }

  function startOnce(trigger: JsonValue, runId: string | undefined): Promise<Started> {
    if (runId === undefined) return start(trigger, undefined);
    const pending = deps.inflight.get(runId);
    if (pending !== undefined) {
      return pending.then((s) => {
        if (s.flow !== route.flow.name) throw conflict(s.flow, runId);
        return { ...s, created: false };
      });
    }
    // Registered before anything is awaited: a repeat arriving meanwhile shares this start.
    const starting = startOrFind(trigger, runId);
    deps.inflight.set(runId, starting);
    const forget = () => deps.inflight.delete(runId);
    starting.then(forget, forget);
    return starting;
  }

  async function startOrFind(trigger: JsonValue, runId: string): Promise<Started> {
    const record = await store.getRun(runId);
    if (record === undefined) return start(trigger, runId);
    // By name, not by version: a repeat after the flow's file has changed still finds its run.
    if (record.flowName !== route.flow.name) throw conflict(record.flowName, runId);
    return { runId, flow: record.flowName, status: engine.run(runId)?.status() ?? record.status, created: false };
  }

  async function start(trigger: JsonValue, runId: string | undefined): Promise<Started> {
    try {
      // start() returns once the run and its run.started are committed (DESIGN §3.6).
      const run = await engine.start(route.flow, { trigger, ...(runId === undefined ? {} : { runId }) });
      return { runId: run.id, flow: route.flow.name, status: run.status(), created: true };
    } catch (error) {
      const record = error instanceof GantryError && error.code === 'STORE_CONFLICT' && runId !== undefined ? await store.getRun(runId) : undefined;
      if (record === undefined) throw error;
      // Started meanwhile by a request this process did not see: another peer on the same store.
      if (record.flowName !== route.flow.name) throw conflict(record.flowName, runId!);
      return { runId: runId!, flow: record.flowName, status: record.status, created: false };
    }
  }
}
