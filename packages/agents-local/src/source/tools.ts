import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

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
}

/** Runs a program to its end (no shell), collecting its output; never rejects for a non-zero exit. */
export function runTool(command: string, args: readonly string[], options: ToolOptions): Promise<ToolResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    const onAbort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) return reject(options.signal.reason instanceof Error ? options.signal.reason : new Error('cancelled'));
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
