import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { TaskOutput } from '@gantry/engine';
import { appendJsonLine, readJsonLines } from './files.js';
import { packProgram, stateDir } from './paths.js';
import { packFailure } from './failure.js';

/** What a started process is for, kept in `.gantry/local/processes.jsonl`. */
export interface ProcessRecord {
  readonly pid: number;
  readonly role: string;
  readonly name: string;
  /** The gantry process that started it (and whose end stops it). */
  readonly owner: number;
  readonly started_at: string;
  readonly log: string;
}

export interface StartOptions {
  readonly role: string;
  readonly name: string;
  /** The program's file: node runs it. */
  readonly program: string;
  readonly args?: readonly string[];
  readonly cwd: string;
  /** The child's environment, added to a minimal one (PATH, HOME): nothing else leaks in. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the program may take to print its `{"msg":"listening","port":…}` line. @default 10000 */
  readonly readyTimeoutMs?: number;
  /**
   * The output of the task that starts it: what the process prints is kept with that task's
   * attempt too (its lines named by `name`), while the attempt runs; the log file keeps all.
   */
  readonly output?: TaskOutput;
}

export interface Started {
  readonly pid: number;
  readonly port: number;
  /** The whole `listening` line: a program may say more (the proxy's admin_port). */
  readonly info: Readonly<Record<string, unknown>>;
  readonly record: ProcessRecord;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<string>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has ended. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Map<number, { child: ChildProcess; exited: Promise<string>; done: boolean }>();
let hooked = false;

/** The file that lists every process the pack started in this state folder. */
export function processesFile(): string {
  return join(stateDir(), 'processes.jsonl');
}

/** Every process the pack has started in this state folder, by any gantry process. */
export function startedProcesses(): ProcessRecord[] {
  return readJsonLines<ProcessRecord>(processesFile());
}

/**
 * Starts `node <program>` as a supervised child: detached from the terminal's process group (so
 * Ctrl-C reaches gantry, which cancels the run, rather than the services), with an IPC channel
 * that parent-watch turns into "exit when gantry is gone", its output in a log file. Resolves once
 * the program says which port it listens on.
 */
export async function startProcess(options: StartOptions): Promise<Started> {
  hookExit();
  const log = join(stateDir('logs'), `${options.name}.log`);
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', pathToFileURL(packProgram('parent-watch.js')).href, options.program, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw packFailure(`could not start ${options.program}`);
  const entry = { child, done: false, exited: undefined as unknown as Promise<string> };
  entry.exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      entry.done = true;
      running.delete(pid);
      resolve(signal ?? String(code));
    });
  });
  running.set(pid, entry);
  const record: ProcessRecord = { pid, role: options.role, name: options.name, owner: process.pid, started_at: new Date().toISOString(), log };
  appendJsonLine(processesFile(), record);
  child.stderr!.pipe(out, { end: false });
  const task = options.output;
  if (task !== undefined) child.stderr!.setEncoding('utf8').on('data', (chunk: string) => task.write(chunk, options.name));
  const stop = (graceMs = 3000) => stopChild(pid, graceMs);
  try {
    const info = await readyLine(child, out, options.readyTimeoutMs ?? 10_000, entry.exited, (line) => task?.write(`${line}\n`, options.name));
    return { pid, port: info.port as number, info, record, exited: entry.exited, alive: () => !entry.done, stop };
  } catch (error) {
    await stop(500);
    throw packFailure(`${options.name}: ${(error as Error).message} (its log: ${log})`, error);
  }
}

/** Reads stdout lines into the log until the `listening` line names the port. */
function readyLine(child: ChildProcess, out: NodeJS.WritableStream, timeoutMs: number, exited: Promise<string>, echo: (line: string) => void): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(packFailure(`did not say it was listening within ${timeoutMs} ms`)), timeoutMs);
    let ready = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      out.write(`${line}\n`);
      echo(line);
      if (ready) return;
      try {
        const message = JSON.parse(line) as { msg?: string; port?: number };
        if (message.msg === 'listening' && typeof message.port === 'number') {
          ready = true;
          clearTimeout(timer);
          resolve(message);
        }
      } catch {
        // not a JSON line: only logged
      }
    });
    void exited.then((how) => {
      clearTimeout(timer);
      if (!ready) reject(packFailure(`exited (${how}) before it was listening`));
    });
  });
}

async function stopChild(pid: number, graceMs: number): Promise<void> {
  const entry = running.get(pid);
  if (entry === undefined || entry.done) return;
  entry.child.kill('SIGTERM');
  const killer = setTimeout(() => entry.child.kill('SIGKILL'), graceMs);
  await entry.exited;
  clearTimeout(killer);
}

/** Stops every process this gantry process started (the load driver and timers are the callers' own). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running.keys()].map((pid) => stopChild(pid, 2000)));
}

/** The pids this gantry process started that still run. */
export function runningPids(): number[] {
  return [...running.entries()].filter(([, e]) => !e.done).map(([pid]) => pid);
}

/**
 * When gantry exits — a finished run, an error, a second Ctrl-C — every child still running gets
 * SIGTERM; 'exit' handlers cannot wait, and the children's parent-watch covers the rest (SIGKILL).
 */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const [pid, entry] of running) {
      if (entry.done) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
}
