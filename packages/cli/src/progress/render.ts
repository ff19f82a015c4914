import type { Style } from '../style.js';
import { duration, type Board, type Row } from './board.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function icon(row: Row, s: Style, frame: number): string {
  switch (row.state) {
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
      return s.yellow('↶');
    case 'compensated':
      return s.yellow('↶');
  }
}

/** One line per node: icon, id, type, state and time, the reason when it failed or waits. */
export function renderRows(board: Board, s: Style, now: number, width: number, frame = 0): string[] {
  const idWidth = Math.min(32, Math.max(...board.rows.map((r) => r.id.length)));
  const typeWidth = Math.max(...board.rows.map((r) => r.type.length));
  return board.rows.map((row) => {
    const time = row.startedAt === undefined ? '' : duration((row.finishedAt ?? now) - row.startedAt);
    const items = row.items ? ` ${row.items.done} done` : '';
    const attempt = row.attempt > 1 ? ` attempt ${row.attempt}` : '';
    const state = row.state === 'pending' ? 'waiting for its predecessors' : row.state;
    const note = row.note ? ` — ${row.note}` : '';
    const text = `${row.id.padEnd(idWidth)}  ${s.dim(row.type.padEnd(typeWidth))}  ${state}${attempt}${items}${time ? ` ${s.dim(time)}` : ''}${note}`;
    return clip(`  ${icon(row, s, frame)} ${text}`, width);
  });
}

/** Cuts a line to the terminal's width, counting visible characters only. */
function clip(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\u001b') {
      const end = line.indexOf('m', i);
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    // The reset only where the line was styled: plain output stays plain.
    if (visible >= width - 1) return `${out}…${line.includes('\u001b[') ? '\u001b[0m' : ''}`;
    out += line[i];
    visible++;
  }
  return out;
}

/** The summary printed when the run has ended. */
export function renderSummary(board: Board, runId: string, s: Style): string[] {
  const counts = new Map<string, number>();
  for (const row of board.rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  const status = board.runStatus;
  const color = status === 'succeeded' ? s.green : status === 'blocked' || status === 'waiting' ? s.yellow : s.red;
  const took = board.startedAt !== undefined && board.finishedAt !== undefined ? ` in ${duration(board.finishedAt - board.startedAt)}` : '';
  const lines = [`${s.bold(board.flow.name)}: ${color(s.bold(status))}${took} (run ${runId})`];
  lines.push(`  ${[...counts.entries()].map(([state, n]) => `${n} ${state}`).join(', ')}`);
  if (board.error) lines.push(`  ${s.red(board.error)}`);
  for (const note of board.notifications) lines.push(`  ${s.yellow(note)}`);
  return lines;
}
