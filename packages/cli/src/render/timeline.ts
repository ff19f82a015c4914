import { failurePath, forEachItems, loadFlowText, replay, rootCause, type CompiledFlow, type ErrorInfo, type NodeState, type RunEvent, type RunRecord, type RunState, type RunStore } from '@gantry/engine';
import { clockTime, duration, failureNote, itemCount, type Board, type ItemRow, type Row } from '../progress/board.js';
import { itemText, wrap } from '../progress/render.js';
import { RunTree } from '../progress/tree.js';
import type { Style } from '../style.js';
import { when } from '../summarize.js';
import { JournalIndex, worthListing, type Attempt, type LogCount } from './journal-index.js';
import { formatChecks } from './checks.js';
import { customTypesOf } from './stored-flow.js';
import { byteSize, formatValue, isPlainObject, keyText, oneLine } from './values.js';

/** A stored run as `show` reads it: its record, journal (grouped by node and item), flow and state. */
interface Stored {
  readonly record: RunRecord;
  readonly events: readonly RunEvent[];
  readonly journal: JournalIndex;
  readonly flow: CompiledFlow;
  readonly state: RunState;
}

/** Node types whose output is their input plus what they add: only what they add is shown. */
const PASS_THROUGH = new Set(['conditional', 'human_approval', 'wait']);
/** Keys of a gate's output that its checks and labels already show. */
const GATE_KEYS = new Set(['outcome', 'passed', 'checks']);
/** An object's keys shown one per line, at most. */
const MAX_KEYS = 24;
/** Sub-flows nested deeper than this are named, not shown (a flow that calls itself). */
const MAX_DEPTH = 12;

/**
 * `gantry show`'s timeline of a stored run: its status and, first, what failed at the bottom;
 * then each node with its times, attempts, values (short ones in full, long ones cut with their
 * size), a router's labels, a gate's readings against their limits, decisions and errors; under a
 * node, the sub-flow runs it started, at any depth, and a for_each node's items.
 */
export async function renderTimeline(store: RunStore, runId: string, s: Style, width = 100): Promise<string[]> {
  // The run and its sub-flow runs, read first (a store may answer later), the top run's first and
  // each sub-flow run's after its parent's, as they happened.
  const runs = new Map<string, Stored>();
  const order: string[] = [];
  const compiled = new Map<string, CompiledFlow>();
  const queue = [runId];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    const id = queue[i]!;
    const record = await store.getRun(id);
    if (record === undefined) continue;
    const events = await store.events(id);
    // A for_each of sub-flows has a run per item on one flow version: each version compiled once.
    const source = record.flowSource ?? record.flowName;
    const key = `${record.flowHash}\u0000${source}`;
    let flow = compiled.get(key);
    if (flow === undefined) compiled.set(key, (flow = loadFlowText(record.flowText, { source, nodeTypes: customTypesOf(record.flowText) })));
    runs.set(id, { record, events, journal: new JournalIndex(events, flow), flow, state: replay(id, events) });
    order.push(id);
    queue.push(...(await store.listRuns({ parentRunId: id })).reverse().map((r) => r.runId));
  }
  const read = (id: string): Stored | undefined => runs.get(id);
  const top = read(runId)!;
  const tree = new RunTree(runId, top.flow, (id) => {
    const stored = read(id);
    return stored && { flow: stored.flow, state: () => stored.state };
  });
  for (const id of order) for (const event of read(id)!.events) tree.apply(event);
  const out = new Timeline(s, width, read);
  out.header(top);
  await out.board(tree.root, 0, 0);
  return out.lines;
}

class Timeline {
  readonly lines: string[] = [];

  constructor(
    private readonly s: Style,
    private readonly width: number,
    private readonly read: (id: string) => Stored | undefined,
  ) {}

  private put(indent: number, text: string): void {
    this.lines.push(...wrap(text, this.width, indent, indent + 4));
  }

  header(run: Stored): void {
    const { record, state } = run;
    const s = this.s;
    this.lines.push(`${s.bold(record.flowName)} — run ${record.runId}`);
    this.lines.push(`  status   ${record.status}`);
    if (state.error) {
      const cause = rootCause(state.error, record.runId);
      this.put(0, `  cause    ${s.red(`${cause.error.code}: ${oneLine(cause.error.message)}`)}`);
      const where = failurePath(cause.path);
      if (where) this.put(11, `at ${where}${cause.runId && cause.runId !== record.runId ? ` (run ${cause.runId})` : ''}`);
    }
    this.lines.push(`  started  ${when(record.startedAt)}${record.finishedAt ? `, finished ${when(record.finishedAt)} (${duration(record.finishedAt - record.startedAt)})` : ''}`);
    this.lines.push(`  flow     ${record.flowSource ?? '(given in code)'} @ ${record.flowHash.slice(0, 12)}`);
    if (state.started) {
      this.value(2, 'params', state.started.params, 9);
      if (state.started.initiator) this.lines.push(`  by       ${state.started.initiator}`);
    }
    this.lines.push('');
  }

  /** A run's nodes, in flow order, indented by `at`; `depth` sub-flows down. */
  async board(board: Board, at: number, depth: number): Promise<void> {
    const run = this.read(board.runId)!;
    for (const row of board.rows) await this.node(run, row, at, depth);
  }

  private async node(run: Stored, row: Row, at: number, depth: number): Promise<void> {
    const s = this.s;
    const n = run.state.nodes.get(row.id);
    const status = n?.status ?? 'not reached';
    const took = n?.startedAt !== undefined && n.finishedAt !== undefined ? ` ${duration(n.finishedAt - n.startedAt)}` : '';
    const attempts = run.journal.attempts(row.id);
    const count = attempts.length > 1 ? `, ${attempts.length} attempts` : '';
    const labels = n?.labels?.length ? ` → ${n.labels.join(', ')}` : '';
    this.put(at, `${s.bold(row.id)} (${row.type}): ${status}${took}${count}${labels}${n?.startedAt ? `, started ${when(n.startedAt)}` : ''}${n?.skipReason ? ` (${n.skipReason})` : ''}`);
    const inner = at + 4;
    // The input is mostly the outputs above it: one line.
    if (n?.input !== undefined && Object.keys(n.input).length > 0) this.lines.push(`${' '.repeat(inner)}input   ${formatValue(n.input, this.width - inner - 8)}`);
    if (n?.output !== undefined) this.output(inner, row.type, n);
    if (row.checks) this.put(inner, `checks  ${formatChecks(row.checks, s)}`);
    for (const d of n?.decisions ?? []) this.put(inner, `${d.decision === 'approve' ? 'approved' : 'rejected'} by ${d.principal} at ${when(d.at)} via ${oneLine(d.channel)}${d.comment ? `: ${oneLine(d.comment)}` : ''}`);
    if (n?.status === 'waiting' && n.waitingOn) this.put(inner, `waiting for ${n.waitingOn.kind === 'approval' ? 'a decision' : 'a timer'} until ${when(n.waitingOn.until)}`);
    // A failed attempt that was retried says its error in the attempts below.
    if (n?.status === 'failed' && n.error !== undefined && !(row.checks && n.error.code === 'GATE_FAILED')) this.put(inner, s.red(`error   ${oneLine(errorText(n.error, run.record.runId))}`));
    if (worthListing(attempts)) this.attempts(inner, attempts);
    const logs = describeCounts(run.journal.logCounts(row.id));
    if (logs !== undefined) this.put(inner, `logs    ${logs} (gantry logs ${run.record.runId} ${row.id})`);
    if (n?.compensation) this.put(inner, `compensation ${n.compensation}${compensationError(run.journal.compensationError(row.id))}`);
    if (row.items !== undefined) await this.items(run, row, inner, depth);
    for (const child of row.children) await this.child(child, inner, depth + 1);
  }

  private output(at: number, type: string, n: NodeState): void {
    let output = n.output;
    if (PASS_THROUGH.has(type) && isPlainObject(output) && isPlainObject(n.input)) {
      const input = n.input;
      output = Object.fromEntries(Object.entries(output).filter(([k, v]) => !GATE_KEYS.has(k) && !(k in input && JSON.stringify(input[k]) === JSON.stringify(v))));
      if (Object.keys(output).length === 0) return;
    }
    this.value(at, 'output', output);
  }

  /** `label   value` on one line when it fits; else, for an object, one key a line under `label (size)`. */
  private value(at: number, label: string, value: unknown, column = 8): void {
    const room = this.width - at - column;
    const text = formatValue(value, room);
    const whole = formatValue(value, Number.MAX_SAFE_INTEGER);
    if (text === whole || !isPlainObject(value)) {
      this.lines.push(`${' '.repeat(at)}${label.padEnd(column)}${text}`);
      return;
    }
    const keys = Object.keys(value);
    this.lines.push(`${' '.repeat(at)}${label.padEnd(column)}(${keys.length} keys, ${byteSize(value)})`);
    for (const key of keys.slice(0, MAX_KEYS)) {
      const name = `${keyText(key)}: `;
      this.lines.push(`${' '.repeat(at + 2)}${name}${formatValue(value[key], this.width - at - 2 - name.length)}`);
    }
    if (keys.length > MAX_KEYS) this.lines.push(`${' '.repeat(at + 2)}… ${keys.length - MAX_KEYS} more keys`);
  }

  private attempts(at: number, attempts: readonly Attempt[]): void {
    this.put(at, 'attempts');
    for (const a of attempts) {
      const took = a.endedAt === undefined ? '' : `  ${duration(a.endedAt - a.startedAt)}`;
      const outcome = a.outcome === 'retried' ? `failed, retried at ${clockTime(a.retryAt!)}` : a.outcome === 'interrupted' ? 'interrupted: the process stopped, and it ran again on resume' : a.outcome;
      this.put(at + 2, `${a.number}  ${when(a.startedAt)}${took}  ${outcome}`);
      if (a.error) this.put(at + 5, `${a.error.code}: ${oneLine(a.error.message)}`);
    }
  }

  private async items(run: Stored, row: Row, at: number, depth: number): Promise<void> {
    const items = row.items!;
    items.values ??= await forEachItems(run.flow, run.state, row.id);
    const count = itemCount(items);
    this.put(at, `items   ${count}${items.values ? `: ${formatValue(items.values, this.width - at - 12)}` : ''}`);
    for (let index = 0; index < count; index++) {
      const item: ItemRow = items.started.get(index) ?? { index, state: 'pending', attempt: 0, retried: false };
      this.put(at + 2, itemText(row, item, this.s, item.finishedAt ?? item.startedAt ?? 0));
      const attempts = run.journal.attempts(row.id, index);
      if (worthListing(attempts)) this.attempts(at + 6, attempts);
      if (item.child) await this.child(item.child, at + 6, depth + 1);
    }
  }

  private async child(board: Board, at: number, depth: number): Promise<void> {
    const run = this.read(board.runId);
    if (run === undefined) return;
    const { record } = run;
    const took = record.finishedAt === undefined ? '' : ` ${duration(record.finishedAt - record.startedAt)}`;
    this.put(at, `${this.s.dim('↳')} ${record.flowName}: ${record.status}${took} (sub-flow run ${record.runId})`);
    if (depth > MAX_DEPTH) {
      this.put(at + 4, `deeper than ${MAX_DEPTH} sub-flows: gantry show ${record.runId}`);
      return;
    }
    if (run.state.started) this.value(at + 4, 'params', run.state.started.params);
    await this.board(board, at + 4, depth);
  }
}

/** A node's error: what happened there, or for a failure that crossed sub-flows, where it happened below. */
function errorText(error: NonNullable<NodeState['error']>, runId: string): string {
  const note = failureNote(error, runId);
  return note.startsWith('in ') ? `${error.code} ${note}` : note;
}

function compensationError(error: ErrorInfo | undefined): string {
  return error ? `: ${error.code}: ${oneLine(error.message)}` : '';
}

/** `logs: attempt 1 12 lines, attempt 2 3 lines (40 dropped)`, or undefined when the node kept none. */
function describeCounts(byAttempt: ReadonlyMap<number, LogCount> | undefined): string | undefined {
  if (byAttempt === undefined || byAttempt.size === 0) return undefined;
  const plural = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  return [...byAttempt]
    .sort(([a], [b]) => a - b)
    .map(([attempt, c]) => `attempt ${attempt} ${plural(c.kept)}${c.dropped > 0 ? ` (${c.dropped} dropped)` : ''}`)
    .join(', ');
}

