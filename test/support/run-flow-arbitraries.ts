/**
 * fast-check arbitraries for *runnable* flows, for the engine's property tests: random DAGs of
 * `probe` nodes (controlled latency and failures on the fake clock), gates, routers, waits and
 * human approvals, with join any/all, `when`, `retry`, `timeout`, `for_each`, `compensate`, edge
 * labels and expressions, and error handlers.
 *
 * A generated value is a plain {@link FlowSpec} (so that a counterexample can be pasted back as
 * an `examples` entry); {@link buildFlow} turns it into the flow document and the scripts the
 * oracle needs. Times are chosen so that no two deadlines can fall on the same millisecond:
 * latencies are multiples of 500 ms, waits and approval deadlines whole seconds, node timeouts
 * end in .75 s and approval decisions in .5 s after the request.
 */
import fc from 'fast-check';

export type Kind = 'probe' | 'gate' | 'router' | 'wait' | 'approval';
export type Metric = 'score' | 'ok' | 'missing';
export type GateOp = '>=' | '<' | '=' | '!=';
export type RouteIf = 'ok' | 'score' | 'missing' | 'expr';

export interface NodeSpec {
  readonly kind: Kind;
  /** With no edge in, get an unconditioned one from the nearest probe before (so that conditionals see data). */
  readonly attach: boolean;
  readonly join: 'any' | 'all' | undefined;
  readonly when: boolean | 'ok' | undefined;
  readonly retry: { readonly attempts: number; readonly initial: number; readonly backoff: 'fixed' | 'exponential'; readonly jitter: boolean } | undefined;
  /** Seconds (always x.75). */
  readonly timeout: number | undefined;
  // probe
  readonly delay: number;
  /** Attempts 1..failTimes fail. */
  readonly failTimes: number;
  readonly retryable: boolean;
  readonly ok: boolean;
  /** Tens: the output's score is score × 10. */
  readonly score: number;
  readonly forEach: number | undefined;
  readonly concurrency: number;
  readonly compensate: 'ok' | 'fail' | undefined;
  // gate
  readonly checks: readonly { readonly metric: Metric; readonly op: GateOp; readonly num: number; readonly flag: boolean }[];
  readonly failAction: 'block_deployment' | 'fail' | undefined;
  // router: then 0 = "blue", 1 = "green", k ≥ 2 = the id of a later node
  readonly routes: readonly { readonly if: RouteIf; readonly then: number }[];
  // approval
  readonly approvalTimeout: number;
  readonly onTimeout: 'approve' | 'fail' | undefined;
  /** Seconds after the request at which "lead" decides (x.5, or 0: in the request's listener), or never. */
  readonly decideAfter: number | undefined;
  readonly reject: boolean;
  // wait
  readonly waitSeconds: number;
}

export interface EdgeSpec {
  readonly from: number;
  readonly to: number;
  /** Index into the conditions the source can produce; 0 = unconditioned. */
  readonly cond: number;
}

export interface HandlerSpec {
  readonly stage: number | '*';
  readonly action: 'fail' | 'block_deployment' | 'rollback';
  readonly notification: boolean;
}

export interface FlowSpec {
  readonly nodes: readonly NodeSpec[];
  readonly edges: readonly EdgeSpec[];
  readonly handlers: readonly HandlerSpec[];
}

export const EXPR_OK = '{% $.ok = true %}';
export const EXPR_SCORE = '{% $.score >= 50 %}';
export const APPROVER = 'lead';
/** The module agent that compensations call: task `undo` succeeds, task `fail` fails. */
export const UNDO_AGENT = 'undo';

const maybe = <T>(arb: fc.Arbitrary<T>, weightUndefined = 3): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: weightUndefined, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const nodeSpec: fc.Arbitrary<NodeSpec> = fc.record({
  kind: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Kind>('probe') },
    { weight: 2, arbitrary: fc.constant<Kind>('gate') },
    { weight: 2, arbitrary: fc.constant<Kind>('router') },
    { weight: 1, arbitrary: fc.constant<Kind>('wait') },
    { weight: 1, arbitrary: fc.constant<Kind>('approval') },
  ),
  attach: fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: 3, arbitrary: fc.constant(true) }),
  join: maybe(fc.constantFrom<'any' | 'all'>('any', 'all'), 1),
  when: maybe(fc.constantFrom<boolean | 'ok'>(true, false, 'ok'), 4),
  retry: maybe(
    fc.record({ attempts: fc.integer({ min: 1, max: 3 }), initial: fc.constantFrom(0, 1, 2), backoff: fc.constantFrom<'fixed' | 'exponential'>('fixed', 'exponential'), jitter: fc.boolean() }),
    2,
  ),
  timeout: maybe(fc.constantFrom(0.75, 1.75, 2.75), 4),
  delay: fc.constantFrom(0, 500, 1000, 1500, 2000, 3000),
  failTimes: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  retryable: fc.boolean(),
  ok: fc.boolean(),
  score: fc.integer({ min: 0, max: 10 }),
  forEach: maybe(fc.integer({ min: 0, max: 3 }), 5),
  concurrency: fc.integer({ min: 1, max: 2 }),
  compensate: maybe(fc.constantFrom<'ok' | 'fail'>('ok', 'fail'), 2),
  checks: fc.array(
    fc.record({
      metric: fc.oneof({ weight: 4, arbitrary: fc.constant<Metric>('score') }, { weight: 3, arbitrary: fc.constant<Metric>('ok') }, { weight: 1, arbitrary: fc.constant<Metric>('missing') }),
      op: fc.constantFrom<GateOp>('>=', '<', '=', '!='),
      num: fc.integer({ min: 0, max: 10 }),
      flag: fc.boolean(),
    }),
    { minLength: 1, maxLength: 2, depthIdentifier: 'checks' },
  ),
  failAction: maybe(fc.constantFrom<'block_deployment' | 'fail'>('block_deployment', 'fail'), 2),
  routes: fc.array(fc.record({ if: fc.constantFrom<RouteIf>('ok', 'score', 'missing', 'expr'), then: fc.nat(4) }), { minLength: 1, maxLength: 3 }),
  approvalTimeout: fc.integer({ min: 1, max: 3 }),
  onTimeout: maybe(fc.constantFrom<'approve' | 'fail'>('approve', 'fail'), 2),
  decideAfter: maybe(fc.constantFrom(0, 0.5, 1.5, 2.5, 3.5), 1),
  reject: fc.boolean(),
  waitSeconds: fc.integer({ min: 0, max: 2 }),
});

const edgeSpec: fc.Arbitrary<EdgeSpec> = fc.record({
  from: fc.nat(7),
  to: fc.nat(7),
  cond: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.nat(9) }),
});

const handlerSpec: fc.Arbitrary<HandlerSpec> = fc.record({
  stage: fc.oneof({ weight: 3, arbitrary: fc.nat(7) }, { weight: 1, arbitrary: fc.constant<'*'>('*') }),
  action: fc.constantFrom<HandlerSpec['action']>('fail', 'block_deployment', 'rollback'),
  notification: fc.boolean(),
});

/** A runnable flow of 1 to `maxNodes` nodes. */
export function flowSpec(options: { maxNodes?: number; maxEdges?: number } = {}): fc.Arbitrary<FlowSpec> {
  const { maxNodes = 7, maxEdges = 14 } = options;
  return fc.record({
    // The first node is a probe that succeeds, so that the conditionals after it have data to decide on.
    nodes: fc
      .tuple(nodeSpec.map((n): NodeSpec => ({ ...n, kind: 'probe', failTimes: 0, timeout: undefined, when: undefined })), fc.array(nodeSpec, { maxLength: maxNodes - 1 }))
      .map(([first, rest]) => [first, ...rest]),
    edges: fc.array(edgeSpec, { maxLength: maxEdges }),
    handlers: fc.array(handlerSpec, { maxLength: 3 }),
  });
}

// ---------------------------------------------------------------------------------------------

/** One node of a built flow: its id, its spec, and what the oracle needs to know about it. */
export interface BuiltNode {
  readonly id: string;
  readonly index: number;
  readonly spec: NodeSpec;
  /** Router: the resolved `then` labels, in condition order. */
  readonly thens: readonly string[];
}

export interface BuiltEdge {
  /** Position in the flow's `edges`, which is the engine's edge index. */
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly condition: string | undefined;
}

export interface BuiltFlow {
  readonly spec: FlowSpec;
  readonly doc: Record<string, unknown>;
  readonly nodes: readonly BuiltNode[];
  readonly byId: ReadonlyMap<string, BuiltNode>;
  readonly edges: readonly BuiltEdge[];
  readonly incoming: ReadonlyMap<string, readonly BuiltEdge[]>;
  readonly outgoing: ReadonlyMap<string, readonly BuiltEdge[]>;
  /** stage → action, as listed (first entry per stage wins). */
  readonly handlers: ReadonlyMap<string, HandlerSpec['action']>;
}

const idOf = (i: number) => `n${i}`;

/** The conditions an edge out of `source` may carry (index 0: none). */
export function conditionsOf(source: BuiltNode): (string | undefined)[] {
  const exprs = source.spec.kind === 'probe' && source.spec.forEach !== undefined ? [] : [EXPR_OK, EXPR_SCORE];
  switch (source.spec.kind) {
    case 'gate':
      return [undefined, 'pass', 'fail', 'error', ...exprs];
    case 'router':
      return [undefined, ...new Set(source.thens), 'default', 'error', ...exprs];
    default:
      return [undefined, 'error', ...exprs];
  }
}

function gateCondition(check: NodeSpec['checks'][number]): Record<string, unknown> {
  if (check.metric === 'ok') return { metric: 'ok', operator: check.op === '!=' ? '!=' : '=', value: check.flag };
  return { metric: check.metric, operator: check.op, value: check.num * 10 };
}

export const routeIf = (r: RouteIf): string => (r === 'expr' ? EXPR_SCORE : r);

function nodeDoc(node: BuiltNode): Record<string, unknown> {
  const s = node.spec;
  const envelope: Record<string, unknown> = {};
  if (s.join !== undefined) envelope.join = s.join;
  if (s.when !== undefined) envelope.when = s.when === 'ok' ? EXPR_OK : s.when;
  if (s.retry !== undefined) {
    envelope.retry = { max_attempts: s.retry.attempts, backoff: s.retry.backoff, initial_seconds: s.retry.initial, max_seconds: 4, jitter: s.retry.jitter };
  }
  if (s.timeout !== undefined) envelope.timeout = s.timeout;
  switch (s.kind) {
    case 'probe': {
      if (s.forEach !== undefined) {
        envelope.for_each = Array.from({ length: s.forEach }, (_, i) => i);
        envelope.concurrency = s.concurrency;
      }
      if (s.compensate !== undefined) {
        // A custom type as the compensation body is refused by the validator (see the finding in
        // engine.prop.test.ts), so compensations call the test's `undo` agent.
        envelope.compensate = { agent: UNDO_AGENT, task: s.compensate === 'fail' ? 'fail' : 'undo' };
      }
      return { id: node.id, type: 'probe', ...envelope, data: { delay_ms: s.delay, fail_times: s.failTimes, retryable: s.retryable, ok: s.ok, score: s.score * 10 } };
    }
    case 'gate':
      return {
        id: node.id,
        type: 'conditional',
        ...envelope,
        data: { conditions: s.checks.map(gateCondition), ...(s.failAction === undefined ? {} : { fail_action: s.failAction }) },
      };
    case 'router':
      return { id: node.id, type: 'conditional', ...envelope, data: { conditions: s.routes.map((r, i) => ({ if: routeIf(r.if), then: node.thens[i] })) } };
    case 'wait':
      return { id: node.id, type: 'wait', ...envelope, data: { seconds: s.waitSeconds } };
    case 'approval':
      return {
        id: node.id,
        type: 'human_approval',
        ...envelope,
        data: { approvers: [APPROVER], timeout: s.approvalTimeout, ...(s.onTimeout === undefined ? {} : { on_timeout: s.onTimeout }) },
      };
  }
}

/** The flow document of a spec, with everything the oracle needs resolved. */
export function buildFlow(spec: FlowSpec): BuiltFlow {
  const n = spec.nodes.length;
  const nodes: BuiltNode[] = spec.nodes.map((s, i) => ({
    id: idOf(i),
    index: i,
    spec: s,
    thens: s.kind === 'router' ? s.routes.map((r) => (r.then === 0 ? 'blue' : r.then === 1 || i + r.then - 1 >= n ? 'green' : idOf(i + r.then - 1))) : [],
  }));
  const edges: BuiltEdge[] = [];
  const seen = new Set<string>();
  for (const e of spec.edges) {
    const a = e.from % n;
    const b = e.to % n;
    if (a === b) continue;
    const [from, to] = a < b ? [nodes[a]!, nodes[b]!] : [nodes[b]!, nodes[a]!];
    const options = conditionsOf(from);
    const condition = options[e.cond % options.length];
    const key = `${from.id}>${to.id}>${condition ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ index: edges.length, from: from.id, to: to.id, condition });
  }
  for (const node of nodes) {
    if (node.index === 0 || !node.spec.attach || edges.some((e) => e.to === node.id)) continue;
    const probe = nodes.slice(0, node.index).reverse().find((x) => x.spec.kind === 'probe')!;
    edges.push({ index: edges.length, from: probe.id, to: node.id, condition: undefined });
  }
  const handlers = new Map<string, HandlerSpec['action']>();
  const handlerDocs: Record<string, unknown>[] = [];
  for (const h of spec.handlers) {
    const stage = h.stage === '*' ? '*' : idOf(h.stage % n);
    if (handlers.has(stage)) continue;
    handlers.set(stage, h.action);
    handlerDocs.push({ stage, action: h.action, ...(h.notification ? { notification: true } : {}) });
  }
  const incoming = new Map<string, BuiltEdge[]>(nodes.map((x) => [x.id, []]));
  const outgoing = new Map<string, BuiltEdge[]>(nodes.map((x) => [x.id, []]));
  for (const edge of edges) {
    incoming.get(edge.to)!.push(edge);
    outgoing.get(edge.from)!.push(edge);
  }
  const doc = {
    name: 'generated',
    nodes: nodes.map(nodeDoc),
    edges: edges.map((e) => ({ from: e.from, to: e.to, ...(e.condition === undefined ? {} : { condition: e.condition }) })),
    ...(handlerDocs.length > 0 ? { error_handlers: handlerDocs } : {}),
  };
  return { spec, doc, nodes, byId: new Map(nodes.map((x) => [x.id, x])), edges, incoming, outgoing, handlers };
}

/** The plainest node of each field (what fast-check shrinks towards): for hand-written examples. */
const plainNode: NodeSpec = {
  kind: 'probe',
  attach: false,
  join: undefined,
  when: undefined,
  retry: undefined,
  timeout: undefined,
  delay: 0,
  failTimes: 0,
  retryable: false,
  ok: false,
  score: 0,
  forEach: undefined,
  concurrency: 1,
  compensate: undefined,
  checks: [{ metric: 'score', op: '>=', num: 0, flag: false }],
  failAction: undefined,
  routes: [{ if: 'ok', then: 0 }],
  approvalTimeout: 1,
  onTimeout: undefined,
  decideAfter: undefined,
  reject: false,
  waitSeconds: 0,
};
export const PLAIN_NODE: NodeSpec = Object.freeze(plainNode);

/** A node spec for an example: the plain node with some fields set. */
export const node = (fields: Partial<NodeSpec> = {}): NodeSpec => ({ ...PLAIN_NODE, ...fields });
