/**
 * The real `gantry` command on the default configuration (the local agent pack), in a fresh
 * temporary folder, and readers for what the pack leaves in `.gantry/local`: the processes it
 * started, the production state, the proxy's access log, a run's journal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { alive } from '../support/processes.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');
export const FLOW = join(ROOT, 'flows/complete-deployment.json');
export const EXAMPLES = join(ROOT, 'packages/agents-local/examples');
export const APPROVALS = ['--approve-as', 'tech-lead', '--approve-as', 'product-manager'];

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export class Folder {
  readonly dir = mkdtempSync(join(tmpdir(), 'gantry-deploy-'));
  readonly state = join(this.dir, '.gantry', 'local');

  /**
   * The pack's mode is chosen here, never left to what this machine has: these tests are of the
   * processes (GANTRY_LOCAL_ENGINE=none) unless a test asks for containers (test/containers).
   */
  constructor(readonly env: Readonly<Record<string, string>> = { GANTRY_LOCAL_ENGINE: 'none' }) {}

  /** Starts `gantry <args>` here (no terminal, nothing from this environment but PATH, plus the folder's `env` and `env`). */
  start(args: readonly string[], env: Readonly<Record<string, string>> = {}): { child: ChildProcess; finished: Promise<Finished> } {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -b)`);
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: this.dir, env: { PATH: process.env.PATH ?? '', HOME: this.dir, NO_COLOR: '1', ...this.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const finished = new Promise<Finished>((resolvePromise) =>
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started });
      }),
    );
    return { child, finished };
  }

  run(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Finished> {
    return this.start(args, env).finished;
  }

  /** `gantry show <run> --json`: the run's record and journal. */
  show(runId: string): { run: { status: string }; events: { type: string; nodeId?: string; output?: Record<string, unknown>; error?: unknown }[] } {
    const r = spawnSync(process.execPath, [BIN, 'show', runId, '--json'], { cwd: this.dir, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.status !== 0) throw new Error(`gantry show ${runId}: ${r.stderr}`);
    return JSON.parse(r.stdout) as ReturnType<Folder['show']>;
  }

  /** The output a node of a run succeeded with. */
  outputOf(runId: string, nodeId: string): Record<string, unknown> {
    const event = this.show(runId).events.find((e) => e.type === 'node.succeeded' && e.nodeId === nodeId);
    if (!event) throw new Error(`${nodeId} of ${runId} did not succeed`);
    return event.output!;
  }

  json<T>(file: string): T {
    return JSON.parse(readFileSync(join(this.state, file), 'utf8')) as T;
  }

  lines<T>(file: string): T[] {
    const path = file.startsWith('/') ? file : join(this.state, file);
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
  }

  /** The pids of every process the pack started here. */
  pids(): number[] {
    return this.lines<{ pid: number }>('processes.jsonl').map((p) => p.pid);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The run id from the live view's first line ("… — run <id>"). */
export function runIdOf(result: Finished): string {
  const id = / — run (\S+)/.exec(result.stdout)?.[1];
  if (id === undefined) throw new Error(`no run id in:\n${result.stdout}\n${result.stderr}`);
  return id;
}


/** The pids still alive after waiting up to `ms` for them to go. */
export async function survivors(pids: readonly number[], ms = 5000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(alive);
  }
  return left;
}

export async function until(what: string, condition: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function explain(result: Finished): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''} after ${result.ms} ms\n--- stdout\n${result.stdout.slice(-5000)}\n--- stderr\n${result.stderr.slice(-3000)}`;
}
