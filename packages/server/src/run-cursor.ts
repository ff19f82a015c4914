import { httpError } from './http.js';

/**
 * Where a reader of a run's live stream is: per run of the tree (the run and its sub-flow runs),
 * how many journal events it has. It is each frame's SSE `id`, so a browser that reconnects
 * sends it back as `Last-Event-ID` (or a page as `?after=`): `42` for the run alone, or
 * `42;production_deployment=30;production_deployment.gradual_traffic_switch%5B0%5D=12`, a
 * sub-flow run named by its id after the root's and a dot, percent-encoded.
 */
export type Cursor = Map<string, number>;

const MAX_CURSOR = 16 * 1024;

function seqOf(text: string, whole: string): number {
  const n = Number(text);
  if (!/^\d{1,15}$/.test(text) || !Number.isSafeInteger(n)) throw httpError('BAD_REQUEST', `the stream position "${whole.slice(0, 80)}" is not one this server gives (expected a count of events, got "${text.slice(0, 20)}")`);
  return n;
}

export function parseCursor(root: string, text: string | undefined | null): Cursor {
  const cursor: Cursor = new Map();
  if (text === undefined || text === null || text.trim() === '') return cursor;
  if (text.length > MAX_CURSOR) throw httpError('BAD_REQUEST', `the stream position is ${text.length} characters long; at most ${MAX_CURSOR}`);
  const [first, ...rest] = text.trim().split(';');
  cursor.set(root, seqOf(first!, text));
  for (const part of rest) {
    const at = part.lastIndexOf('=');
    let relative: string;
    try {
      relative = decodeURIComponent(part.slice(0, at));
    } catch {
      relative = '';
    }
    if (at <= 0 || relative === '') throw httpError('BAD_REQUEST', `the stream position "${text.slice(0, 80)}" has a part "${part.slice(0, 40)}" that is not <sub-flow run>=<count>`);
    cursor.set(`${root}.${relative}`, seqOf(part.slice(at + 1), text));
  }
  return cursor;
}

export function formatCursor(root: string, cursor: Cursor): string {
  let text = String(cursor.get(root) ?? 0);
  for (const [runId, seq] of cursor) {
    if (runId !== root) text += `;${encodeURIComponent(runId.slice(root.length + 1))}=${seq}`;
  }
  return text;
}
