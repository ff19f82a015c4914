/**
 * The proxy and the process supervisor for real: two versions of the sample service and the proxy
 * as child processes (the built programs in dist/: run `npx tsc -b` first).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, jsonOf } from './http.js';
import { packProgram, SAMPLE_REPOSITORY } from './paths.js';
import { runningPids, startedProcesses, startProcess, stopAllProcesses, type Started } from './processes.js';

const state = mkdtempSync(join(tmpdir(), 'gantry-proxy-'));
const previous = process.env.GANTRY_LOCAL_STATE;
let blue: Started;
let green: Started;
let proxy: Started;
let admin: string;
let base: string;

const service = (name: string, version: string, env: Record<string, string> = {}) =>
  startProcess({ role: 'service', name, program: join(SAMPLE_REPOSITORY, version, 'server.mjs'), cwd: join(SAMPLE_REPOSITORY, version), env: { PORT: '0', ...env } });
const put = (path: string, body: unknown) => http(`${admin}${path}`, { method: 'PUT', body });

beforeAll(async () => {
  process.env.GANTRY_LOCAL_STATE = state;
  [blue, green, proxy] = await Promise.all([
    service('blue', 'v1'),
    service('green', 'v2', { FAULT: 'slow', FAULT_EVERY: '1', FAULT_LATENCY_MS: '300' }),
    startProcess({ role: 'proxy', name: 'proxy', program: packProgram('proxy-main.js'), args: ['--access-log', join(state, 'access.jsonl')], cwd: state }),
  ]);
  admin = `http://127.0.0.1:${String(proxy.info.admin_port)}`;
  base = `http://127.0.0.1:${proxy.port}`;
  await put('/upstreams/blue', { url: `http://127.0.0.1:${blue.port}`, version: '1.0.0', deployment_id: 'b' });
  await put('/upstreams/green', { url: `http://127.0.0.1:${green.port}`, version: '2.0.0', deployment_id: 'g' });
});

afterAll(async () => {
  await stopAllProcesses();
  if (previous === undefined) delete process.env.GANTRY_LOCAL_STATE;
  else process.env.GANTRY_LOCAL_STATE = previous;
  rmSync(state, { recursive: true, force: true });
});

describe('the weighted proxy', () => {
  it('sends exactly the weight to each upstream (smooth weighted round-robin)', async () => {
    expect((await put('/weights', { blue: 90, green: 10 })).status).toBe(200);
    const seen: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const answer = await http(`${base}/health`);
      seen[`${answer.headers['x-gantry-upstream']} ${answer.headers['x-service-version']}`] = (seen[`${answer.headers['x-gantry-upstream']} ${answer.headers['x-service-version']}`] ?? 0) + 1;
    }
    expect(seen).toEqual({ 'blue 1.0.0': 36, 'green 2.0.0': 4 });
  });

  it('refuses weights that do not add up, or that send traffic to a missing upstream', async () => {
    expect((await put('/weights', { blue: 50, green: 60 })).status).toBe(400);
    expect((await http(`${admin}/upstreams/green`, { method: 'DELETE' })).status).toBe(409);
  });

  it('takes an upstream out only once its requests in flight are answered', async () => {
    await put('/weights', { blue: 0, green: 100 });
    const slow = http(`${base}/api/price?amount=1`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await put('/weights', { blue: 100, green: 0 });
    const removed = await http(`${admin}/upstreams/green`, { method: 'DELETE', timeoutMs: 10_000 });
    expect((jsonOf(removed) as { drained: { requests: number } }).drained.requests).toBe(1);
    expect((await slow).status).toBe(200);
    const log = readFileSync(join(state, 'access.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { upstream: string; status: number });
    expect(log.filter((l) => l.status !== 200)).toEqual([]);
  });

  it('an upstream that dies mid-answer: the client is cut too, the request is logged as a 502 and no longer in flight', async () => {
    // An upstream that promises 100 bytes, sends 4, then drops the connection.
    const cutter = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100', 'x-service-version': '9.9.9' });
      res.write('half');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await new Promise<void>((resolve) => cutter.listen(0, '127.0.0.1', resolve));
    try {
      await put('/upstreams/green', { url: `http://127.0.0.1:${(cutter.address() as AddressInfo).port}`, version: '9.9.9', deployment_id: 'cut' });
      await put('/weights', { blue: 0, green: 100 });
      const started = performance.now();
      await expect(http(`${base}/cut-me`, { timeoutMs: 3000 })).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(2000); // cut, not left to time out
      await put('/weights', { blue: 100, green: 0 });
      const now = jsonOf(await http(`${admin}/state`)) as { inflight: Record<string, number> };
      expect(now.inflight.green).toBe(0);
      const log = readFileSync(join(state, 'access.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: number; upstream: string });
      expect(log.filter((l) => l.path === '/cut-me')).toEqual([expect.objectContaining({ upstream: 'green', status: 502 })]);
    } finally {
      cutter.close();
      await put('/upstreams/green', { url: `http://127.0.0.1:${green.port}`, version: '2.0.0', deployment_id: 'g' });
    }
  });

  it('records every process it starts, and stops them all', async () => {
    expect(startedProcesses().map((p) => p.name).sort()).toEqual(['blue', 'green', 'proxy']);
    expect(runningPids()).toHaveLength(3);
    await green.stop();
    expect(green.alive()).toBe(false);
    expect(runningPids()).toHaveLength(2);
  });

  it('a program that exits before it listens is an error that names its log', async () => {
    await expect(service('broken', 'v2', { FAULT: 'nonsense' })).rejects.toThrow(/broken: exited \(1\) before it was listening \(its log: .*broken\.log\)/);
  });
});
