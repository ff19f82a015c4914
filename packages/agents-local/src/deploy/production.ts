/**
 * Production on this machine: one weighted reverse proxy (runtime/proxy-main.ts) in front of a
 * blue and a green deployment, with steady traffic through it (load.ts). Its state — which
 * deployment is blue and green, the weights, the proxy's address — is kept in
 * `.gantry/local/production.json`; a task run in a new gantry process (`gantry resume`) finds the
 * proxy and the deployments gone and starts them again from that state before doing its work.
 */
import { join } from 'node:path';
import { appendJsonLine, readJson, writeJson } from '../runtime/files.js';
import { describeFailure, http, jsonOf } from '../runtime/http.js';
import { packProgram, stateDir } from '../runtime/paths.js';
import { startProcess, type Started } from '../runtime/processes.js';
import { ensureRunning, onRevive, type DeploymentRecord } from './deployments.js';
import { loadStats, startLoad, stopLoad } from './load.js';
import type { Reading } from './prometheus-text.js';
import { packFailure } from '../runtime/failure.js';

export type Color = 'blue' | 'green';

export interface ProductionState {
  readonly service: string;
  /** The run that prepared it, and the idempotency key of that task. */
  readonly run: string;
  readonly key: string;
  readonly blue: string | null;
  readonly green: string | null;
  readonly weights: { readonly blue: number; readonly green: number };
  readonly proxy: { readonly url: string; readonly admin: string; readonly pid: number } | null;
  /** Green's (and blue's) counters when the current traffic step began: the start of the metrics window. */
  readonly baseline?: Reading & { readonly deployment_id: string; readonly blue?: Reading & { readonly deployment_id: string } };
  readonly load: boolean;
  readonly history: { readonly at: string; readonly blue: number; readonly green: number; readonly by: string }[];
}

let proxy: Started | undefined;

/** Every verification through the proxy (JSON lines): who asked, what answered. */
export function verificationsFile(): string {
  return join(stateDir(), 'verifications.jsonl');
}

export function accessLogFile(): string {
  return join(stateDir(), 'proxy-access.jsonl');
}

function file(): string {
  return join(stateDir(), 'production.json');
}

export function readProduction(): ProductionState | undefined {
  return readJson<ProductionState | undefined>(file(), undefined);
}

function save(state: ProductionState): ProductionState {
  writeJson(file(), state);
  return state;
}

onRevive(async (record) => {
  const state = readProduction();
  if (!state || !proxy?.alive()) return;
  for (const color of ['blue', 'green'] as const) if (state[color] === record.id) await attach(color, record);
});

/** Starts production for a run: the proxy, blue behind it with all the traffic, and the load. */
export async function beginProduction(options: { service: string; run: string; key: string; blue: DeploymentRecord }): Promise<ProductionState> {
  const earlier = readProduction();
  if (earlier?.key === options.key) return ensureProduction();
  let state = save({ service: options.service, run: options.run, key: options.key, blue: options.blue.id, green: null, weights: { blue: 100, green: 0 }, proxy: null, load: true, history: [] });
  state = await startProxy(state);
  startLoad(state.proxy!.url);
  return state;
}

/** Production as recorded, running: proxy, deployments and load started again if they had gone. */
export async function ensureProduction(): Promise<ProductionState> {
  const state = readProduction();
  if (state === undefined) throw packFailure(`no production environment is recorded in ${file()}: prepare_blue_green_deployment has not run`);
  const running = proxy?.alive() ? state : await startProxy(state);
  if (running.load && loadStats() === undefined) startLoad(running.proxy!.url);
  return running;
}

async function startProxy(state: ProductionState): Promise<ProductionState> {
  await proxy?.stop();
  proxy = await startProcess({ role: 'proxy', name: `proxy-${state.service}`, program: packProgram('proxy-main.js'), args: ['--access-log', accessLogFile()], cwd: stateDir() });
  const next = save({ ...state, proxy: { url: `http://127.0.0.1:${proxy.port}`, admin: `http://127.0.0.1:${String(proxy.info.admin_port)}`, pid: proxy.pid } });
  for (const color of ['blue', 'green'] as const) {
    const id = next[color];
    if (id !== null) await attach(color, await ensureRunning(id));
  }
  await admin('PUT', '/weights', next.weights);
  return next;
}

async function admin(method: 'PUT' | 'DELETE' | 'GET', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const state = readProduction();
  if (!state?.proxy) throw packFailure('the production proxy is not running');
  // Taking an upstream out waits for its requests in flight (up to 30 s, proxy-main.ts).
  const answer = await http(`${state.proxy.admin}${path}`, { method, timeoutMs: method === 'DELETE' ? 35_000 : 5000, ...(body === undefined ? {} : { body }) });
  const value = jsonOf(answer) as Record<string, unknown> | undefined;
  if (answer.status !== 200) throw packFailure(`proxy ${method} ${path}: ${answer.status} ${String(value?.error ?? answer.text)}`);
  return value ?? {};
}

/** Puts a deployment behind the proxy as blue or green (with the weight it already has). */
export async function attach(color: Color, record: DeploymentRecord): Promise<void> {
  await admin('PUT', `/upstreams/${color}`, { url: record.url, version: record.version, deployment_id: record.id });
  const state = readProduction()!;
  if (state[color] !== record.id) save({ ...state, [color]: record.id });
}

/** Takes blue or green out of the proxy once its requests in flight are answered; it must have no weight left. */
export async function detach(color: Color): Promise<{ requests: number; ms: number; left: number }> {
  const answer = await admin('DELETE', `/upstreams/${color}`);
  save({ ...readProduction()!, [color]: null });
  return answer.drained as { requests: number; ms: number; left: number };
}

/** Sets the split (the proxy refuses a split that sends traffic to a missing upstream). */
export async function setWeights(weights: { blue: number; green: number }, by: string): Promise<ProductionState> {
  await admin('PUT', '/weights', weights);
  const state = readProduction()!;
  return save({ ...state, weights, history: [...state.history, { at: new Date().toISOString(), ...weights, by }] });
}

export function recordBaseline(baseline: NonNullable<ProductionState['baseline']>): void {
  save({ ...readProduction()!, baseline });
}

/** The proxy's own view: weights, upstreams, requests by upstream and status. */
export function proxyState(): Promise<Record<string, unknown>> {
  return admin('GET', '/state');
}

export interface Verification {
  readonly url: string;
  readonly requests: number;
  readonly by_upstream: Record<string, number>;
  readonly by_version: Record<string, number>;
  readonly failures: string[];
  /** Every request was answered 200 by `expect`. */
  readonly ok: boolean;
  readonly expected: string;
  readonly at: string;
  /** The task that asked. */
  readonly by: string;
}

/** `count` real requests through the proxy; which upstream and version answered each (also kept in verifications.jsonl). */
export async function verifyThroughProxy(count: number, expect: { upstream: Color; version: string }, by: string): Promise<Verification> {
  const at = new Date().toISOString();
  const { proxy: address } = readProduction()!;
  const by_upstream: Record<string, number> = {};
  const by_version: Record<string, number> = {};
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const answer = await http(`${address!.url}/health`, { headers: { 'x-gantry-probe': 'verify' } });
      const upstream = answer.headers['x-gantry-upstream'] ?? 'none';
      const version = answer.headers['x-service-version'] ?? 'none';
      by_upstream[upstream] = (by_upstream[upstream] ?? 0) + 1;
      by_version[version] = (by_version[version] ?? 0) + 1;
      if (answer.status !== 200) failures.push(`request ${i + 1}: ${answer.status}`);
    } catch (error) {
      failures.push(`request ${i + 1}: ${describeFailure(error)}`);
    }
  }
  const ok = failures.length === 0 && by_upstream[expect.upstream] === count && by_version[expect.version] === count;
  const verification = { url: address!.url, requests: count, by_upstream, by_version, failures, ok, expected: `${expect.upstream} (version ${expect.version})`, at, by };
  appendJsonLine(verificationsFile(), verification);
  return verification;
}

/** Ends the demo's production traffic (the proxy and deployments stop with gantry). */
export function endLoad(): void {
  stopLoad();
  const state = readProduction();
  if (state) save({ ...state, load: false });
}
