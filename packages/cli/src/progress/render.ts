import { failurePath, rootCause } from '@gantry/engine';
import { formatChecks, type Check } from '../render/checks.js';
import { formatValue, oneLine } from '../render/values.js';
import type { Style } from '../style.js';
import { duration, isFinished, itemCount, LISTED_FIRST, notStarted, RESUMED_IN_PLACE, type Board, type ItemRow, type Items, type Row, type RowState } from './board.js';
import type { RunTree } from './tree.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function icon(state: RowState, s: Style, frame: number): string {
  switch (state) {
    case 'pending':
      return s.dim('·');
    case 'running':
      return s.cyan(SPINNER[frame % SPINNER.length]!);
    case 'retrying':
      return s.yellow('↻');
    case 'waiting':
      return s.yellow('⏸');
    case 'succeeded':
      return s.green('✓');
    case 'failed':
      return s.red('✗');
    case 'skipped':
      return s.dim('–');
    case 'compensating':
    case 'compensated':
      return s.yellow('↶');
  }
}

/** A line of the live view; `finished` lines are the first left out when the terminal is too short. */
export interface ViewLine {
  readonly text: string;
  readonly finished: boolean;
}

interface Columns {
  readonly id: number;
  readonly type: number;
}

function columns(board: Board): Columns {
  return { id: Math.min(32, Math.max(...board.rows.map((r) => r.id.length))), type: Math.max(...board.rows.map((r) => r.type.length)) };
}

/** One node: icon, id, type, state and time, then the reason it failed or waits, or a gate's readings. */
export function rowText(board: Board, row: Row, s: Style, now: number, frame = 0, cols: Columns = columns(board)): string {
  const time = row.startedAt === undefined ? '' : duration((row.finishedAt ?? now) - row.startedAt);
  const items = row.items === undefined || (row.state !== 'running' && row.state !== 'waiting') ? '' : ` ${row.items.tally.get('succeeded') ?? 0} of ${row.items.values?.length ?? '?'} done`;
  const attempt = shownAttempt(row);
  const state = row.state === 'pending' ? 'waiting for its predecessors' : row.state;
  const note = noteText(row, s);
  return `${icon(row.state, s, frame)} ${row.id.padEnd(cols.id)}  ${s.dim(row.type.padEnd(cols.type))}  ${state}${attempt}${items}${time ? ` ${s.dim(time)}` : ''}${note ? ` — ${note}` : ''}`;
}

/** One for_each item: `✓ [2] 50  2.1s — error_rate_percent 0 <= 1, p95_latency_ms 12 <= 500`. */
export function itemText(row: Row, item: ItemRow, s: Style, now: number, frame = 0): string {
  const value = row.items?.values?.[item.index];
  const label = `[${item.index}]${value === undefined ? '' : ` ${formatValue(value, 20)}`}`;
  const time = item.startedAt === undefined ? '' : duration((item.finishedAt ?? now) - item.startedAt);
  // The icon says succeeded or failed; the words are for the states between.
  const state = item.state === 'succeeded' || item.state === 'failed' ? '' : item.state === 'pending' ? notRun(row) : item.state;
  const note = noteText(item, s);
  return `${icon(item.state, s, frame)} ${label}  ${[(state + shownAttempt(item, row.type)).trimStart(), time ? s.dim(time) : ''].filter(Boolean).join(' ')}${note ? ` — ${note}` : ''}`;
}

/** What an item that has not started is: not run once its node has ended (or is being undone). */
function notRun(row: Row): string {
  return isFinished(row.state) || row.state === 'compensating' ? 'not run' : 'not started';
}

function noteText(p: { note?: string; checks?: readonly Check[]; state: RowState }, s: Style): string {
  const note = p.note === undefined ? undefined : oneLine(p.note);
  if (p.checks === undefined || p.state === 'compensated') return note ?? '';
  return note === undefined ? formatChecks(p.checks, s) : `${note}: ${formatChecks(p.checks, s)}`;
}

/** "attempt n" only when an attempt was retried, or a node was run again after a restart (never an approval or a timer resumed). */
function shownAttempt(p: { attempt: number; retried: boolean; type?: string }, type = p.type ?? ''): string {
  if (p.attempt <= 1) return '';
  return p.retried || !RESUMED_IN_PLACE.has(type) ? ` attempt ${p.attempt}` : '';
}

/**
 * The live view: the top run's nodes, and under a node the sub-flow run it started, at any depth,
 * while that run has not succeeded; a for_each node's items, and under a running item its run.
 * `room` is how many item lines it builds in all: a for_each node with more items than are left
 * of it shows how many are in each state, then its failed items, those retrying, waiting and
 * running, as many as there is room for. A frame then costs what the terminal shows, however
 * many items a payload gave (DESIGN §11).
 */
export function renderTree(tree: RunTree, s: Style, now: number, width: number, frame = 0, room = Number.POSITIVE_INFINITY): ViewLine[] {
  const out: ViewLine[] = [];
  let left = room;
  const item = (row: Row, it: ItemRow, indent: number) => {
    out.push({ text: clip(`${' '.repeat(indent)}${itemText(row, it, s, now, frame)}`, width), finished: isFinished(it.state) });
    if (it.child !== undefined && !isFinished(it.state) && it.state !== 'pending') board(it.child, indent + 2);
  };
  const items = (row: Row, items: Items, indent: number) => {
    const count = itemCount(items);
    if (count <= left) {
      left -= count;
      for (let index = 0; index < count; index++) item(row, items.started.get(index) ?? { index, state: 'pending', attempt: 0, retried: false }, indent);
      return;
    }
    out.push({ text: clip(`${' '.repeat(indent)}${tallyText(row, items, s)}`, width), finished: isFinished(row.state) });
    let shown = 0;
    let listed = 0;
    for (const state of LISTED_FIRST) {
      const group = items.listed.get(state)!;
      listed += group.size;
      for (const it of group) {
        if (shown >= left) break;
        item(row, it, indent);
        shown++;
      }
    }
    left -= shown;
    const more = listed - shown;
    if (more > 0) out.push({ text: `${' '.repeat(indent)}${s.dim(`… ${more} more failed, retrying, waiting or running`)}`, finished: false });
  };
  const board = (b: Board, indent: number) => {
    const cols = columns(b);
    for (const row of b.rows) {
      out.push({ text: clip(`${' '.repeat(indent)}${rowText(b, row, s, now, frame, cols)}`, width), finished: isFinished(row.state) && !open(row) });
      if (row.items !== undefined) items(row, row.items, indent + 2);
      const child = row.children.at(-1);
      if (child !== undefined && child.runStatus !== 'succeeded' && row.state !== 'pending') board(child, indent + 2);
    }
  };
  board(tree.root, 2);
  return out;
}

/** The order states are counted in. */
const TALLIED: readonly RowState[] = ['succeeded', 'failed', 'running', 'retrying', 'waiting', 'skipped'];

/** `100000 items: 1234 succeeded, 1 failed, 50 running, 98715 not started`. */
export function tallyText(row: Row, items: Items, s: Style): string {
  const parts = TALLIED.flatMap((state) => {
    const n = items.tally.get(state) ?? 0;
    return n === 0 ? [] : [state === 'failed' ? s.red(`${n} ${state}`) : `${n} ${state}`];
  });
  const waiting = notStarted(items);
  if (waiting > 0) parts.push(`${waiting} ${notRun(row)}`);
  return `${itemCount(items)} items: ${parts.join(', ')}`;
}

/** Whether a row shows a sub-flow run below it (one that has not succeeded). */
function open(row: Row): boolean {
  const child = row.children.at(-1);
  return child !== undefined && child.runStatus !== 'succeeded';
}

/**
 * The live view cut to the terminal's height: finished lines go first (from the top), then the
 * end; a line says how many were left out.
 */
export function fitHeight(lines: readonly ViewLine[], rows: number): string[] {
  if (lines.length <= rows) return lines.map((l) => l.text);
  let excess = lines.length - rows + 1;
  const kept = lines.filter((l) => {
    if (excess > 0 && l.finished) {
      excess--;
      return false;
    }
    return true;
  });
  const hidden = lines.length - kept.length;
  const shown = kept.slice(0, rows - 1).map((l) => l.text);
  const cut = kept.length - shown.length;
  const note = [hidden > 0 ? `${hidden} finished` : '', cut > 0 ? `${cut} more below` : ''].filter(Boolean).join(', ');
  return [`  … ${note} (the terminal is too short to show them all)`, ...shown];
}

/** The header printed before lines of a sub-flow run, when the lines before were another run's. */
export function headerText(tree: RunTree, board: Board, s: Style, width: number): string {
  const indent = ' '.repeat(tree.indentOf(board) - 2);
  const path = `${indent}${s.dim('▸')} ${tree.pathOf(board)}`;
  const named = `${path} · ${board.flow.name}`;
  return visibleLength(named) <= width ? named : path;
}

/** The summary printed when the run has ended: its status, what failed at the bottom and where, its notifications. */
export function renderSummary(board: Board, s: Style, width = 80): string[] {
  const counts = new Map<string, number>();
  for (const row of board.rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  // The top run's nodes, then with its sub-flow runs' (each node's or item's last): "10 succeeded" alone reads as the whole run.
  const all = new Map<string, number>();
  const subRuns = countNodes(board, all) - 1;
  const status = board.runStatus;
  const color = status === 'succeeded' ? s.green : status === 'blocked' || status === 'waiting' ? s.yellow : s.red;
  const took = board.startedAt !== undefined && board.finishedAt !== undefined ? ` in ${duration(board.finishedAt - board.startedAt)}` : '';
  const lines = [`${s.bold(board.flow.name)}: ${color(s.bold(status))}${took} (run ${board.runId})`];
  const listed = (of: Map<string, number>) => [...of.entries()].map(([state, n]) => `${n} ${state}`).join(', ');
  lines.push(`  ${listed(counts)}`);
  if (subRuns > 0) lines.push(...wrap(`with its ${counted(subRuns, 'sub-flow run')}: ${listed(all)}`, width, 2, 4));
  if (board.error) {
    const cause = rootCause(board.error, board.runId);
    lines.push(...wrap(oneLine(cause.error.message), width, 2, 4).map((l) => s.red(l)));
    const where = failurePath(cause.path);
    if (where) lines.push(...wrap(`at ${where}`, width, 4, 6));
  }
  // Sent about a failure that was retried since: old news, said in one line.
  const earlier = board.notifications.filter((n) => n.beforeRetry);
  if (earlier.length > 0) {
    const high = earlier.filter((n) => n.severity === 'high').length;
    const kinds = [high > 0 ? counted(high, 'escalation') : '', earlier.length > high ? counted(earlier.length - high, 'notification') : ''].filter(Boolean).join(', ');
    lines.push(s.dim(`  before the retry: ${kinds} sent about the failure it retried`));
  }
  for (const n of board.notifications) {
    if (n.beforeRetry) continue;
    const what = n.severity === 'high' ? 'escalation' : 'notification';
    // The default message of an error handler repeats the failure said just above: say it was sent.
    const repeats = board.error !== undefined && n.message.includes(board.error.message);
    lines.push(...wrap(repeats ? `${what} sent about ${n.nodeId ?? 'the run'}: the failure above` : `${what}: ${oneLine(n.message)}`, width, 2, 4).map((l) => s.yellow(l)));
  }
  return lines;
}

/** Adds the states of a board's nodes and of its sub-flow runs' (every depth) to `into`; answers how many boards it counted. */
function countNodes(board: Board, into: Map<string, number>): number {
  let boards = 1;
  for (const row of board.rows) {
    into.set(row.state, (into.get(row.state) ?? 0) + 1);
    for (const child of latestRuns(row.children)) boards += countNodes(child, into);
    for (const item of row.items?.started.values() ?? []) if (item.child !== undefined) boards += countNodes(item.child, into);
  }
  return boards;
}

/**
 * A row's sub-flow runs, the last attempt's of each: a parallel node's agents each have their
 * own (`node:agent.task`), and a retried node one per attempt (`node~2`).
 */
function latestRuns(children: readonly Board[]): Iterable<Board> {
  const byPlace = new Map<string, Board>();
  for (const child of children) byPlace.set((child.path ?? '').replace(/^([^:~]*)~\d+/, '$1'), child);
  return byPlace.values();
}

function counted(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Cuts a line to the terminal's width at a word's end, counting visible characters only. */
export function clip(line: string, width: number): string {
  if (visibleLength(line) <= width) return line;
  let visible = 0;
  let out = '';
  let lastSpace = -1;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\u001b') {
      const end = line.indexOf('m', i);
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width - 1) break;
    if (line[i] === ' ') lastSpace = out.length;
    out += line[i];
    visible++;
  }
  // Back to the last word's end, unless that loses most of the line.
  if (lastSpace > out.length * 0.6) out = out.slice(0, lastSpace);
  // The reset only where the line was styled: plain output stays plain.
  return `${out.trimEnd()}…${line.includes('\u001b[') ? '\u001b[0m' : ''}`;
}

/**
 * Wraps text at words to `width`: the first line indented by `first`, the others by `rest`. Runs
 * of spaces (columns) are kept; a word longer than a line is left whole (a URL is not cut).
 */
export function wrap(text: string, width: number, first: number, rest: number): string[] {
  // Most lines fit: as the loop below would give them, without measuring each word (gantry show has a line per for_each item).
  if (first + visibleLength(text) <= width) return [`${' '.repeat(first)}${text}`];
  const lines: string[] = [];
  let line = ' '.repeat(first);
  let started = false;
  let hasWord = false;
  for (const word of text.split(' ')) {
    if (word !== '' && hasWord && visibleLength(line) + 1 + visibleLength(word) > width) {
      lines.push(line.trimEnd());
      line = `${' '.repeat(rest)}${word}`;
      continue;
    }
    line = started ? `${line} ${word}` : `${line}${word}`;
    started = true;
    if (word !== '') hasWord = true;
  }
  lines.push(line);
  return lines;
}

export function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/**
 * A line longer than `width`: its columns on the first line, and what follows its " — " (a
 * reason, a gate's readings) on the next ones, indented by `rest` and broken after commas, else
 * at words. A word longer than a line is left whole.
 */
export function wrapTail(line: string, width: number, rest: number): string[] {
  if (visibleLength(line) <= width) return [line];
  const at = line.indexOf(' — ');
  if (at < 0) return wrap(line.trimStart(), width, line.length - line.trimStart().length, rest);
  const lines = [line.slice(0, at)];
  let current = '';
  for (const unit of line.slice(at + 3).split(/(?<=,) /)) {
    if (current !== '' && rest + visibleLength(current) + 1 + visibleLength(unit) <= width) {
      current += ` ${unit}`;
      continue;
    }
    if (current !== '') lines.push(`${' '.repeat(rest)}${current}`);
    current = unit;
    if (rest + visibleLength(unit) > width) {
      lines.push(...wrap(unit, width, rest, rest));
      current = '';
    }
  }
  if (current !== '') lines.push(`${' '.repeat(rest)}${current}`);
  return lines;
}
