import type { AgentCallContext, AgentTask, Clock, JsonObject, JsonValue } from '@gantry/engine';
import { ensureRunning } from '../deploy/deployments.js';
import { changedFiles, commitFiles, openRepository, resolveCommit, type ChangedFile, type Commit, type Repository } from '../source/repository.js';
import { packFailure } from '../runtime/failure.js';

/**
 * A task handler of the pack, in the module transport's shape. `context.clock` is the engine's:
 * a wait that is part of a task (for traffic to judge) runs on it, so a fake clock drives it.
 */
export type Handler = (inputs: JsonObject, task: AgentTask, signal: AbortSignal, context: AgentCallContext) => Promise<JsonObject>;

/** Resolves `ms` from now on `clock`, or as soon as `signal` aborts (the caller then sees it aborted). */
export function pauseOn(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.at(clock.now() + ms, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A failure the flow should see as the task's error (not retried: retrying would not help). */
export function failed(message: string, result?: JsonObject): JsonObject {
  return { status: 'failed', error: { message }, ...(result ? { result } : {}) } as JsonObject;
}

export function text(inputs: JsonObject, key: string, fallback: string): string {
  const value = inputs[key];
  return typeof value === 'string' && value !== '' ? value : fallback;
}

export function number(inputs: JsonObject, key: string, fallback: number): number {
  const value = inputs[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** The run a task belongs to at the top: a phase flow's child runs are named `<run>.<node>`. */
export function rootRun(task: AgentTask): string {
  return task.run.id.split('.')[0]!;
}

/** The service a task is about (the flows pass `service_name`, or `service`). */
export function serviceOf(inputs: JsonObject): string {
  return text(inputs, 'service_name', text(inputs, 'service', 'app'));
}

/**
 * A deployment's address now: looked up by id (and started again if its process is gone), else
 * the first of `endpoints` as given.
 */
export async function addressOf(inputs: JsonObject): Promise<{ url: string; deployment_id?: string; version?: string }> {
  if (typeof inputs.deployment_id === 'string' && inputs.deployment_id !== '') {
    const record = await ensureRunning(inputs.deployment_id);
    return { url: record.url, deployment_id: record.id, version: record.version };
  }
  const endpoints = inputs.endpoints;
  const first = Array.isArray(endpoints) ? endpoints[0] : endpoints;
  if (typeof first === 'string' && /^https?:\/\//.test(first)) return { url: first.replace(/\/$/, '') };
  throw packFailure('expected a deployment_id or endpoints (URLs) to reach the deployment');
}

export interface Change {
  readonly repo: Repository;
  readonly commit: Commit;
  readonly base: string | null;
  readonly changes: ChangedFile[];
  readonly files: Map<string, string>;
}

/**
 * The change a review looks at, from a trigger-like input: `repository` (default: the bundled
 * sample service), `commit_sha` (default: its head), `base_sha` (default: the commit's parent).
 */
export function changeOf(inputs: JsonObject): Change {
  const repo = openRepository(inputs.repository);
  const commit = resolveCommit(repo, inputs.commit_sha ?? inputs.commit ?? inputs.after);
  const baseGiven = inputs.base_sha ?? inputs.before;
  const base = typeof baseGiven === 'string' && repo.commits[baseGiven] !== undefined ? baseGiven : commit.parent;
  return { repo, commit, base, changes: changedFiles(repo, commit, base ?? undefined), files: commitFiles(repo, commit) };
}

/** Plain data for a result (drops undefined, keeps JSON). */
export function json<T>(value: T): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
