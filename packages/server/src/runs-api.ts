import type { IncomingMessage } from 'node:http';
import { didYouMean, GantryError, linesOf, readEventsAfter, type Engine, type LinePlace, type RunRecord, type RunStatus } from '@gantry/engine';
import { API_BODY_LIMIT, receiveBody, type BodyPolicy } from './body.js';
import { httpError, requireJson, sendJson } from './http.js';
import type { Handler } from './router.js';
import { nodesOf, runState, runSummary, runView } from './run-view.js';
import { childApprovals, runRow, withDetails } from './run-details.js';
import { flowNames, listQuery, listRecords } from './runs-list.js';

const STATUSES: readonly RunStatus[] = ['running', 'waiting', 'succeeded', 'failed', 'blocked', 'rolled_back', 'cancelled'];

export interface RunsApiDeps {
  readonly engine: Engine;
  /** The principal a request authenticates as (401 otherwise). */
  readonly principalOf: (req: IncomingMessage) => string;
  /** How long POST /runs/:id/cancel waits for a live run to stop before answering 202. @default 2000 */
  readonly cancelWaitMs?: number;
  /** The names of the flows the server serves, offered as the list's flow filter. @default [] */
  readonly flowNames?: readonly string[];
}

export async function getRecord(engine: Engine, runId: string): Promise<RunRecord> {
  const record = await engine.options.store.getRun(runId);
  if (record === undefined) throw new GantryError('RUN_NOT_FOUND', `no run ${runId}; GET /runs lists them`);
  return record;
}

/** GET /runs?status=waiting,running&limit=50: runs, newest first; `flow`, `top_level` and `details` (runs-list.ts) narrow and widen it. */
export function listRunsHandler(deps: RunsApiDeps): Handler {
  const { engine, principalOf } = deps;
  return async ({ req, res, url }) => {
    principalOf(req);
    const statusParam = url.searchParams.get('status');
    const statuses = statusParam === null ? undefined : statusParam.split(',').map((s) => s.trim());
    for (const s of statuses ?? []) {
      if (!STATUSES.includes(s as RunStatus)) throw httpError('BAD_REQUEST', `status must be one or more of ${STATUSES.join(', ')} (comma-separated), got "${s}"`);
    }
    const limit = countParam(url, 'limit', 1, 1000) ?? 50;
    const query = listQuery(url);
    const records = await listRecords(engine.options.store, { ...(statuses ? { status: statuses as RunStatus[] } : {}), limit }, query);
    if (!query.details) return sendJson(res, 200, { runs: records.map(runSummary) });
    const runs = [];
    for (const r of records) runs.push(await runRow(engine, r));
    sendJson(res, 200, { runs, flows: flowNames(deps.flowNames ?? [], records) });
  };
}

/** GET /runs/:id: status, a per-node timeline, pending approvals (its sub-flow runs' too); `?events=true` adds the journal. */
export function getRunHandler({ engine, principalOf }: RunsApiDeps): Handler {
  return async ({ req, res, params, url }) => {
    const principal = principalOf(req);
    const record = await getRecord(engine, params.id!);
    const state = await runState(engine, record.runId);
    const view = runView(record, state, nodesOf(engine, record));
    view.pending_approvals.push(...(await childApprovals(engine, record.runId, 0)));
    const events = url.searchParams.get('events') === 'true' ? { events: await engine.options.store.events(record.runId) } : {};
    sendJson(res, 200, { ...(await withDetails(engine, record, state, principal, view)), ...events });
  };
}

/**
 * POST /runs/:id/cancel: any principal may cancel. A live run's executors are aborted; the answer
 * waits a moment for the run to end (200), else says it is stopping (202).
 */
export function cancelRunHandler({ engine, principalOf, cancelWaitMs = 2000 }: RunsApiDeps): Handler {
  return async ({ req, res, params }) => {
    const principal = principalOf(req);
    const record = await getRecord(engine, params.id!);
    const live = engine.run(record.runId);
    await engine.cancel(record.runId);
    engine.options.logger.info({ runId: record.runId, principal }, 'run cancelled over the API');
    let status: RunStatus = (await engine.options.store.getRun(record.runId))?.status ?? 'cancelled';
    if (live !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([live.finished.then((r) => r.status), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), cancelWaitMs)))]);
      clearTimeout(timer);
      status = waited ?? live.status();
    }
    const done = status !== 'running' && status !== 'waiting';
    sendJson(res, done ? 200 : 202, { run_id: record.runId, status, cancelled_by: principal });
  };
}

/** The retry API's body: `{}` or `{ "from": "<node>" }`; an empty body is `{}`. */
function parseRetry(body: unknown): { from?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw httpError('BAD_REQUEST', 'the body must be a JSON object: { "from"?: "<node id>" }');
  const { from, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw httpError('BAD_REQUEST', `unknown key "${unknown[0]}" in the body; it takes "from"`);
  if (from !== undefined && (typeof from !== 'string' || from === '')) throw httpError('BAD_REQUEST', `"from" must be a node id, got ${JSON.stringify(from)}`);
  return from === undefined ? {} : { from };
}

/** Whether a request carries a body at all (a declared length above 0, or a chunked one). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * POST /runs/:id/retry (DESIGN §12): any principal may retry a failed, rolled-back or cancelled
 * top-level run from where it failed (or `from` a node), in its own journal, recorded with who
 * asked. 202 once the retry is durable and the run goes on; 409 RUN_NOT_RETRYABLE for a run that
 * runs, waits, succeeded, was blocked or is a sub-flow's; 400 for a node the flow does not have.
 */
export function retryRunHandler({ engine, principalOf, bodies }: RunsApiDeps & { bodies: BodyPolicy }): Handler {
  return async ({ req, res, params }) => {
    const principal = principalOf(req);
    let body: { from?: string } = {};
    if (hasBody(req)) {
      requireJson(req);
      body = parseRetry(await receiveBody(req, bodies, { limit: API_BODY_LIMIT, limitName: "the retry API's fixed limit" }));
    }
    const record = await getRecord(engine, params.id!);
    const run = await engine.retry(record.runId, { ...body, by: principal });
    engine.options.logger.info({ runId: record.runId, principal, from: body.from }, 'run retried over the API');
    sendJson(res, 202, { run_id: run.id, status: run.status(), retried_by: principal, ...(body.from === undefined ? {} : { from: body.from }) });
  };
}

/**
 * GET /runs/:id/logs?node=&attempt=&after_seq= (DESIGN §12): the lines the run's attempts kept, in
 * the order they were written, with what a bound dropped; `node` and `attempt` narrow them, as
 * `gantry logs` does (both read them with the engine's linesOf). A sub-flow run's lines are its
 * own run's (`GET /runs/<run>.<node>/logs`). `last_seq` is how far the journal was read; a poll
 * that gives it back as `after_seq` gets what came since, read by the journal's index.
 */
export function runLogsHandler({ engine, principalOf }: RunsApiDeps): Handler {
  return async ({ req, res, params, url }) => {
    principalOf(req);
    const record = await getRecord(engine, params.id!);
    const node = url.searchParams.get('node') ?? undefined;
    const attempt = countParam(url, 'attempt', 1);
    const after = countParam(url, 'after_seq', 0) ?? 0;
    if (node !== undefined) {
      const ids = nodesOf(engine, record).map((n) => n.id);
      if (!ids.includes(node)) throw httpError('NODE_NOT_FOUND', `the flow "${record.flowName}" of run ${record.runId} has no node "${node}"${didYouMean(node, ids)}`);
    }
    const events = await readEventsAfter(engine.options.store, record.runId, after);
    const read = linesOf(record.runId, record.runId, events, { ...(node === undefined ? {} : { node }), ...(attempt === undefined ? {} : { attempt }) });
    const where = (p: LinePlace) => ({ node: p.nodeId, attempt: p.attempt, ...(p.item === undefined ? {} : { item: p.item }), ...(p.compensation ? { compensation: true } : {}) });
    const lines = read.lines.map((l) => ({ ...where(l), at: new Date(l.at).toISOString(), source: l.source, ...(l.level === undefined ? {} : { level: l.level }), text: l.text }));
    const dropped = read.dropped.map((d) => ({ ...where(d), lines: d.dropped }));
    sendJson(res, 200, { run_id: record.runId, lines, dropped, last_seq: after + events.length });
  };
}

/** A whole-number query parameter from `min` to `max`, or undefined when absent (400 otherwise). */
function countParam(url: URL, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null) return undefined;
  const n = Number(text);
  if (!(/^\d{1,15}$/.test(text) && n >= min && n <= max)) {
    throw httpError('BAD_REQUEST', `${name} must be a whole number ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}, got "${text.slice(0, 40)}"`);
  }
  return n;
}
