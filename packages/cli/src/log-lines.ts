import { oneLine } from './render/values.js';
import { formatValue } from './render/values.js';
import type { Style } from './style.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every pino line has, said by the line's shape instead. */
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * A pino destination that writes each log line for a person at a terminal:
 * `21:04:05 INFO  webhook accepted: run started  runId=gh-demo-1 flow=hello-hook`. What is not
 * JSON (it never should be) is written as it came, on one line.
 */
export function humanLogDestination(out: { write(text: string): unknown }, s: Style): { write(line: string): void } {
  return {
    write(line: string) {
      for (const one of line.split('\n')) if (one.trim() !== '') out.write(`${humanLogLine(one, s)}\n`);
    },
  };
}

export function humanLogLine(line: string, s: Style): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return oneLine(line);
  }
  if (typeof entry !== 'object' || entry === null) return oneLine(line);
  const level = LEVELS[entry.level as number] ?? String(entry.level ?? '');
  const color = level === 'ERROR' || level === 'FATAL' ? s.red : level === 'WARN' ? s.yellow : s.dim;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${field(key, value)}`);
  return [s.dim(time), color(level.padEnd(5)), oneLine(String(entry.msg ?? '')), ...(fields.length > 0 ? [s.dim(fields.join(' '))] : [])].filter(Boolean).join('  ');
}

function field(key: string, value: unknown): string {
  // An error: its message (and code) is what a person reads; the stack is in the JSON form.
  if (key === 'err' && typeof value === 'object' && value !== null && 'message' in value) {
    const { message, code } = value as { message: unknown; code?: unknown };
    return JSON.stringify(code === undefined ? String(message) : `${String(code)}: ${String(message)}`);
  }
  if (typeof value === 'string' && /^[^\s"=\u0000-\u001f\u007f]+$/.test(value)) return value;
  return formatValue(value, 60);
}
