import type { JsonValue, RunRecord } from '@gantry/engine';
import { sendJson } from './http.js';
import type { Handler } from './router.js';
import { getRecord, type RunsApiDeps } from './runs-api.js';

/**
 * A flow as the web UI draws it (GET /runs/:id/graph): every node and edge of the version the run
 * started with, the defaults the engine applies filled in (join, required approvals), and per
 * node type only what a reader of the graph needs — never the whole `data`, which may hold large
 * inline objects.
 */
export interface RunGraph {
  readonly name: string;
  readonly hash: string;
  readonly version?: string;
  readonly description?: string;
  readonly nodes: readonly GraphNode[];
  /** In the flow's order: `index` is the edge's index in the journal's `taken` lists. */
  readonly edges: readonly GraphEdge[];
  readonly error_handlers: readonly { readonly stage: string; readonly action: string; readonly message?: string }[];
}

export interface GraphNode {
  readonly id: string;
  readonly type: string;
  readonly description?: string;
  readonly join: 'any' | 'all';
  /** The node's `when` expression, as written. */
  readonly when?: string;
  /** The node's `for_each`: an array, or an expression as written. */
  readonly for_each?: JsonValue;
  readonly max_attempts: number;
  readonly timeout_seconds?: number;
  readonly compensate?: true;
  readonly detail: Readonly<Record<string, JsonValue>>;
}

export interface GraphEdge {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  /** A label (`pass`, `fail`, `error`, a router's `then`, `default`) or an expression; absent when unconditioned. */
  readonly condition?: string;
}

type Raw = Record<string, unknown>;
const isRaw = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What the graph shows of a node's `data`, by type. */
function detailOf(type: string, data: Raw): Record<string, JsonValue> {
  const pick = (...keys: string[]) => Object.fromEntries(keys.flatMap((k) => (data[k] === undefined ? [] : [[k, data[k] as JsonValue]])));
  switch (type) {
    case 'agent':
      return pick('agent', 'task');
    case 'parallel':
      return { agents: (Array.isArray(data.agents) ? data.agents.filter(isRaw) : []).map((a) => ({ agent: str(a.agent) ?? '', task: str(a.task) ?? '' })), on_failure: str(data.on_failure) ?? 'fail_fast' };
    case 'conditional': {
      const conditions = Array.isArray(data.conditions) ? data.conditions.filter(isRaw) : [];
      const router = conditions.some((c) => 'then' in c);
      return router
        ? { form: 'router', routes: conditions.map((c) => ({ if: (c.if ?? null) as JsonValue, then: str(c.then) ?? '' })) }
        : { form: 'gate', conditions: conditions.map((c) => ({ metric: (c.metric ?? null) as JsonValue, operator: str(c.operator) ?? '', value: (c.value ?? null) as JsonValue })), ...pick('fail_action', 'pass_action') };
    }
    case 'human_approval': {
      const approvers = Array.isArray(data.approvers) ? data.approvers.filter((a): a is string => typeof a === 'string') : [];
      return {
        approvers,
        required: typeof data.required === 'number' ? data.required : approvers.length,
        on_timeout: data.on_timeout === 'approve' ? 'approve' : 'fail',
        allow_self_approval: data.allow_self_approval === true,
        ...pick('timeout', 'message'),
      };
    }
    case 'wait':
      return pick('seconds', 'until');
    case 'subflow':
      return pick('flow');
    case 'external_api':
      return pick('service', 'action');
    case 'function':
      return pick('function');
    case 'webhook':
      return pick('endpoint', 'method');
    case 'schedule':
      return pick('cron', 'timezone', 'interval', 'catch_up', 'start_at', 'end_at');
    default:
      return {};
  }
}

/** The graph of a flow's text (the one kept with a run); a text that is not a flow gives an empty graph. */
export function graphOfFlowText(text: string, hash: string): RunGraph {
  let doc: Raw = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRaw(parsed)) doc = parsed;
  } catch {
    // The run was started with this text, so it parsed then; an unreadable one shows no graph.
  }
  const nodes: GraphNode[] = (Array.isArray(doc.nodes) ? doc.nodes.filter(isRaw) : []).flatMap((n) => {
    const id = str(n.id);
    if (id === undefined) return [];
    const type = str(n.type) ?? '';
    const retry = isRaw(n.retry) ? n.retry : undefined;
    return [
      {
        id,
        type,
        ...(str(n.description) ? { description: str(n.description)! } : {}),
        join: n.join === 'all' ? 'all' : 'any',
        ...(str(n.when) ? { when: str(n.when)! } : {}),
        ...(n.for_each === undefined ? {} : { for_each: n.for_each as JsonValue }),
        max_attempts: typeof retry?.max_attempts === 'number' ? retry.max_attempts : 1,
        ...(typeof n.timeout === 'number' ? { timeout_seconds: n.timeout } : {}),
        ...(n.compensate === undefined ? {} : { compensate: true as const }),
        detail: detailOf(type, isRaw(n.data) ? n.data : {}),
      },
    ];
  });
  const edges: GraphEdge[] = [];
  (Array.isArray(doc.edges) ? doc.edges : []).forEach((e: unknown, index) => {
    if (!isRaw(e) || typeof e.from !== 'string' || typeof e.to !== 'string') return;
    edges.push({ index, from: e.from, to: e.to, ...(typeof e.condition === 'string' ? { condition: e.condition } : {}) });
  });
  const error_handlers = (Array.isArray(doc.error_handlers) ? doc.error_handlers.filter(isRaw) : []).map((h) => ({
    stage: str(h.stage) ?? '*',
    action: str(h.action) ?? 'fail',
    ...(str(h.message) ? { message: str(h.message)! } : {}),
  }));
  return {
    name: str(doc.name) ?? '',
    hash,
    ...(str(doc.version) ? { version: str(doc.version)! } : {}),
    ...(str(doc.description) ? { description: str(doc.description)! } : {}),
    nodes,
    edges,
    error_handlers,
  };
}

/** Graphs by flow version: a flow's text never changes under its hash, and many runs share one. */
const cache = new Map<string, RunGraph>();
const CACHE_SIZE = 64;

export function graphOf(record: RunRecord): RunGraph {
  let graph = cache.get(record.flowHash);
  if (graph === undefined) {
    graph = graphOfFlowText(record.flowText, record.flowHash);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(record.flowHash, graph);
  }
  return graph;
}

/** GET /runs/:id/graph: the flow of the run's version, for drawing. Cached by the browser under its hash. */
export function runGraphHandler({ engine, principalOf }: Pick<RunsApiDeps, 'engine' | 'principalOf'>): Handler {
  return async ({ req, res, params }) => {
    principalOf(req);
    const record = await getRecord(engine, params.id!);
    const etag = `"${record.flowHash}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, 'cache-control': 'private, no-cache' });
      res.end();
      return;
    }
    sendJson(res, 200, graphOf(record), { etag, 'cache-control': 'private, no-cache' });
  };
}
