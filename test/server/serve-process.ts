// `gantry serve` as a user runs it: the built CLI in a child process, and what can be read of it
// from outside (its resident memory).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');

export interface ServeProcess {
  readonly url: string;
  readonly process: ChildProcess;
  /** What it wrote on stderr so far. */
  stderr(): string;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

export function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));
}

/** Starts `gantry serve --port 0` in `dir` and resolves with its URL once it prints "listening on …". */
export function startServe(dir: string, env: Record<string, string>, args: string[] = []): Promise<ServeProcess> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -b)`);
  return new Promise((resolveStart, reject) => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn', ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const stop = async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited(proc);
    };
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolveStart({ url: match[1]!, process: proc, stderr: () => err, stop });
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    proc.on('close', (code, signal) => reject(new Error(`gantry serve exited (${code ?? signal}) before listening:\n${out}\n${err}`)));
  });
}

/** The resident memory of a process, in bytes (Linux). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
