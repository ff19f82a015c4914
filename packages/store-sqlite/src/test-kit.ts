/**
 * Helpers for this package's tests: temporary folders, file fingerprints, event factories and
 * child processes that open a store through the built package (dist/), as another program would.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunEvent, RunRecord } from '@gantry/engine';
import { afterEach } from 'vitest';

/** The built package a child process imports. */
export const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-store-'));
  made.push(dir);
  return dir;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The names in a folder, sorted. */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

export function record(runId: string, extra: Partial<RunRecord> = {}): RunRecord {
  return { runId, flowName: 'deploy', flowHash: 'sha256:abc', flowText: '{"name":"deploy"}', startedAt: 1_000, status: 'running', ...extra };
}

export function runStarted(runId: string, at = 1_000): RunEvent {
  return { type: 'run.started', runId, at, flow: { name: 'deploy', hash: 'sha256:abc' }, params: { env: 'prod' }, trigger: {} };
}

export function nodeStarted(runId: string, nodeId: string, extra: { at?: number; item?: number; attempt?: number } = {}): RunEvent {
  return { type: 'node.started', runId, at: extra.at ?? 1_001, nodeId, attempt: extra.attempt ?? 1, ...(extra.item === undefined ? {} : { item: extra.item }) };
}

export function nodeSucceeded(runId: string, nodeId: string, extra: { at?: number; item?: number } = {}): RunEvent {
  return { type: 'node.succeeded', runId, at: extra.at ?? 1_002, nodeId, attempt: 1, output: { ok: true, node: nodeId }, ...(extra.item === undefined ? {} : { item: extra.item }) };
}

export function nodeFailed(runId: string, nodeId: string, extra: { item?: number } = {}): RunEvent {
  return { type: 'node.failed', runId, at: 1_003, nodeId, attempt: 1, error: { code: 'AGENT_FAILED', message: 'no', retryable: false }, ...(extra.item === undefined ? {} : { item: extra.item }) };
}

/** How a child runs: as another user, or through `prefix sh -c "script && exec node …"`. */
export interface ChildOptions {
  readonly uid?: number;
  readonly gid?: number;
  readonly shell?: { readonly prefix: readonly string[]; readonly script: string };
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pid: number;
}

/**
 * Runs an ESM script in a new `node` process. The script sees `openSqliteStore` (imported from
 * dist/) and `out(value)`, which prints one JSON line; `args` are in `args`.
 * `onLine` hears each line of output as it comes (to act while the child still runs).
 */
export function runChild(
  body: string,
  args: readonly string[] = [],
  onLine?: (line: string, child: { pid: number; stdin: NodeJS.WritableStream }) => void,
  how: ChildOptions = {},
): Promise<ChildResult> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first (npx tsc -b at the repository root)`);
  const script = `import { openSqliteStore } from ${JSON.stringify(pathToFileURL(DIST).href)};
const out = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const args = process.argv.slice(1);
${body}`;
  return new Promise((resolve, reject) => {
    const node = [process.execPath, '--input-type=module', '-e', script, '--', ...args];
    // Under `how.shell`, the command is "$@" (so that a mount can be made before it runs).
    const [command, ...rest] = how.shell === undefined ? node : [...how.shell.prefix, 'sh', '-c', `${how.shell.script} && exec "$@"`, 'sh', ...node];
    const ids = how.uid === undefined ? {} : { uid: how.uid, gid: how.gid ?? how.uid };
    const child = spawn(command!, rest, { stdio: ['pipe', 'pipe', 'pipe'], ...ids });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        onLine?.(line, { pid: child.pid!, stdin: child.stdin });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! }));
  });
}

/** The JSON lines a child printed. */
export function lines(result: ChildResult): unknown[] {
  return result.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}
