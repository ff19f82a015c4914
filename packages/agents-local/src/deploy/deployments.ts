/**
 * Deployments: an artifact run as a local process on a port the OS picks, or — when the build made
 * a container image of it — that image run as a container, its port mapped to one on 127.0.0.1.
 * Every deployment is recorded in `.gantry/local/deployments.json`; the process (or container)
 * itself lives only as long as the gantry process that started it. A deployment that is still
 * meant to run but whose process is gone (a `gantry resume` in a new process) is started again
 * from its artifact or image, on a new port: callers look deployments up by id, never by a
 * remembered URL.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJson } from '../runtime/files.js';
import { nameForFiles, stateDir } from '../runtime/paths.js';
import type { TaskOutput } from '@gantry/engine';
import { startProcess, type Started } from '../runtime/processes.js';
import type { Artifact } from '../build/artifacts.js';
import type { ContainerImage } from '../build/container-image.js';
import { startContainer, type ContainerRun } from './containers.js';
import { packFailure } from '../runtime/failure.js';

export interface DeploymentRecord {
  readonly id: string;
  readonly service: string;
  readonly environment: string;
  readonly image: string;
  readonly version: string;
  readonly commit: string;
  readonly artifact_dir: string;
  readonly status: 'running' | 'stopped';
  readonly url: string;
  readonly pid: number;
  readonly started_at: string;
  readonly stopped_at?: string;
  /** How many times it was started again after its process had gone. */
  readonly restarts: number;
  /** When its current process was started, if it was started again. */
  readonly restarted_at?: string;
  /** The idempotency key of the task that created it: a retried or resumed task finds it again. */
  readonly key?: string;
  /** The container it runs in (`pid` is then its watcher's), when it runs a container image. */
  readonly container?: ContainerRun;
}

const live = new Map<string, Started>();
const reviveListeners: ((record: DeploymentRecord) => void | Promise<void>)[] = [];

function file(): string {
  return join(stateDir(), 'deployments.json');
}

function all(): Record<string, DeploymentRecord> {
  return readJson<Record<string, DeploymentRecord>>(file(), {});
}

function save(record: DeploymentRecord): DeploymentRecord {
  const records = all();
  records[record.id] = record;
  writeJson(file(), records);
  return record;
}

export function getDeployment(id: unknown): DeploymentRecord {
  const record = typeof id === 'string' ? all()[id] : undefined;
  if (record === undefined) throw packFailure(`no deployment "${String(id)}" is recorded in ${file()}`);
  return record;
}

export function findDeployments(filter: { service?: string; environment?: string; status?: DeploymentRecord['status'] }): DeploymentRecord[] {
  return Object.values(all()).filter((r) => (filter.service === undefined || r.service === filter.service) && (filter.environment === undefined || r.environment === filter.environment) && (filter.status === undefined || r.status === filter.status));
}

/** Called when a deployment had to be started again (the proxy then points at its new port). */
export function onRevive(listener: (record: DeploymentRecord) => void | Promise<void>): void {
  reviveListeners.push(listener);
}

/**
 * Runs `artifact` as a deployment of `service` in `environment`; the same `key` gives the same
 * deployment. What the process prints goes to `output` too (the deploying task's attempt).
 */
export async function deploy(options: { service: string; environment: string; artifact: Artifact; key?: string; output?: TaskOutput }): Promise<DeploymentRecord> {
  if (options.key !== undefined) {
    const earlier = Object.values(all()).find((r) => r.key === options.key && r.status === 'running');
    if (earlier) return ensureRunning(earlier.id);
  }
  const { manifest, dir, container } = options.artifact;
  const id = `${nameForFiles(options.environment, 'the environment')}-${nameForFiles(options.service, 'the service name')}-${manifest.commit}-${randomBytes(3).toString('hex')}`;
  const { started, container: run } = await start(id, dir, container, 0, options.output);
  live.set(id, started);
  return save({
    id,
    service: options.service,
    environment: options.environment,
    image: container?.ref ?? manifest.image,
    version: manifest.version,
    commit: manifest.commit,
    artifact_dir: dir,
    status: 'running',
    url: `http://127.0.0.1:${started.port}`,
    pid: started.pid,
    started_at: new Date().toISOString(),
    restarts: 0,
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(run ? { container: run } : {}),
  });
}

/**
 * The deployment, its process running: started again from its artifact if it went with the
 * gantry process that started it (a `gantry resume`). One whose process died under this gantry
 * process is not started again: it crashed, and a fresh process would hide that from a health
 * check or a metrics window.
 */
export async function ensureRunning(id: unknown): Promise<DeploymentRecord> {
  const record = getDeployment(id);
  if (record.status === 'stopped') throw packFailure(`deployment ${record.id} was stopped at ${record.stopped_at}`);
  const current = live.get(record.id);
  if (current?.alive()) return record;
  if (current !== undefined) {
    throw packFailure(`deployment ${record.id} (${record.version}) exited (${await current.exited}) while it was running here: it is not started again (its log: ${current.record.log})`);
  }
  const image = record.container && { engine: record.container.engine, id: record.container.image_id, ref: record.container.image, port: record.container.port };
  const { started, container } = await start(record.id, record.artifact_dir, image, record.restarts + 1);
  live.set(record.id, started);
  const revived = save({ ...record, url: `http://127.0.0.1:${started.port}`, pid: started.pid, restarts: record.restarts + 1, restarted_at: new Date().toISOString(), ...(container ? { container } : {}) });
  for (const listener of reviveListeners) await listener(revived);
  return revived;
}

/** Stops a deployment's process and records it stopped (again: a no-op). */
export async function stopDeployment(id: unknown): Promise<DeploymentRecord> {
  const record = getDeployment(id);
  // A container's stop includes the engine's own grace and the removal.
  await live.get(record.id)?.stop(record.container ? 15_000 : undefined);
  live.delete(record.id);
  if (record.status === 'stopped') return record;
  return save({ ...record, status: 'stopped', stopped_at: new Date().toISOString() });
}

/** Whether the deployment's process runs in this gantry process now. */
export function isLive(id: string): boolean {
  return live.get(id)?.alive() === true;
}

/**
 * The service's runtime settings an operator may give gantry's environment, passed on to every
 * deployment it starts (the sample service's fault knob): `FAULT=none gantry retry <run>`
 * deploys the same release again with its fault switched off. Nothing else of gantry's
 * environment reaches a service.
 */
const SERVICE_SETTINGS = ['FAULT', 'FAULT_EVERY', 'FAULT_LATENCY_MS'];

/** The artifact as a process, or its container image as a container; what it prints goes to `output` too. */
async function start(id: string, dir: string, image: Pick<ContainerImage, 'engine' | 'id' | 'ref' | 'port'> | undefined, attempt: number, output?: TaskOutput): Promise<{ started: Started; container?: ContainerRun }> {
  const settings: Record<string, string> = {};
  for (const name of SERVICE_SETTINGS) if (process.env[name] !== undefined) settings[name] = process.env[name]!;
  if (image !== undefined) return startContainer(id, image, attempt, settings, output);
  const env = { PORT: '0', HOST: '127.0.0.1', ...settings };
  return { started: await startProcess({ role: 'service', name: id, program: join(dir, entryPoint(dir)), cwd: dir, env, ...(output === undefined ? {} : { output }) }) };
}

/** The file `npm start` would run (`"start": "node server.mjs"`), else server.mjs. */
function entryPoint(dir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
    const match = /^node\s+(\S+)$/.exec(pkg.scripts?.start?.trim() ?? '');
    if (match) return match[1]!;
  } catch {
    // no package.json: the default below
  }
  return 'server.mjs';
}
