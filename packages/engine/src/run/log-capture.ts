import { format } from 'node:util';
import type { Logger } from 'pino';
import { LEVEL_VALUES } from './log-options.js';

/** Where a captured line goes: its level's name and its text. */
export type LineSink = (level: string, text: string) => void;

/** Keys whose values never reach a kept line (the CLI's pino redaction, applied to captured fields too). */
const SECRET_KEY = /authorization|token|password|secret|credential|api[_-]?key/i;
/** What the logger adds to every line, and so says nothing about this one. */
const BOUND = new Set(['runId', 'nodeId', 'attempt', 'item', 'flow', 'time', 'pid', 'hostname', 'level', 'msg']);

/**
 * The executor's logger, also keeping each line at `minLevel` and above with its attempt: a proxy
 * of the engine's pino child that calls `sink` and then pino as before (so the process's log is
 * unchanged), and whose children capture too. Made only when an executor asks for `ctx.log`.
 */
export function capturingLogger(logger: Logger, sink: LineSink, minLevel: number): Logger {
  return new Proxy(logger, {
    get(target, key) {
      if (typeof key === 'string') {
        const value = LEVEL_VALUES[key];
        if (value !== undefined) {
          const method = target[key as 'info'];
          if (value < minLevel) return method.bind(target);
          return (...args: unknown[]) => {
            sink(key, lineOf(args));
            return (method as (...a: unknown[]) => void).apply(target, args);
          };
        }
        if (key === 'child') return (bindings: object, options?: object) => capturingLogger(target.child(bindings as never, options as never), sink, minLevel);
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * One line of text from pino's arguments, `(obj?, msg?, ...args)`: the message formatted as pino
 * does, then the object's own fields as JSON (an error's message and code), secrets left out.
 */
export function lineOf(args: readonly unknown[]): string {
  const [first, ...rest] = args;
  if (typeof first === 'string') return format(first, ...rest);
  if (first instanceof Error) return [rest.length > 0 ? format(...rest) : '', errorText(first)].filter(Boolean).join(' ');
  const message = rest.length > 0 ? format(...rest) : '';
  if (typeof first !== 'object' || first === null) return [message, first === undefined ? '' : String(first)].filter(Boolean).join(' ');
  const fields = fieldsOf(first as Record<string, unknown>);
  return [message, fields].filter(Boolean).join(' ');
}

function errorText(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return `${error.name}: ${error.message}${typeof code === 'string' ? ` (${code})` : ''}`;
}

function fieldsOf(object: Record<string, unknown>): string {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (BOUND.has(key)) continue;
    shown[key] = SECRET_KEY.test(key) ? '[REDACTED]' : value instanceof Error ? errorText(value) : value;
  }
  if (Object.keys(shown).length === 0) return '';
  try {
    return JSON.stringify(shown, (key, value: unknown) => (key !== '' && SECRET_KEY.test(key) ? '[REDACTED]' : typeof value === 'bigint' ? String(value) : value));
  } catch {
    return '[fields that are not JSON]';
  }
}
