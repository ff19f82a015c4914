/**
 * An oracle of the run semantics, written from DESIGN §3 and not from the engine's rules.ts:
 * which edges a terminal node takes (§3.3), what a node's input is (§3.1), whether a node runs
 * (§3.2), how each generated node ends given its script (§2.1 retry/timeout, §3.3 gates, §3.5
 * approvals), and the run's final status (§3.4). It reads the journal, never the engine's state.
 */
import type { ErrorInfo, JsonObject, JsonValue, RunEvent } from '@gantry/engine';
import { EXPR_OK, EXPR_SCORE, type BuiltFlow, type BuiltNode, type BuiltEdge, type NodeSpec } from './run-flow-arbitraries.js';

export type TerminalEvent = Extract<RunEvent, { type: 'node.succeeded' | 'node.failed' | 'node.skipped' }>;
export type StartedEvent = Extract<RunEvent, { type: 'node.started' }>;

/** The journal, indexed: per node, its terminal events and its starts (item events apart). */
export interface JournalView {
  readonly events: readonly RunEvent[];
  /** Every terminal event of the node as a whole, with its position. */
  readonly terminals: ReadonlyMap<string, readonly { readonly at: number; readonly event: TerminalEvent }[]>;
  /** Every node.started of the node as a whole (one per attempt), with its position. */
  readonly starts: ReadonlyMap<string, readonly { readonly at: number; readonly event: StartedEvent }[]>;
}

const isTerminalType = (e: RunEvent): e is TerminalEvent => e.type === 'node.succeeded' || e.type === 'node.failed' || e.type === 'node.skipped';

export function viewOf(events: readonly RunEvent[]): JournalView {
  const terminals = new Map<string, { at: number; event: TerminalEvent }[]>();
  const starts = new Map<string, { at: number; event: StartedEvent }[]>();
  events.forEach((e, at) => {
    if (isTerminalType(e) && e.item === undefined) (terminals.get(e.nodeId) ?? terminals.set(e.nodeId, []).get(e.nodeId)!).push({ at, event: e });
    if (e.type === 'node.started' && e.item === undefined) (starts.get(e.nodeId) ?? starts.set(e.nodeId, []).get(e.nodeId)!).push({ at, event: e });
  });
  return { events, terminals, starts };
}

export function terminalOf(view: JournalView, nodeId: string): TerminalEvent | undefined {
  return view.terminals.get(nodeId)?.[0]?.event;
}

/** Edge indexes the journal says the node took. */
export function recordedTaken(view: JournalView, nodeId: string): readonly number[] {
  const t = terminalOf(view, nodeId);
  return t === undefined || t.type === 'node.skipped' ? [] : (t.taken ?? []);
}

const asObject = (v: unknown): Record<string, JsonValue> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, JsonValue>) : {});

/**
 * What a terminal node hands its successors (§3.1, §3.3 "error"): a succeeded node its output;
 * a failed node whose error edge was taken the details of its failure.
 */
export function handedOn(view: JournalView, nodeId: string): JsonValue | undefined {
  const t = terminalOf(view, nodeId);
  if (t?.type === 'node.succeeded') return t.output as JsonValue;
  if (t?.type === 'node.failed' && (t.taken?.length ?? 0) > 0) return { error: t.error as unknown as JsonValue };
  return undefined;
}

/** §3.1: the shallow merge of the outputs behind the taken incoming edges, in edge order. */
export function expectedInput(flow: BuiltFlow, view: JournalView, nodeId: string): JsonObject {
  const input: JsonObject = {};
  for (const edge of flow.incoming.get(nodeId)!) {
    if (!recordedTaken(view, edge.from).includes(edge.index)) continue;
    const out = handedOn(view, edge.from);
    if (Array.isArray(out)) input.items = out;
    else Object.assign(input, asObject(out));
  }
  return input;
}

/** §3.3 gate operators, for the metrics and values the generator uses. A missing metric fails. */
export function checkHolds(actual: JsonValue | undefined, op: string, expected: JsonValue): boolean {
  if (actual === undefined || actual === null) return false;
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '>=':
      return typeof actual === 'number' && typeof expected === 'number' && actual >= expected;
    case '<':
      return typeof actual === 'number' && typeof expected === 'number' && actual < expected;
  }
  throw new Error(`oracle: operator ${op} is not modelled`);
}

function gateConditionOf(check: NodeSpec['checks'][number]): { metric: string; op: string; value: JsonValue } {
  if (check.metric === 'ok') return { metric: 'ok', op: check.op === '!=' ? '!=' : '=', value: check.flag };
  return { metric: check.metric, op: check.op, value: check.num * 10 };
}

export function gatePasses(node: BuiltNode, input: JsonObject): boolean {
  return node.spec.checks.every((c) => {
    const { metric, op, value } = gateConditionOf(c);
    return checkHolds(input[metric], op, value);
  });
}

/** JSONata's view of the two expressions the generator writes. */
export function expressionHolds(expression: string, value: JsonValue | undefined): boolean {
  const o = asObject(value);
  if (expression === EXPR_OK) return o.ok === true;
  if (expression === EXPR_SCORE) return typeof o.score === 'number' && o.score >= 50;
  throw new Error(`oracle: expression ${expression} is not modelled`);
}

/** §3.3 router form: the `then` of every `if` that holds, once each, in condition order. */
export function routerLabels(node: BuiltNode, input: JsonObject): string[] {
  const labels: string[] = [];
  node.spec.routes.forEach((route, i) => {
    const holds =
      route.if === 'expr' ? expressionHolds(EXPR_SCORE, input) : route.if === 'missing' ? false : Boolean(input[route.if]);
    if (holds && !labels.includes(node.thens[i]!)) labels.push(node.thens[i]!);
  });
  return labels;
}

/** The labels a succeeded conditional selects, or undefined for other nodes. */
export function expectedLabels(node: BuiltNode, input: JsonObject): string[] | undefined {
  if (node.spec.kind === 'gate') return [gatePasses(node, input) ? 'pass' : 'fail'];
  if (node.spec.kind === 'router') return routerLabels(node, input);
  return undefined;
}

const hasLabelEdge = (flow: BuiltFlow, nodeId: string, label: string) => flow.outgoing.get(nodeId)!.some((e) => e.condition === label);

/** §3.3: whether `edge` is taken out of a node that ended as `terminal`. */
export function edgeTaken(flow: BuiltFlow, edge: BuiltEdge, terminal: TerminalEvent, input: JsonObject): boolean {
  if (terminal.type === 'node.skipped') return false; // §3.2: a skipped node takes none
  if (terminal.type === 'node.failed') return edge.condition === 'error'; // a catch route, and only that
  const node = flow.byId.get(edge.from)!;
  const labels = expectedLabels(node, input) ?? [];
  const router = node.spec.kind === 'router';
  const c = edge.condition;
  if (c === undefined) return router && node.thens.includes(edge.to) ? labels.includes(edge.to) : true;
  if (c === 'error') return false;
  if (c === 'default') return router && labels.length === 0;
  if (c.startsWith('{%')) return expressionHolds(c, terminal.output as JsonValue);
  return labels.includes(c);
}

export function expectedTaken(flow: BuiltFlow, view: JournalView, nodeId: string): number[] {
  const terminal = terminalOf(view, nodeId);
  if (terminal === undefined) return [];
  const input = expectedInput(flow, view, nodeId);
  return flow.outgoing.get(nodeId)!.filter((e) => edgeTaken(flow, e, terminal, input)).map((e) => e.index);
}

/** §3.2: the join of a node whose predecessors are all terminal, from the edges they took. */
export function joinHolds(flow: BuiltFlow, view: JournalView, node: BuiltNode): boolean {
  const incoming = flow.incoming.get(node.id)!;
  if (incoming.length === 0) return true;
  const taken = incoming.filter((e) => recordedTaken(view, e.from).includes(e.index)).length;
  return node.spec.join === 'all' ? taken === incoming.length : taken > 0;
}

export function whenHolds(node: BuiltNode, input: JsonObject): boolean {
  const when = node.spec.when;
  if (when === undefined) return true;
  if (typeof when === 'boolean') return when;
  return expressionHolds(EXPR_OK, input);
}

export interface Scripted {
  readonly status: 'succeeded' | 'failed';
  readonly code?: string;
  /** Attempts of the node as a whole (undefined for for_each nodes, whose items retry alone). */
  readonly attempts?: number;
}

type AttemptResult = { ok: true } | { ok: false; code: string; retryable: boolean };

/** How one attempt of a node ends, from its script (every attempt of a node behaves alike, but for failTimes). */
function attemptOf(node: BuiltNode, attempt: number, flow: BuiltFlow, input: JsonObject): AttemptResult {
  const s = node.spec;
  const timeoutMs = s.timeout === undefined ? Infinity : s.timeout * 1000;
  switch (s.kind) {
    case 'probe':
      if (s.delay > 0 && timeoutMs < s.delay) return { ok: false, code: 'TIMEOUT', retryable: true };
      if (attempt <= s.failTimes) return { ok: false, code: 'AGENT_FAILED', retryable: s.retryable };
      return { ok: true };
    case 'wait':
      return s.waitSeconds > 0 && timeoutMs < s.waitSeconds * 1000 ? { ok: false, code: 'TIMEOUT', retryable: true } : { ok: true };
    case 'gate':
      // §3.3: a fail with no fail edge fails the node, unless fail_action is block_deployment.
      if (!gatePasses(node, input) && !hasLabelEdge(flow, node.id, 'fail') && s.failAction !== 'block_deployment') {
        return { ok: false, code: 'GATE_FAILED', retryable: false };
      }
      return { ok: true };
    case 'router':
      return { ok: true };
    case 'approval': {
      // §3.5: whichever comes first — the node's timeout, the decision, the deadline.
      const decision = s.decideAfter === undefined ? Infinity : s.decideAfter * 1000;
      const deadline = s.approvalTimeout * 1000;
      if (timeoutMs < Math.min(decision, deadline)) return { ok: false, code: 'TIMEOUT', retryable: true };
      if (decision < deadline) return s.reject ? { ok: false, code: 'APPROVAL_REJECTED', retryable: false } : { ok: true };
      return s.onTimeout === 'approve' ? { ok: true } : { ok: false, code: 'APPROVAL_TIMEOUT', retryable: false };
    }
  }
}

/** §2.1: attempts until one succeeds, or the error is not retryable, or max_attempts is reached. */
export function scriptedOutcome(flow: BuiltFlow, view: JournalView, node: BuiltNode): Scripted {
  const input = expectedInput(flow, view, node.id);
  const max = node.spec.retry === undefined ? 1 : node.spec.retry.attempts;
  if (node.spec.kind === 'probe' && node.spec.forEach === 0) return { status: 'succeeded' };
  for (let attempt = 1; ; attempt++) {
    const result = attemptOf(node, attempt, flow, input);
    const forEach = node.spec.kind === 'probe' && node.spec.forEach !== undefined;
    if (result.ok) return { status: 'succeeded', ...(forEach ? {} : { attempts: attempt }) };
    if (!result.retryable || attempt >= max) return { status: 'failed', code: result.code, ...(forEach ? {} : { attempts: attempt }) };
  }
}

/** The action of the error handler for `nodeId` (§3.4: its stage, else "*", else none: fail). */
export function handlerAction(flow: BuiltFlow, nodeId: string): 'fail' | 'block_deployment' | 'rollback' {
  return flow.handlers.get(nodeId) ?? flow.handlers.get('*') ?? 'fail';
}

/**
 * §3.3/§3.4: the final status the journal implies. The first unhandled failure whose handler
 * stops the run decides (`failed`, or `rolled_back` unless a compensation failed); otherwise a
 * blocking gate or a block_deployment handler makes it `blocked`; otherwise `succeeded`.
 */
export function expectedFinalStatus(flow: BuiltFlow, events: readonly RunEvent[]): string {
  let blocked = false;
  for (const e of events) {
    if (e.type === 'node.succeeded' && e.item === undefined && e.blocked) blocked = true;
    if (e.type !== 'node.failed' || e.item !== undefined || (e.taken?.length ?? 0) > 0) continue;
    const action = handlerAction(flow, e.nodeId);
    if (action === 'block_deployment') blocked = true;
    else if (action === 'fail') return 'failed';
    else return events.some((x) => x.type === 'compensation.failed') ? 'failed' : 'rolled_back';
  }
  return blocked ? 'blocked' : 'succeeded';
}

export function errorOf(t: TerminalEvent | undefined): ErrorInfo | undefined {
  return t?.type === 'node.failed' ? t.error : undefined;
}
