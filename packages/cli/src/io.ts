import type { Readable, Writable } from 'node:stream';
import { styleFor, type Style } from './style.js';

/** Where a command writes, so tests can run commands in-process and read what they print. */
export interface Io {
  readonly in?: Readable & { isTTY?: boolean };
  readonly out: Writable & { isTTY?: boolean; columns?: number };
  readonly err: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export function processIo(): Io {
  return { in: process.stdin, out: process.stdout, err: process.stderr, env: process.env, cwd: process.cwd() };
}

export interface Printer {
  readonly out: (line?: string) => void;
  readonly err: (line?: string) => void;
  readonly outStyle: Style;
  readonly errStyle: Style;
}

export function printer(io: Io): Printer {
  return {
    out: (line = '') => io.out.write(`${line}\n`),
    err: (line = '') => io.err.write(`${line}\n`),
    outStyle: styleFor(io.out, io.env),
    errStyle: styleFor(io.err, io.env),
  };
}
