/**
 * fast-check arbitraries for valid Gantry flows (DESIGN §2 and schemas/), written from the
 * schemas rather than from the validator: random DAGs of the ten node types, each with valid
 * data, valid envelope fields, declared params, valid expressions, and edge labels their source
 * can produce.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Obj = { [key: string]: Json };

export const NODE_TYPE_LIST = [
  'webhook',
  'function',
  'conditional',
  'parallel',
  'agent',
  'human_approval',
  'external_api',
  'wait',
  'subflow',
  'schedule',
] as const;
export type GenNodeType = (typeof NODE_TYPE_LIST)[number];

/** Keys each object may hold (besides x- keys), from the schemas. */
export const ENVELOPE_KEYS = ['id', 'type', 'description', 'data', 'timeout', 'retry', 'join', 'when', 'for_each', 'concurrency', 'output', 'compensate'];
export const DATA_KEYS: Record<GenNodeType, string[] | 'open'> = {
  webhook: ['endpoint', 'method', 'authentication'],
  function: 'open',
  conditional: ['conditions', 'pass_action', 'fail_action'],
  parallel: ['agents', 'on_failure'],
  agent: ['agent', 'task', 'inputs', 'parallel'],
  human_approval: ['approvers', 'timeout', 'required', 'on_timeout', 'allow_self_approval', 'message'],
  external_api: 'open',
  wait: ['seconds', 'until'],
  subflow: ['flow', 'params', 'trigger'],
  schedule: ['cron', 'timezone', 'interval', 'catch_up', 'start_at', 'end_at'],
};

export const GATE_OPERATORS = ['=', '==', '!=', '>', '>=', '<', '<=', 'in', 'not_in', 'contains', 'matches'] as const;

export interface GeneratedFlow {
  readonly doc: Obj;
  /** Node ids in generation order, which is a topological order. */
  readonly topo: readonly string[];
  readonly webhook: boolean;
}

/** Strings that are not, and do not contain, an expression. */
export const plainText = (maxLength = 24) => fc.string({ maxLength }).filter((s) => !s.includes('{%'));
export const nonEmptyText = (maxLength = 24) => fc.string({ minLength: 1, maxLength }).filter((s) => !s.includes('{%'));
/** JSON with no expression text anywhere. */
export const plainJson = (maxDepth = 2): fc.Arbitrary<Json> =>
  fc.jsonValue({ maxDepth }).filter((v) => !JSON.stringify(v).includes('{%')) as fc.Arbitrary<Json>;

// Every arbitrary drawn while building a flow is built once, here: fc.gen() caches arbitraries by
// their arguments, so building them per draw would cost more than the validation under test.
const A = {
  bool: fc.boolean(),
  nat: fc.nat({ max: 1 << 30 }),
  text12: plainText(12),
  text30: plainText(30),
  word12: nonEmptyText(12),
  word20: nonEmptyText(20),
  name: fc.stringMatching(/^[a-z][a-z0-9_-]{0,14}$/),
  xKey: fc.stringMatching(/^x-[a-z0-9_-]{1,10}$/),
  json1: plainJson(1),
  json2: plainJson(2),
  id: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,20}$/),
  paramName: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/),
  label: fc.stringMatching(/^[a-z][a-z_]{0,10}$/),
  metric: fc.stringMatching(/^[a-z_]{1,10}(\.[a-z0-9_]{1,6}){0,2}$/),
  ifPath: fc.stringMatching(/^[a-z_]{1,12}$/),
  endpoint: fc.stringMatching(/^\/[a-z0-9/_-]{0,20}$/),
  flowRef: fc.stringMatching(/^(\.\/)?[a-z][a-z0-9-]{0,12}\.json$/),
  double: fc.double({ noNaN: true, noDefaultInfinity: true }),
  positive: fc.oneof(fc.integer({ min: 1, max: 86_400 }), fc.double({ min: 0.001, max: 1e6, noNaN: true })),
  nonNegative: fc.oneof(fc.nat({ max: 100_000 }), fc.double({ min: 0, max: 1e7, noNaN: true })),
  seconds60: fc.double({ min: 0, max: 60, noNaN: true }),
  finite: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  date: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
  dict1: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_-]{0,14}$/), plainJson(1), { maxKeys: 2 }) as fc.Arbitrary<Json>,
};

/** Draws from fc.gen() through fixed arbitraries; every choice shrinks towards its first option. */
class Draw {
  constructor(private readonly g: fc.GeneratorValue) {}
  from<T>(arb: fc.Arbitrary<T>): T {
    return this.g(() => arb);
  }
  bool(): boolean {
    return this.from(A.bool);
  }
  int(min: number, max: number): number {
    return min + (this.from(A.nat) % (max - min + 1));
  }
  pick<T>(options: readonly T[]): T {
    return options[this.int(0, options.length - 1)]!;
  }
  maybe<T>(make: () => T): T | undefined {
    return this.bool() ? make() : undefined;
  }
  list<T>(min: number, max: number, make: (i: number) => T): T[] {
    return Array.from({ length: this.int(min, max) }, (_, i) => make(i));
  }
  /** Distinct values: a repeat is made unique with a suffix. */
  unique(min: number, max: number, arb: fc.Arbitrary<string>, suffix = (s: string, i: number) => `${s}_${i}`): string[] {
    const seen = new Set<string>();
    return this.list(min, max, (i) => {
      let value = this.from(arb);
      if (seen.has(value)) value = suffix(value, i);
      seen.add(value);
      return value;
    });
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** Optional x- annotations, which are allowed on every object of the format. */
function xKeys(d: Draw): Obj {
  if (d.int(0, 3) !== 3) return {};
  const out: Obj = {};
  for (const key of d.unique(1, 2, A.xKey)) out[key] = d.from(A.json1);
  return out;
}

/** Drops undefined members (optional keys left out). */
function compact(o: Record<string, Json | undefined>): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

interface Context {
  readonly ids: readonly string[];
  readonly params: readonly string[];
}

const EXPRESSIONS = [
  '{% $count($.items) > 0 %}',
  '{% $trigger.ref = "refs/heads/main" %}',
  '{% $exists($run.id) and $string($index) != "" %}',
  '{% $item.name & "-" & $string($index) %}',
  '{%\n  $.status in ["ok", "passed"]\n%}',
];

/** A valid JSONata expression that only reads declared params and existing nodes. */
function expression(d: Draw, ctx: Context): string {
  const kind = d.int(0, 2);
  if (kind === 1 && ctx.params.length > 0) return `{% $params.${d.pick(ctx.params)} %}`;
  if (kind === 2 && ctx.ids.length > 0) return `{% $nodes.\`${d.pick(ctx.ids)}\`.result %}`;
  return d.pick(EXPRESSIONS);
}

const inputs = (d: Draw, ctx: Context): Json =>
  d.bool()
    ? d.list(0, 3, () => d.from(A.name))
    : Object.fromEntries(d.unique(0, 3, A.name).map((k) => [k, d.bool() ? expression(d, ctx) : d.from(A.json1)]));

/** Extra parameters of the open-ended data schemas (function, external_api). */
function extraParams(d: Draw, reserved: string[]): Obj {
  const keys = d.unique(0, 3, A.name).filter((k) => !reserved.includes(k));
  return Object.fromEntries(keys.map((k) => [k, d.from(A.json2)]));
}

const agentTask = (d: Draw, ctx: Context): Obj =>
  compact({ agent: d.from(A.word20), task: d.from(A.word20), inputs: d.maybe(() => inputs(d, ctx)), ...xKeys(d) });

function gateValue(d: Draw, operator: string, ctx: Context): Json {
  switch (operator) {
    case 'in':
    case 'not_in':
      return d.bool() ? d.list(0, 3, () => d.from(A.json1)) : expression(d, ctx);
    case 'matches':
      return d.pick(['^release/', 'v\\d+\\.\\d+', '(staging|production)$', '.*']);
    case '>':
    case '>=':
    case '<':
    case '<=':
      return d.bool() ? d.from(A.double) : d.from(A.text12);
    default:
      return d.from(A.json1);
  }
}

export interface ConditionalShape {
  readonly form: 'gate' | 'router';
  readonly labels: readonly string[];
}

/** Valid data for a node of `type`; for a conditional, also which labels it produces. */
function nodeData(d: Draw, type: GenNodeType, ctx: Context): { data: Obj; shape?: ConditionalShape } {
  switch (type) {
    case 'webhook':
      return {
        data: compact({
          endpoint: d.maybe(() => d.from(A.endpoint)),
          method: d.maybe(() => d.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])),
          authentication: d.maybe(() => d.from(A.word20)),
          ...xKeys(d),
        }),
      };
    case 'function':
      return { data: compact({ ...extraParams(d, ['function', 'inputs']), function: d.from(A.word20), inputs: d.maybe(() => inputs(d, ctx)) }) };
    case 'conditional': {
      if (d.bool()) {
        const conditions = d.list(1, 3, () => {
          const operator = d.pick(GATE_OPERATORS);
          return compact({ metric: d.bool() ? d.from(A.metric) : expression(d, ctx), operator, value: gateValue(d, operator, ctx), ...xKeys(d) });
        });
        return {
          data: compact({ conditions, pass_action: d.maybe(() => d.from(A.word20)), fail_action: d.maybe(() => d.pick(['block_deployment', 'fail'])), ...xKeys(d) }),
          shape: { form: 'gate', labels: ['pass', 'fail', 'error'] },
        };
      }
      const thens = d.unique(1, 3, A.label, (s, i) => `${s}_${i}`);
      const conditions = thens.map((then) =>
        compact({ if: d.bool() ? d.from(A.ifPath) : expression(d, ctx), then, agents: d.maybe(() => d.list(0, 2, () => d.from(A.word12))) }),
      );
      return { data: compact({ conditions, ...xKeys(d) }), shape: { form: 'router', labels: [...thens, 'default', 'error'] } };
    }
    case 'parallel':
      return {
        // Each agent once: a parallel node's results are keyed by agent (DUPLICATE_AGENT).
        data: compact({ agents: d.list(1, 3, () => agentTask(d, ctx)).filter((t, i, all) => all.findIndex((u) => u.agent === t.agent) === i), on_failure: d.maybe(() => d.pick(['fail_fast', 'wait_all', 'continue'])), ...xKeys(d) }),
      };
    case 'agent':
      return { data: compact({ ...agentTask(d, ctx), parallel: d.maybe(() => d.bool()) }) };
    case 'human_approval': {
      const approvers = d.unique(1, 3, A.word12);
      return {
        data: compact({
          approvers,
          timeout: d.from(A.positive),
          required: d.maybe(() => d.int(1, approvers.length)),
          on_timeout: d.maybe(() => d.pick(['fail', 'approve'])),
          allow_self_approval: d.maybe(() => d.bool()),
          message: d.maybe(() => d.from(A.text30)),
          ...xKeys(d),
        }),
      };
    }
    case 'external_api':
      return {
        data: compact({
          ...extraParams(d, ['service', 'action', 'authentication']),
          service: d.pick(['github', 'slack', 'http', 'prometheus']),
          action: d.from(A.word20),
          authentication: d.maybe(() => d.from(A.word20)),
        }),
      };
    case 'wait': {
      const kind = d.int(0, 3);
      const value = kind === 0 ? d.from(A.nonNegative) : kind === 1 ? d.from(A.date).toISOString() : expression(d, ctx);
      return { data: { [kind === 0 || kind === 2 ? 'seconds' : 'until']: value, ...xKeys(d) } };
    }
    case 'schedule': {
      const when = d.bool()
        ? { cron: d.pick(['0 2 * * *', '*/10 * * * * *', '30 9 * * 1-5', '0 0 1 * *']), timezone: d.maybe(() => d.pick(['UTC', 'Europe/Berlin', 'America/New_York'])) }
        : { interval: d.int(1, 86_400) };
      return { data: compact({ ...when, catch_up: d.maybe(() => d.pick(['latest', 'all', 'none'])), start_at: d.maybe(() => d.from(A.date).toISOString()), ...xKeys(d) }) };
    }
    case 'subflow':
      return {
        data: compact({
          flow: d.from(A.flowRef),
          params: d.maybe(() => Object.fromEntries(d.unique(0, 2, A.name).map((k) => [k, d.bool() ? expression(d, ctx) : d.from(A.json1)]))),
          trigger: d.maybe(() => (d.bool() ? expression(d, ctx) : d.from(A.json1))),
          ...xKeys(d),
        }),
      };
  }
}

const retry = (d: Draw): Obj =>
  compact({
    max_attempts: d.maybe(() => d.int(1, 10)),
    backoff: d.maybe(() => d.pick(['fixed', 'exponential'])),
    initial_seconds: d.maybe(() => d.from(A.seconds60)),
    max_seconds: d.maybe(() => d.int(0, 3600)),
    jitter: d.maybe(() => d.bool()),
    ...xKeys(d),
  });

const NON_TRIGGER_TYPES = NODE_TYPE_LIST.filter((t) => t !== 'webhook' && t !== 'schedule');

/** Optional engine-level fields of the node envelope (DESIGN §2.1). */
function envelope(d: Draw, ctx: Context): Obj {
  if (d.bool()) return {};
  const out: Record<string, Json | undefined> = {};
  out.description = d.maybe(() => d.from(A.text30));
  out.timeout = d.maybe(() => d.from(A.positive));
  out.retry = d.maybe(() => retry(d));
  out.join = d.maybe(() => d.pick(['any', 'all']));
  out.when = d.maybe(() => (d.bool() ? d.bool() : expression(d, ctx)));
  if (d.bool()) {
    out.for_each = d.bool() ? d.list(0, 4, () => d.from(A.json1)) : expression(d, ctx);
    out.concurrency = d.maybe(() => d.int(1, 16));
  }
  out.output = d.maybe(() => (d.bool() ? expression(d, ctx) : { summary: expression(d, ctx), literal: d.from(A.json1) }));
  out.compensate = d.maybe(() => {
    if (d.bool()) return agentTask(d, ctx);
    const type = d.pick(NON_TRIGGER_TYPES);
    return compact({ type, data: nodeData(d, type, ctx).data, timeout: d.maybe(() => d.int(1, 600)), retry: d.maybe(() => retry(d)) });
  });
  return compact({ ...out, ...xKeys(d) });
}

const PARAM_DEFAULTS: Record<string, fc.Arbitrary<Json>> = {
  string: A.text12,
  number: A.finite,
  integer: fc.integer({ min: -1000, max: 1000 }),
  boolean: A.bool,
  object: A.dict1,
  array: fc.array(plainJson(1), { maxLength: 2 }),
};

/** A param spec with a default that fits its type, enum and range. */
function param(d: Draw): Obj {
  const type = d.pick(Object.keys(PARAM_DEFAULTS));
  const spec: Record<string, Json | undefined> = { type, description: d.maybe(() => d.from(A.text30)), required: d.maybe(() => d.bool()) };
  if (d.bool()) {
    const value = d.from(PARAM_DEFAULTS[type]!);
    spec.default = value;
    if (d.bool()) spec.enum = [value, ...d.list(0, 2, () => d.from(PARAM_DEFAULTS[type]!))];
    if (typeof value === 'number' && d.bool()) {
      spec.minimum = value - d.int(0, 100);
      spec.maximum = value + d.int(0, 100);
    }
  }
  return compact({ ...spec, ...xKeys(d) });
}

export interface FlowOptions {
  readonly minNodes?: number;
  readonly maxNodes?: number;
  /** List nodes and edges in a shuffled order rather than in generation (topological) order. */
  readonly shuffle?: boolean;
}

/** A valid flow: a random DAG with valid data, webhook-started or with plain start nodes. */
export function validFlow(options: FlowOptions = {}): fc.Arbitrary<GeneratedFlow> {
  const { minNodes = 1, maxNodes = 60, shuffle = true } = options;
  return fc.gen().map((g) => {
    const d = new Draw(g);
    const n = d.int(minNodes, maxNodes);
    const webhook = d.bool();
    const ids = Array.from({ length: n }, () => '');
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      let id = d.from(A.id);
      // A suffixed id can collide with one drawn earlier ("_" + "_3" is "__3"): suffix until free.
      for (let k = i; seen.has(id); k++) id = `${id}_${k}`;
      seen.add(id);
      ids[i] = id;
    }
    const params = d.unique(0, 4, A.paramName);
    const ctx: Context = { ids, params };
    const shapes: (ConditionalShape | undefined)[] = [];
    const nodes: Obj[] = ids.map((id, i) => {
      // The trigger: a webhook, or a schedule (a trigger on the clock).
      const type: GenNodeType = webhook && i === 0 ? (d.int(0, 3) === 0 ? 'schedule' : 'webhook') : d.pick(NON_TRIGGER_TYPES);
      const { data, shape } = nodeData(d, type, ctx);
      shapes.push(shape);
      return compact({ id, type, ...envelope(d, ctx), data });
    });

    const edges: Obj[] = [];
    const taken = new Set<string>();
    for (let to = 1; to < n; to++) {
      // With a webhook, every other node needs an edge in, so that the trigger reaches it.
      const count = d.int(webhook ? 1 : 0, Math.min(3, to));
      for (let k = 0; k < count; k++) {
        const from = to - 1 - d.int(0, to - 1);
        const shape = shapes[from];
        const labels = shape ? shape.labels : ['error'];
        const choice = d.int(0, labels.length + 1);
        const condition =
          choice === 0 ? undefined : choice <= labels.length ? labels[choice - 1] : d.pick(['{% $.ok = true %}', '{% $count($.failures) = 0 %}']);
        const key = `${from}\u0000${to}\u0000${condition ?? ''}`;
        if (taken.has(key)) continue;
        taken.add(key);
        edges.push(compact({ from: ids[from]!, to: ids[to]!, condition, ...xKeys(d) }));
      }
    }

    const stages = d.shuffle([...ids, '*']).slice(0, d.int(0, 4));
    const handlers = stages.map((stage) =>
      compact({
        stage,
        action: d.maybe(() => d.pick(['block_deployment', 'rollback', 'fail'])),
        notification: d.maybe(() => d.bool()),
        escalation: d.maybe(() => 'immediate'),
        message: d.maybe(() => d.from(A.text30)),
        ...xKeys(d),
      }),
    );

    const doc = compact({
      $schema: d.maybe(() => '../schemas/flow.schema.json'),
      name: d.from(A.word20),
      description: d.maybe(() => d.from(A.text30)),
      version: d.maybe(() => d.pick(['1.0', '2.3.1', 'draft'])),
      params: params.length > 0 || d.bool() ? Object.fromEntries(params.map((p) => [p, param(d)])) : undefined,
      nodes: shuffle ? d.shuffle(nodes) : nodes,
      edges: edges.length > 0 || d.bool() ? (shuffle ? d.shuffle(edges) : edges) : undefined,
      error_handlers: handlers.length > 0 ? handlers : undefined,
      ...xKeys(d),
    });
    return { doc, topo: ids, webhook };
  });
}
