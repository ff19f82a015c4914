// `gantry serve` as a user runs it — the built CLI in a child process — killed with SIGKILL the
// moment it has answered 2xx to a webhook: after a restart the run is there and finishes.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@octokit/webhooks-methods';
import { openSqliteStore } from '@gantry/store-sqlite';
import { PRINCIPALS, SECRET, TOKENS, asPrincipal, deliver, until } from './harness.js';
import { exited, startServe as serveIn } from './serve-process.js';

const FLOW = {
  name: 'Deploy on push',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/deploy/webhook', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'build', type: 'agent', data: { agent: 'builder', task: 'build', inputs: { ref: '{% $trigger.ref %}' } } },
    { id: 'bake', type: 'wait', data: { seconds: 0.2 } },
    { id: 'deploy', type: 'agent', data: { agent: 'builder', task: 'deploy' } },
  ],
  edges: [
    { from: 'hook', to: 'build' },
    { from: 'build', to: 'bake' },
    { from: 'bake', to: 'deploy' },
  ],
};

// Each task takes a moment and leaves a line in effects.log: the run is mid-flight when killed.
const AGENT = `import { appendFileSync } from 'node:fs';
export default async function (inputs, task) {
  await new Promise((r) => setTimeout(r, 150));
  appendFileSync(new URL('./effects.log', import.meta.url), task.task + ' ' + task.task_id + '\\n');
  return { done: task.task };
}
`;

let dir: string;
let child: ChildProcess | undefined;

async function startServe() {
  const served = await serveIn(dir, { GITHUB_WEBHOOK_SECRET: SECRET });
  child = served.process;
  return served;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-serve-kill-'));
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'deploy.json'), JSON.stringify(FLOW, null, 2));
  writeFileSync(join(dir, 'builder.mjs'), AGENT);
  writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify({ agents: { builder: { transport: 'module', module: './builder.mjs' } }, principals: PRINCIPALS, credentials: { github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' } } }));
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('gantry serve killed with SIGKILL', () => {
  it('keeps a run it answered 2xx for: after a restart the run exists, finishes, and its delivery still finds it', async () => {
    const first = await startServe();
    const payload = JSON.stringify({ ref: 'refs/heads/main', sender: { login: 'octocat' } });
    const signature = await sign(SECRET, payload);
    // Killed the moment the answer's status line arrives, before its body is read.
    const status = await new Promise<number>((resolveStatus, reject) => {
      const req = request(`${first.url}/deploy/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-delivery': 'kill-1', 'x-github-event': 'push' },
      });
      req.on('response', (res) => {
        first.process.kill('SIGKILL');
        res.resume();
        resolveStatus(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(payload);
    });
    expect(status).toBe(202);
    await exited(first.process);
    expect(first.process.signalCode).toBe('SIGKILL');
    // Killed mid-run: the run and its start are on disk, its end is not.
    const killed = openSqliteStore(join(dir, '.gantry', 'gantry.db'), { mode: 'read' });
    try {
      expect(killed.getRun('delivery-kill-1')?.status).toBe('running');
      expect(killed.events('delivery-kill-1')[0]?.type).toBe('run.started');
    } finally {
      killed.close();
    }

    const second = await startServe();
    try {
      const done = await until('the run finishes after the restart', () => asPrincipal(second.url, TOKENS.alice, 'GET', '/runs/delivery-kill-1'), (a) => a.status === 200 && a.body.status !== 'running' && a.body.status !== 'waiting', 15_000);
      expect(done.body.status).toBe('succeeded');
      expect(done.body.nodes.map((n: { status: string }) => n.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      // The repeated delivery answers with the run, after the restart too.
      const repeat = await deliver(second.url, '/deploy/webhook', payload, { delivery: 'kill-1' });
      expect(repeat.status).toBe(200);
      expect(repeat.body).toMatchObject({ run_id: 'delivery-kill-1', status: 'succeeded', duplicate: true });
      const runs = await asPrincipal(second.url, TOKENS.alice, 'GET', '/runs');
      expect(runs.body.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['delivery-kill-1']);
      // deploy ran once; build at most twice (killed mid-task, then run again with the same key).
      const effects = readFileSync(join(dir, 'effects.log'), 'utf8').trim().split('\n');
      expect(effects.filter((l) => l.startsWith('deploy '))).toEqual(['deploy delivery-kill-1:deploy']);
      expect(new Set(effects.filter((l) => l.startsWith('build ')))).toEqual(new Set(['build delivery-kill-1:build']));
    } finally {
      second.process.kill('SIGTERM');
      await exited(second.process);
    }
    expect(second.process.exitCode).toBe(0);
  });
});
