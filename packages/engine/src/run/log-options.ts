import { GantryError } from '../errors.js';
import { didYouMean } from '../suggest.js';

/**
 * What each attempt keeps of what was logged during it (DESIGN §12, logs): the executor's logger
 * at `level` and above, and what agents and the programs they start print. Beyond a bound the
 * lines are dropped and counted, never the run.
 */
export interface LogOptions {
  /** The lowest level of the executor's logger (`ctx.log`) that is kept. @default 'info' */
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** Lines an attempt keeps; the rest are counted as dropped. @default 1000 */
  maxLinesPerAttempt?: number;
  /** Bytes (UTF-8) of lines an attempt keeps. @default 131072 (128 KiB) */
  maxBytesPerAttempt?: number;
  /** Bytes of lines a run keeps, all its attempts together (a sub-flow's run has its own). @default 1048576 (1 MiB) */
  maxBytesPerRun?: number;
  /** A longer line is cut to this many characters (and marked so). @default 4096 */
  maxLineLength?: number;
  /**
   * How long lines wait to be journaled together while an attempt runs, in ms on the engine's
   * clock (an attempt's last lines are journaled when it ends, before its end): `gantry logs
   * --follow` sees a running node's lines this late at most. @default 500
   */
  flushMs?: number;
}

export type ResolvedLogOptions = Readonly<Required<LogOptions>> & { readonly levelValue: number };

/** pino's level values. */
export const LEVEL_VALUES: Readonly<Record<string, number>> = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 });

export const LOG_DEFAULTS: Readonly<Required<LogOptions>> = Object.freeze({
  level: 'info',
  maxLinesPerAttempt: 1000,
  maxBytesPerAttempt: 128 * 1024,
  maxBytesPerRun: 1024 * 1024,
  maxLineLength: 4096,
  flushMs: 500,
});

const KEYS = Object.keys(LOG_DEFAULTS);

/** Validates the engine's `logs` option once: false keeps nothing (and costs nothing). */
export function resolveLogOptions(given: LogOptions | false | undefined): ResolvedLogOptions | undefined {
  if (given === false) return undefined;
  const fail = (what: string, value: unknown) => {
    throw new GantryError('CONFIG_INVALID', `createEngine: expected ${what}, got ${JSON.stringify(value) ?? String(value)}`);
  };
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) fail('logs to be an object or false', given);
  for (const key of Object.keys(given ?? {})) {
    if (!KEYS.includes(key)) throw new GantryError('CONFIG_INVALID', `createEngine: unknown logs option "${key}"${didYouMean(key, KEYS)} (expected one of ${KEYS.join(', ')})`);
  }
  const logs = { ...LOG_DEFAULTS, ...given };
  if (LEVEL_VALUES[logs.level] === undefined) fail(`logs.level to be one of ${Object.keys(LEVEL_VALUES).join(', ')}`, logs.level);
  for (const key of ['maxLinesPerAttempt', 'maxBytesPerAttempt', 'maxBytesPerRun', 'maxLineLength', 'flushMs'] as const) {
    const value = logs[key];
    if (!Number.isInteger(value) || value < (key === 'flushMs' ? 0 : 1)) fail(`logs.${key} to be an integer ≥ ${key === 'flushMs' ? 0 : 1}`, value);
  }
  return Object.freeze({ ...logs, levelValue: LEVEL_VALUES[logs.level]! });
}
