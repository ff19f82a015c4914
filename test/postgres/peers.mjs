// `gantry serve` peers on one Postgres database, as users run them: the built CLI in child
// processes of a folder (flows, configuration, an agent module), started, killed with SIGKILL,
// paused with SIGSTOP and woken with SIGCONT. Shared by the peers' tests, the chaos test, the
// soak and the benchmarks.
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';

// A chaos round is replayed by its seed.
export { prng } from '../crash/flow.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');

export const SECRET = 'peers-webhook-secret';
export const TOKENS = { alice: 'token-alice', bob: 'token-bob' };
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
export const PRINCIPALS = {
  alice: { roles: ['lead'], token_sha256: sha256(TOKENS.alice) },
  bob: { roles: ['lead'], token_sha256: sha256(TOKENS.bob) },
};

/**
 * An agent module whose every task is an effect made once per idempotency key: the first call
 * with a key creates effects/<key> (O_EXCL, atomic across processes); a repeat (a retried or
 * re-run attempt) finds it and only counts itself in repeats/. `delayMs` makes each task take a
 * while, so that peers die in the middle of them.
 */
export const EFFECTS_AGENT = `import { mkdirSync, writeFileSync } from 'node:fs';
const here = new URL('./', import.meta.url);
export default async function (inputs, task) {
  await new Promise((r) => setTimeout(r, Number(inputs.delay_ms ?? 0)));
  const key = encodeURIComponent(task.task_id);
  try {
    writeFileSync(new URL('effects/' + key, here), JSON.stringify({ run: task.run.id, node: task.node, attempt: task.attempt, pid: process.pid }), { flag: 'wx' });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    writeFileSync(new URL('repeats/' + key + '.' + process.pid + '.' + task.attempt + '.' + Date.now(), here), '');
  }
  return { done: task.task, by: process.pid };
}
`;

/** webhook (signed) → build (an agent, `delay_ms` from the trigger) → an approval by a lead → deploy. */
export function gatedFlow(name, endpoint) {
  return {
    name,
    nodes: [
      { id: 'hook', type: 'webhook', data: { endpoint, method: 'POST', authentication: 'github_webhook_secret' } },
      { id: 'build', type: 'agent', data: { agent: 'ops', task: 'build', inputs: { delay_ms: '{% $trigger.delay_ms ?? 0 %}' } } },
      { id: 'approve', type: 'human_approval', data: { approvers: ['lead'], required: 1, timeout: 3600 } },
      { id: 'deploy', type: 'agent', data: { agent: 'ops', task: 'deploy', inputs: { delay_ms: 0 } } },
    ],
    edges: [
      { from: 'hook', to: 'build' },
      { from: 'build', to: 'approve' },
      { from: 'approve', to: 'deploy' },
    ],
  };
}

/** Writes a peers' folder: flows, gantry.config.json (the store's URL from GANTRY_DATABASE_URL), the effects agent. */
export function preparePeersFolder(dir, { flows, store = {}, config = {} }) {
  mkdirSync(join(dir, 'flows'), { recursive: true });
  mkdirSync(join(dir, 'effects'), { recursive: true });
  mkdirSync(join(dir, 'repeats'), { recursive: true });
  for (const flow of flows) writeFileSync(join(dir, 'flows', `${flow.file ?? flow.flow.name}.json`), JSON.stringify(flow.flow, null, 2));
  writeFileSync(join(dir, 'effects.mjs'), EFFECTS_AGENT);
  writeFileSync(
    join(dir, 'gantry.config.json'),
    JSON.stringify(
      {
        agents: { ops: { transport: 'module', module: './effects.mjs' } },
        principals: PRINCIPALS,
        // A flow may name declared credentials only.
        credentials: { github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' } },
        store: { postgres: { url_env: 'GANTRY_DATABASE_URL', ...store } },
        ...config,
      },
      null,
      2,
    ),
  );
}

/** One peer: `gantry serve` in `dir`, started again after each kill as a new process. */
export class PeerProcess {
  constructor(name, dir, databaseUrl, { logLevel = 'info', env = {} } = {}) {
    this.name = name;
    this.dir = dir;
    this.env = { ...process.env, NO_COLOR: '1', GANTRY_DATABASE_URL: databaseUrl, GITHUB_WEBHOOK_SECRET: SECRET, ...env };
    this.logLevel = logLevel;
    this.child = undefined;
    this.url = undefined;
    this.paused = false;
    this.incarnations = 0;
    /** Every JSON log line of every incarnation, with the incarnation's pid. */
    this.lines = [];
    this.stdout = '';
    this.stderr = '';
  }

  get alive() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid() {
    return this.child?.pid;
  }

  /** Starts it; resolves once it listens. */
  start(timeoutMs = 60_000) {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -b)`);
    this.incarnations++;
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', this.logLevel], { cwd: this.dir, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.url = undefined;
    this.paused = false;
    let out = '';
    let pending = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      this.stderr += chunk;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          this.lines.push({ ...JSON.parse(line), peer: this.name, incarnation: this.incarnations });
        } catch {
          // not a log line
        }
      }
    });
    return new Promise((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not listen within ${timeoutMs} ms:\n${out}\n${this.stderr.slice(-2000)}`)), timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        out += chunk;
        this.stdout += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match && this.url === undefined) {
          clearTimeout(timer);
          this.url = match[1];
          resolveStart(this);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.url === undefined) reject(new Error(`${this.name} exited (${code ?? signal}) before listening:\n${out}\n${this.stderr.slice(-2000)}`));
      });
    });
  }

  /** Sends a signal and, for one that ends it, waits for the exit. */
  async kill(signal = 'SIGKILL') {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    if (this.paused && signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    await exited;
    this.url = undefined;
    this.paused = false;
  }

  pause() {
    if (!this.alive || this.paused) return;
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume() {
    if (!this.alive || !this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** Log lines (all incarnations) whose message contains `text`. */
  said(text) {
    return this.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(text));
  }
}

/** An HTTP call with a deadline: resolves { status, body } or rejects (refused, reset, timed out). */
export function call(url, method, path, { headers = {}, body, timeoutMs = 3000 } = {}) {
  return new Promise((resolveCall, reject) => {
    const req = request(new URL(path, url), { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolveCall({ status: res.statusCode, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A signed GitHub-style delivery. */
export function deliver(url, path, payload, delivery, timeoutMs) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return call(url, 'POST', path, {
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-event': 'push', 'x-github-delivery': delivery },
    body,
    timeoutMs,
  });
}

/** An API call as a principal. */
export function asPrincipal(url, who, method, path, payload, timeoutMs) {
  return call(url, method, path, {
    headers: { authorization: `Bearer ${TOKENS[who]}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    timeoutMs,
  });
}
