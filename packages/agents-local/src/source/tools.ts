import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { GantryError, type TaskOutput } from '@gantry/engine';

/** The path of an executable on the PATH, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

export interface ToolOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** @default 120000 */
  readonly timeoutMs?: number;
  /** The task's signal: a cancelled run stops the tool. */
  readonly signal?: AbortSignal;
  /** The task's output: what the tool prints is kept with the task's attempt too, as `<tool>` and `<tool>:stderr`. */
  readonly output?: TaskOutput;
}

const running = new Set<number>();
let hooked = false;

/** SIGKILL to the tool's process group: the tool and whatever it started (node --test's per-file processes). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs a program to its end (no shell), collecting its output; never rejects for a non-zero exit.
 * It runs in a process group of its own, so that a cancel, a timeout or gantry's exit stops it
 * together with the processes it started, not just the program itself.
 */
export function runTool(command: string, args: readonly string[], options: ToolOptions): Promise<ToolResult> {
  const started = performance.now();
  if (!hooked) {
    hooked = true;
    process.on('exit', () => running.forEach(killGroup));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const stop = () => {
      if (pid !== undefined) killGroup(pid);
      else child.kill('SIGKILL');
    };
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const name = basename(command);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.output?.write(chunk, name);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.output?.write(chunk, `${name}:stderr`);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs ?? 120_000);
    options.signal?.addEventListener('abort', stop, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      if (pid !== undefined) {
        // What the tool started and left behind goes with it.
        killGroup(pid);
        running.delete(pid);
      }
      if (options.signal?.aborted) return reject(options.signal.reason instanceof Error ? options.signal.reason : new GantryError('CANCELLED', 'cancelled', { retryable: false }));
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started), timedOut });
    });
  });
}

/** What a tool that is not installed (or failed) did: said in results instead of a made-up pass. */
export interface ToolStatus {
  readonly tool: string;
  readonly status: 'ran' | 'not_run' | 'failed';
  readonly reason?: string;
  readonly version?: string;
}
