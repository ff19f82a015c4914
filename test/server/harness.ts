// The server tests' side: an engine on a SQLite store in a temporary folder, served on a port the
// system picks, and a client that signs webhook bodies as GitHub does.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { compileFlow, createEngine, type AgentTransport, type Clock, type Engine, type JsonObject, type PrincipalDirectory } from '@gantry/engine';
import { builtinExecutors, builtinFunctions, moduleAgent } from '@gantry/executors';
import { createServer, type GantryServer, type ServerOptions } from '@gantry/server';
import { openSqliteStore, type SqliteStore } from '@gantry/store-sqlite';

export const SECRET = "It's a Secret to Everybody";

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** alice is a tech lead, bob a product manager, carol both; dave holds no approver role. */
export const TOKENS = { alice: 'token-alice', bob: 'token-bob', carol: 'token-carol', dave: 'token-dave' } as const;
export const PRINCIPALS = {
  alice: { roles: ['tech-lead'], token_sha256: sha256(TOKENS.alice) },
  bob: { roles: ['product-manager'], token_sha256: sha256(TOKENS.bob) },
  carol: { roles: ['tech-lead', 'product-manager'], token_sha256: sha256(TOKENS.carol) },
  dave: { roles: ['developer'], token_sha256: sha256(TOKENS.dave) },
};

/** webhook (signed) → an agent → an approval by a tech lead and a product manager. */
export const DEPLOY_FLOW = {
  name: 'Deploy',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/deploy/webhook', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'build', type: 'agent', data: { agent: 'builder', task: 'build', inputs: { ref: '{% $trigger.ref %}' } } },
    { id: 'approval', type: 'human_approval', data: { approvers: ['tech-lead', 'product-manager'], timeout: 3600 } },
    { id: 'release', type: 'agent', data: { agent: 'builder', task: 'release' } },
  ],
  edges: [
    { from: 'hook', to: 'build' },
    { from: 'build', to: 'approval' },
    { from: 'approval', to: 'release' },
  ],
};

export interface Served {
  readonly url: string;
  readonly server: GantryServer;
  readonly engine: Engine;
  readonly store: SqliteStore;
  close(): Promise<void>;
}

/** Serves `flows` with an engine on a fresh SQLite store; `close` stops both and removes the folder. */
export async function serve(
  flows: object[] = [DEPLOY_FLOW],
  options: { clock?: Clock; env?: Record<string, string>; server?: Partial<ServerOptions>; principals?: PrincipalDirectory & object; agents?: Record<string, AgentTransport> } = {},
): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-server-'));
  const store = openSqliteStore(join(dir, 'gantry.db'));
  const env: Record<string, string> = { GITHUB_WEBHOOK_SECRET: SECRET, ...options.env };
  const engine = createEngine({
    executors: builtinExecutors,
    functions: builtinFunctions,
    agents: { builder: moduleAgent(async (inputs: JsonObject, task: { task: string }) => ({ done: task.task, ref: inputs.ref ?? null })), ...options.agents },
    store,
    principals: options.principals ?? PRINCIPALS,
    credentials: (name) => env[name.toUpperCase()],
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const server = createServer({ engine, flows: flows.map((f) => compileFlow(f)), ...options.server });
  const { url } = await server.listen(0);
  return {
    url,
    server,
    engine,
    store,
    async close() {
      await server.close();
      await stopRuns(engine, store);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Cancels the runs still going (their timers would write to a closed store), and waits for them to end. */
export async function stopRuns(engine: Engine, store: SqliteStore): Promise<void> {
  const live = store.listRuns({ status: ['running', 'waiting'], parentRunId: null }).flatMap((r) => engine.run(r.runId) ?? []);
  for (const run of live) run.cancel();
  await Promise.all(live.map((run) => run.finished));
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
}

/** One request with node:http (a fresh connection each time); the body is parsed when it is JSON. */
export function call(url: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { connection: 'close', ...options.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (text !== '' && String(res.headers['content-type']).startsWith('application/json')) body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POSTs a webhook body signed with `secret` as GitHub does (X-Hub-Signature-256, X-GitHub-Delivery, X-GitHub-Event). */
export async function deliver(url: string, path: string, payload: string, options: { delivery?: string; event?: string; secret?: string; signature?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const signature = options.signature ?? (await sign(options.secret ?? SECRET, payload));
  return call(url, 'POST', path, {
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': signature,
      'x-github-event': options.event ?? 'push',
      ...(options.delivery ? { 'x-github-delivery': options.delivery } : {}),
      ...options.headers,
    },
    body: payload,
  });
}

/** An API call as a principal. */
export function asPrincipal(url: string, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return call(url, method, path, {
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Polls until `check` holds (or fails after `ms`). */
export async function until<T>(what: string, get: () => Promise<T> | T, check: (value: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (check(value)) return value;
    if (Date.now() > end) throw new Error(`${what}: not after ${ms} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
