import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { ApprovalDecidedEvent, ErrorInfo, RunEvent, RunStartedEvent, RunStatus } from './events.js';

export type NodeStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped';

export interface NodeState {
  status: NodeStatus;
  attempt: number;
  input?: JsonObject;
  output?: JsonObject | JsonValue[];
  error?: ErrorInfo;
  startedAt?: number;
  finishedAt?: number;
  /** Outgoing edge indexes taken when the node ended. */
  taken?: readonly number[];
  labels?: readonly string[];
  skipReason?: string;
  /** for_each items that succeeded, by index. */
  items?: Map<number, JsonValue>;
  /** The last attempt started of each for_each item, by index. */
  itemAttempts?: Map<number, number>;
  waitingOn?: { kind: 'approval' | 'timer'; until: number };
  decisions?: ApprovalDecidedEvent[];
  /** Its approval as last requested (kept after the node ends). */
  approval?: { approvers: readonly string[]; required: number; deadline: number };
  /** Its approval's deadline passed (kept after it ends, so a late decision is told it expired). */
  approvalExpired?: boolean;
  compensation?: 'running' | 'succeeded' | 'failed';
  /** Its success (a gate's fail_action block_deployment) makes the run end blocked. */
  blocksRun?: true;
  /** Attempts made before the run was last retried: its retry policy counts from there. */
  attemptsBefore?: number;
  /** The same, per for_each item. */
  itemAttemptsBefore?: ReadonlyMap<number, number>;
}

/**
 * A run's state, rebuilt from its journal by {@link applyEvent} alone: nothing else writes it.
 * The fold mutates in place (one event is O(1), so a 10,000-node run is not O(n²)) but reads
 * no clock, no randomness and does no I/O, so the same journal always gives the same state.
 */
export interface RunState {
  readonly runId: string;
  started?: RunStartedEvent;
  status: RunStatus;
  startedAt: number;
  finishedAt?: number;
  nodes: Map<string, NodeState>;
  /**
   * `$nodes` for expressions: id → output of every succeeded node (and `{ error }` of a failed
   * node whose error edge was taken), in the order they ended. Made when first read (by the first
   * expression the run evaluates), then kept up to date by the fold: a run that evaluates no
   * expression does not pay for an object of one key per node, which V8 keeps as a hash table and
   * which cost a tenth of a 10-node run. A getter: a spread or a structuredClone of a RunState
   * does not carry it.
   */
  readonly outputs: Record<string, JsonValue>;
  /** Every edge taken so far, by index. */
  takenEdges: EdgeSet;
  /** Succeeded nodes in completion order, for rollback. */
  completed: string[];
  blocked: boolean;
  /** Failed attempts retried so far, by node path (`id`, `id[3]`): names a node's timers and sub-flow runs the same way after a restart. */
  retries: Map<string, number>;
  /** Nodes whose failure notification has been sent. */
  notified: Set<string>;
  /** Timers that have fired, by id: a timer fires once, after a restart too. */
  firedTimers: Set<string>;
  /** Timers set and not yet fired, by id. */
  timers: Map<string, { nodeId: string; fireAt: number; purpose: string; attempt: number; item?: number }>;
  output?: JsonObject;
  error?: ErrorInfo;
  events: number;
  /** Bytes of log lines the run has kept (node.log): its bound counts from here after a restart. */
  logBytes?: number;
}

const NO_BITS = new Uint8Array(0);

/**
 * A set of edge indexes as a growable bitmap: `has` and `add` are an array access. A run adds
 * every edge it takes (a layered graph of 10,000 nodes takes 100,000), so a hashed Set showed.
 * Iterates in index order.
 */
export class EdgeSet implements Iterable<number> {
  /** Made on the first add: a typed array costs a buffer and two objects, which a 10-node run feels. */
  private bits = NO_BITS;
  /** How many edges are in the set. */
  size = 0;

  has(edge: number): boolean {
    return this.bits[edge] === 1;
  }

  add(edge: number): this {
    if (edge >= this.bits.length) {
      const grown = new Uint8Array(Math.max(edge + 1, this.bits.length * 2, 16));
      grown.set(this.bits);
      this.bits = grown;
    }
    if (this.bits[edge] === 0) {
      this.bits[edge] = 1;
      this.size++;
    }
    return this;
  }

  delete(edge: number): void {
    if (this.bits[edge] !== 1) return;
    this.bits[edge] = 0;
    this.size--;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let edge = 0; edge < this.bits.length; edge++) if (this.bits[edge] === 1) yield edge;
  }
}

/**
 * The empty collections a run starts with, shared: most runs never retry, set a timer or send a
 * notification, and a 10-node run should not pay for four of its own. They refuse writes; the
 * fold gives the run its own collection on its first write.
 */
class NoEntries extends Map<never, never> {
  override set(): never {
    throw new GantryError('INTERNAL', 'a run state is written by applyEvent alone, which gives the run its own collection first', { retryable: false });
  }
}
class NoMembers extends Set<never> {
  override add(): never {
    throw new GantryError('INTERNAL', 'a run state is written by applyEvent alone, which gives the run its own collection first', { retryable: false });
  }
}
const NO_ENTRIES: Map<never, never> = new NoEntries();
const NO_MEMBERS: Set<never> = new NoMembers();

/** Every field set in the constructor, in one order: every run's state has one shape. */
class FoldedState implements RunState {
  started: RunStartedEvent | undefined = undefined;
  status: RunStatus = 'running';
  startedAt = 0;
  finishedAt: number | undefined = undefined;
  nodes = new Map<string, NodeState>();
  takenEdges = new EdgeSet();
  completed: string[] = [];
  blocked = false;
  retries: Map<string, number> = NO_ENTRIES;
  notified: Set<string> = NO_MEMBERS;
  firedTimers: Set<string> = NO_MEMBERS;
  timers: RunState['timers'] = NO_ENTRIES;
  output: JsonObject | undefined = undefined;
  error: ErrorInfo | undefined = undefined;
  events = 0;
  logBytes = 0;
  /** Failed nodes whose error edge was taken, each after how many of `completed`: with it, the order outputs were made in. */
  #routed: { readonly nodeId: string; readonly after: number }[] | undefined = undefined;
  /** `outputs` once read. */
  #outputs: Record<string, JsonValue> | undefined = undefined;

  constructor(readonly runId: string) {}

  get outputs(): Record<string, JsonValue> {
    if (this.#outputs !== undefined) return this.#outputs;
    const outputs: Record<string, JsonValue> = {};
    const routed = this.#routed ?? [];
    let r = 0;
    for (let i = 0; i <= this.completed.length; i++) {
      for (; r < routed.length && routed[r]!.after === i; r++) outputs[routed[r]!.nodeId] = passedOn(this.nodes.get(routed[r]!.nodeId)!);
      if (i < this.completed.length) outputs[this.completed[i]!] = passedOn(this.nodes.get(this.completed[i]!)!);
    }
    return (this.#outputs = outputs);
  }

  /** A node's output was made (it succeeded, or failed and took an error edge): `outputs`, if it has been read, gets it. */
  produced(nodeId: string, output: JsonValue, routed: boolean): void {
    if (routed) (this.#routed ??= []).push({ nodeId, after: this.completed.length });
    if (this.#outputs !== undefined) this.#outputs[nodeId] = output;
  }

  /** The run was retried: these nodes' outputs are gone, and `outputs` is made again when next read. */
  forget(nodeIds: ReadonlySet<string>): void {
    const completed = this.completed;
    const kept = completed.filter((id) => !nodeIds.has(id));
    // A routed failure's place counts the completions before it: count the kept ones instead.
    this.#routed = this.#routed
      ?.filter((r) => !nodeIds.has(r.nodeId))
      .map((r) => ({ nodeId: r.nodeId, after: completed.slice(0, r.after).filter((id) => !nodeIds.has(id)).length }));
    this.completed = kept;
    this.#outputs = undefined;
  }
}

/** The fold's way to forget outputs: a state it did not make has a plain `outputs` object. */
function forget(state: RunState, nodeIds: ReadonlySet<string>): void {
  if (state instanceof FoldedState) return state.forget(nodeIds);
  state.completed = state.completed.filter((id) => !nodeIds.has(id));
  for (const id of nodeIds) delete (state.outputs as Record<string, JsonValue>)[id];
}

/**
 * run.retried: the listed nodes go back to pending, keeping their attempt count (the next
 * attempt follows it) and a compensation already made (it is not made again); each counts one
 * more retry, so that its timers and sub-flow runs are new ones; the run is running again.
 */
function retried(state: RunState, nodeIds: readonly string[]): void {
  const reset = new Set(nodeIds);
  forget(state, reset);
  for (const id of reset) {
    const n = state.nodes.get(id);
    if (n === undefined) continue;
    for (const edge of n.taken ?? []) state.takenEdges.delete(edge);
    // Items that had not succeeded are tried again as new attempts, with new timers and sub-flow runs.
    for (const item of n.itemAttempts?.keys() ?? []) if (!n.items?.has(item)) countRetry(state, `${id}[${item}]`);
    countRetry(state, id);
    if (state.notified.has(id)) state.notified.delete(id);
    for (const [timerId, timer] of state.timers) if (timer.nodeId === id) state.timers.delete(timerId);
    Object.assign(n, {
      status: 'pending',
      output: undefined,
      error: undefined,
      taken: undefined,
      labels: undefined,
      skipReason: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      waitingOn: undefined,
      decisions: undefined,
      approval: undefined,
      approvalExpired: undefined,
      blocksRun: undefined,
      attemptsBefore: n.attempt,
      itemAttemptsBefore: n.itemAttempts === undefined ? undefined : new Map(n.itemAttempts),
    } satisfies Partial<NodeState>);
  }
  state.blocked = [...state.nodes.values()].some((n) => n.blocksRun === true);
  state.status = 'running';
  state.finishedAt = undefined;
  state.output = undefined;
  state.error = undefined;
}

function countRetry(state: RunState, path: string): void {
  if (state.retries === NO_ENTRIES) state.retries = new Map();
  state.retries.set(path, (state.retries.get(path) ?? 0) + 1);
}

/** The fold's way to `outputs`: a state it did not make (one built by hand) has a plain `outputs` object. */
function produced(state: RunState, nodeId: string, output: JsonValue, routed: boolean): void {
  if (state instanceof FoldedState) state.produced(nodeId, output, routed);
  else (state.outputs as Record<string, JsonValue>)[nodeId] = output;
}

/** What an ended node passes on along its taken edges: its output, or its error if it failed and took an error edge. */
export function passedOn(n: NodeState): JsonValue {
  return n.status === 'succeeded' ? (n.output as JsonValue) : { error: n.error as unknown as JsonValue };
}

export function emptyRunState(runId: string): RunState {
  return new FoldedState(runId);
}

function node(state: RunState, nodeId: string): NodeState {
  let n = state.nodes.get(nodeId);
  if (n === undefined) {
    // Every field a node's life usually sets, made at once: the object keeps one shape and its
    // fields inside it, instead of growing a separate property array field by field.
    n = { status: 'pending', attempt: 0, input: undefined, output: undefined, startedAt: undefined, finishedAt: undefined, taken: undefined, labels: undefined, waitingOn: undefined };
    state.nodes.set(nodeId, n);
  }
  return n;
}

/** Advances `state` by one journal event. */
export function applyEvent(state: RunState, event: RunEvent): RunState {
  state.events++;
  switch (event.type) {
    case 'run.started':
      state.started = event;
      state.startedAt = event.at;
      state.status = 'running';
      break;
    case 'node.started': {
      const n = node(state, event.nodeId);
      if (event.item !== undefined) {
        (n.itemAttempts ??= new Map()).set(event.item, event.attempt);
        break;
      }
      n.status = 'running';
      n.input = event.input;
      n.startedAt ??= event.at;
      n.attempt = event.attempt;
      n.waitingOn = undefined;
      if (state.status === 'waiting') state.status = 'running';
      break;
    }
    case 'node.retrying':
      node(state, event.nodeId).error = event.error;
      countRetry(state, event.item === undefined ? event.nodeId : `${event.nodeId}[${event.item}]`);
      break;
    case 'node.succeeded': {
      const n = node(state, event.nodeId);
      if (event.item !== undefined) {
        (n.items ??= new Map()).set(event.item, event.output as JsonValue);
        break;
      }
      n.status = 'succeeded';
      n.output = event.output;
      n.taken = event.taken ?? [];
      // Indexed: `taken` is often a flow plan's frozen array (for…of over one allocates).
      for (let i = 0; i < n.taken.length; i++) state.takenEdges.add(n.taken[i]!);
      n.labels = event.labels;
      n.finishedAt = event.at;
      n.waitingOn = undefined;
      state.completed.push(event.nodeId);
      produced(state, event.nodeId, passedOn(n), false);
      if (event.blocked) {
        state.blocked = true;
        n.blocksRun = true;
      }
      break;
    }
    case 'node.failed': {
      if (event.item !== undefined) break;
      const n = node(state, event.nodeId);
      n.status = 'failed';
      n.error = event.error;
      n.taken = event.taken ?? [];
      for (let i = 0; i < n.taken.length; i++) state.takenEdges.add(n.taken[i]!);
      n.finishedAt = event.at;
      n.waitingOn = undefined;
      if (n.taken.length > 0) produced(state, event.nodeId, passedOn(n), true);
      break;
    }
    case 'node.skipped': {
      const n = node(state, event.nodeId);
      n.status = 'skipped';
      n.skipReason = event.reason;
      n.taken = [];
      n.finishedAt = event.at;
      break;
    }
    case 'approval.requested': {
      const n = node(state, event.nodeId);
      n.status = 'waiting';
      n.waitingOn = { kind: 'approval', until: event.deadline };
      // The same approval requested again after a restart keeps the decisions it had.
      if (n.approval?.deadline !== event.deadline) n.decisions = [];
      n.approval = { approvers: event.approvers, required: event.required, deadline: event.deadline };
      break;
    }
    case 'approval.decided':
      (node(state, event.nodeId).decisions ??= []).push(event);
      break;
    case 'timer.set': {
      if (state.timers === NO_ENTRIES) state.timers = new Map();
      state.timers.set(event.timerId, { nodeId: event.nodeId, fireAt: event.fireAt, purpose: event.purpose, attempt: event.attempt, item: event.item });
      if (event.purpose === 'wait') {
        const n = node(state, event.nodeId);
        n.status = 'waiting';
        n.waitingOn = { kind: 'timer', until: event.fireAt };
      }
      break;
    }
    case 'timer.fired': {
      const timer = state.timers.get(event.timerId);
      state.timers.delete(event.timerId);
      if (state.firedTimers === NO_MEMBERS) state.firedTimers = new Set();
      state.firedTimers.add(event.timerId);
      const n = state.nodes.get(event.nodeId);
      if (timer?.purpose === 'approval' && n !== undefined) n.approvalExpired = true;
      if (timer?.purpose === 'wait' && n?.status === 'waiting') {
        n.status = 'running';
        n.waitingOn = undefined;
      }
      if (state.status === 'waiting') state.status = 'running';
      break;
    }
    case 'run.waiting':
      state.status = 'waiting';
      break;
    case 'compensation.started':
      node(state, event.nodeId).compensation = 'running';
      break;
    case 'compensation.succeeded':
      node(state, event.nodeId).compensation = 'succeeded';
      break;
    case 'compensation.failed':
      node(state, event.nodeId).compensation = 'failed';
      break;
    case 'notification.sent':
      if (event.nodeId === undefined) break;
      if (state.notified === NO_MEMBERS) state.notified = new Set();
      state.notified.add(event.nodeId);
      break;
    case 'run.retried':
      retried(state, event.nodes);
      break;
    case 'node.log':
      state.logBytes = (state.logBytes ?? 0) + event.bytes;
      break;
    case 'run.finished':
      state.status = event.status;
      state.finishedAt = event.at;
      state.output = event.output;
      state.error = event.error;
      break;
  }
  return state;
}

/** Rebuilds a run's state from its journal. */
export function replay(runId: string, events: Iterable<RunEvent>): RunState {
  const state = emptyRunState(runId);
  for (const event of events) applyEvent(state, event);
  return state;
}

export function isTerminal(status: NodeStatus | undefined): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'skipped';
}
