/**
 * The processes under test, as a user starts them: the built CLI (`node packages/cli/dist/bin.js`)
 * as a child process in a temporary workspace, `gantry serve` on a free port, `gantry run`,
 * `validate`, `resume`. Every child gets the canary secrets in its environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CANARY_ENV } from './canaries.js';

export { alive } from '../support/processes.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The command under test: this checkout's build, or HOSTILE_BIN (another build of it). */
export const BIN = process.env.HOSTILE_BIN ?? join(ROOT, 'packages/cli/dist/bin.js');
export const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A temporary folder holding one case: flows, configuration, agents, the store. */
export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'gantry-hostile-'));
  /** Files the case wrote itself (they may hold canaries on purpose): not scanned. */
  readonly written = new Set<string>();

  write(name: string, content: string | object | Buffer): string {
    const path = join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' || Buffer.isBuffer(content) ? content : `${JSON.stringify(content, null, 2)}\n`);
    this.written.add(path);
    return path;
  }

  /** A symbolic link `name` → `target` (as written: relative to the link's folder). */
  link(name: string, target: string): void {
    const path = join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(target, path);
    this.written.add(path);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  read(name: string): string {
    return readFileSync(join(this.dir, name), 'utf8');
  }

  get storePath(): string {
    return join(this.dir, '.gantry', 'gantry.db');
  }

  remove(): void {
    // A case may have made folders read-only; give them back before removing.
    try {
      chmodSync(join(this.dir, '.gantry'), 0o755);
    } catch {
      // no store folder
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The environment of every child: a minimal one, the canaries, and what the case adds. */
export function childEnv(ws: Workspace, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: ws.dir,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    // Not a secret: a variable no configuration names, so a minimal environment leaves it out.
    HOSTILE_UNRELATED: 'unrelated-variable-of-the-operator',
    ...CANARY_ENV,
    ...extra,
  };
}

export interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Killed by the harness for passing its time limit. */
  readonly timedOut: boolean;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
  /** Run as this user id (the read-only store, when the tests run as root). */
  readonly uid?: number;
  readonly stdin?: string;
}

function requireBuild(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (cd ${ROOT} && npx tsc -b)`);
}

/** `gantry <args>` in the workspace, to its end (killed after `timeoutMs`). */
export function cli(ws: Workspace, args: readonly string[], options: CliOptions = {}): Promise<Exited> {
  requireBuild();
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ws.dir,
    env: childEnv(ws, options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  child.stdin!.end(options.stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 20_000);
  return new Promise((ok, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ok({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** A `gantry serve` child: its URL once it listens, its output so far, how it ended. */
export class Served {
  url = '';
  stdout = '';
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly ended: Promise<void>;
  readonly startedAt = Date.now();
  /** When it printed "listening on". */
  listeningAt: number | undefined;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (this.stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.ended = new Promise((ok) => child.on('close', (code, signal) => ((this.exit = { code, signal }), ok())));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.ended;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.ended;
  }
}

export interface ServeOptions {
  readonly env?: Record<string, string>;
  readonly args?: readonly string[];
  /** How long to wait for "listening on" (or for the process to end). */
  readonly timeoutMs?: number;
}

/**
 * Starts `gantry serve --port 0` in the workspace and resolves once it listens or has ended (a
 * refused start); a start that does neither within `timeoutMs` is killed and resolves too.
 */
export async function startServe(ws: Workspace, options: ServeOptions = {}): Promise<Served> {
  requireBuild();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'debug', ...(options.args ?? [])], {
    cwd: ws.dir,
    env: childEnv(ws, options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const served = new Served(child);
  await new Promise<void>((ok) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      ok();
    }, options.timeoutMs ?? 15_000);
    const done = () => {
      clearTimeout(timer);
      ok();
    };
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(served.stdout);
      if (match && served.url === '') {
        served.url = match[1]!;
        served.listeningAt = Date.now();
        done();
      }
    });
    void served.ended.then(done);
  });
  return served;
}

/** Resident memory of a process, in bytes (Linux), or undefined. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** How a child ended, in words. */
export function ending(e: { code: number | null; signal: NodeJS.Signals | null } | undefined): string {
  if (e === undefined) return 'running';
  return e.signal ? `killed by ${e.signal}` : `exit ${e.code}`;
}
