/**
 * infrastructure-devops-manager: builds (build_application, build_containers), and the production
 * load balancer (prepare_blue_green_deployment, update_traffic_split, emergency_rollback).
 * build_and_test is performed by flows/build-pipeline.json (the default configuration's `flows`).
 */
import type { JsonObject } from '@gantry/engine';
import { buildArtifact, firstArtifact, tagImage } from '../build/artifacts.js';
import { recordBuildMode } from '../build/build-mode.js';
import { buildContainerImages, type ContainerImage } from '../build/container-image.js';
import { deploy, ensureRunning, getDeployment } from '../deploy/deployments.js';
import { readCounters } from '../deploy/probes.js';
import { beginProduction, ensureProduction, recordBaseline, setWeights, verifyThroughProxy } from '../deploy/production.js';
import { liveRelease } from '../deploy/releases.js';
import { containerEngine } from '../runtime/container-engine.js';
import { packFailure } from '../runtime/failure.js';
import { isPathInside } from '../runtime/paths.js';
import { openRepository, resolveCommit, type Commit, type Repository } from '../source/repository.js';
import { failed, json, number, rootRun, serviceOf, text, type Handler } from './common.js';

const buildApplication: Handler = async (inputs, _task, signal) => {
  const repo = openRepository(inputs.repository);
  const commit = resolveCommit(repo, inputs.commit);
  const built = await buildArtifact(repo, commit, signal);
  const m = built.manifest;
  return { success: true, service: m.name, version: m.version, commit: m.commit, image: m.image, digest: m.digest, artifact: built.dir, files: m.files.length, reused: built.reused, branch: text(inputs, 'branch', 'main') };
};

/**
 * The release's container images, built with the container engine from each of its Dockerfiles
 * (build/container-image.ts). Without an engine, as before it had one: the release packaged as the
 * image this machine deploys as a process (a folder), tagged as the flow asks, and the Dockerfiles
 * reported `not_run` with the reason.
 */
const buildContainers: Handler = async (inputs, task, signal) => {
  const repo = openRepository(inputs.repository);
  const commit = resolveCommit(repo, inputs.commit);
  const tags = (Array.isArray(inputs.tags) ? inputs.tags : []).filter((t): t is string => typeof t === 'string' && t !== '');
  const dockerfiles = (Array.isArray(inputs.dockerfiles) ? inputs.dockerfiles : []).map((d) => String(d));
  // Both come from the flow (DESIGN §11): a Dockerfile is a file of the commit, never one elsewhere
  // on this machine; a registry is a host and a path, never a flag of the engine's command.
  for (const dockerfile of dockerfiles) {
    if (!isPathInside(dockerfile)) throw packFailure(`expected each of dockerfiles to be a path inside the commit (no absolute path, no "." or ".." segment), got ${JSON.stringify(dockerfile)}`);
  }
  const registry = text(inputs, 'registry', process.env.DOCKER_REGISTRY ?? '');
  if (registry !== '' && !/^[A-Za-z0-9][A-Za-z0-9.-]*(:\d{1,5})?(\/[A-Za-z0-9._-]+)*\/?$/.test(registry)) {
    throw packFailure(`expected registry to be a host with an optional port and path, such as registry.example.com:5000/team, got ${JSON.stringify(registry)}`);
  }
  const { engine, why } = await containerEngine();
  if (engine !== null) {
    const built = await buildContainerImages({ repo, commit, dockerfiles, tags, registry, engine, signal });
    if (built.images.length > 0) {
      const pushedTo = built.images[0]!.pushed?.to;
      recordBuildMode({ run: rootRun(task), mode: 'containers', why, images: built.images.map((i) => i.ref), ...(pushedTo ? { pushed_to: pushedTo } : {}) });
      return {
        success: true,
        mode: 'containers',
        engine: `${engine.name} ${engine.version}`,
        images: built.images.map((i) => i.ref),
        tags: built.images.flatMap((i) => i.tags),
        digests: Object.fromEntries(built.images.map((i) => [i.ref, i.digest])),
        containers: json(built.results.map((r) => ({ ...r, ...imageFacts(built.images.find((i) => i.ref === r.image)) }))),
        registry: json(built.images[0]!.pushed ?? null),
      };
    }
    // No Dockerfile in the commit: the release still deploys, as a process.
    recordBuildMode({ run: rootRun(task), mode: 'processes', why: `no Dockerfile in commit ${commit.id} (${dockerfiles.join(', ')})`, images: [] });
    return processImage(repo, commit, tags, dockerfiles.map((dockerfile) => ({ dockerfile, status: 'not_found', reason: `commit ${commit.id} has no ${dockerfile}: the release deploys as a process` })), registry, signal);
  }
  recordBuildMode({ run: rootRun(task), mode: 'processes', why, images: [] });
  return processImage(repo, commit, tags, dockerfiles.map((dockerfile) => ({ dockerfile, status: 'not_run', reason: why })), registry, signal);
};

function imageFacts(image: ContainerImage | undefined): JsonObject {
  if (image === undefined) return {};
  return { id: image.id, digest: image.digest, tags: [...image.tags], size_bytes: image.size_bytes, build_ms: image.build_ms, base_image: image.base_image, pushed: json(image.pushed) };
}

async function processImage(repo: Repository, commit: Commit, tags: string[], containers: JsonObject[], registry: string, signal: AbortSignal): Promise<JsonObject> {
  const built = await buildArtifact(repo, commit, signal);
  for (const tag of tags) tagImage(`local/${built.manifest.name}:${tag}`, built.dir);
  return {
    success: true,
    mode: 'processes',
    images: [built.manifest.image],
    tags: tags.map((t) => `local/${built.manifest.name}:${t}`),
    containers,
    ...(registry === '' ? {} : { registry: { name: registry, pushed: false, reason: 'the local pack keeps its images on this machine' } }),
  };
}

const prepareBlueGreen: Handler = async (inputs, task, signal, context) => {
  const service = serviceOf(inputs);
  const green = firstArtifact(inputs.images);
  const live = await liveRelease(service, green, signal);
  const blue = await deploy({ service, environment: 'blue', artifact: live.artifact, key: `${task.task_id}:blue`, ...(context?.output ? { output: context.output } : {}) });
  const state = await beginProduction({ service, run: rootRun(task), key: task.task_id, blue });
  return {
    blue_deployment_id: blue.id,
    blue_environment: 'blue',
    green_environment: 'green',
    blue_version: blue.version,
    blue_image: blue.image,
    blue_is: live.why,
    green_image: green.manifest.image,
    load_balancer: { url: state.proxy!.url, admin: state.proxy!.admin, weights: json(state.weights) },
    traffic_steps: inputs.traffic_steps ?? null,
  };
};

const updateTrafficSplit: Handler = async (inputs, task) => {
  const weights = { blue: number(inputs, 'blue_weight', NaN), green: number(inputs, 'green_weight', NaN) };
  const state = await ensureProduction();
  const greenId = text(inputs, 'green_deployment_id', '');
  if (weights.green > 0 && state.green !== greenId) return failed(`green deployment "${greenId}" is not behind the proxy (green is ${state.green ?? 'none'})`);
  await setWeights(weights, `${task.node} (${task.run.id})`);
  const result: JsonObject = { success: true, blue_weight: weights.blue, green_weight: weights.green, proxy: state.proxy!.url, at: new Date().toISOString() };
  if (state.green !== null) {
    // The metrics window of this step starts now: check_deployment_metrics reads from here.
    const green = await ensureRunning(state.green);
    const counters = await readCounters(green.url);
    const blue = state.blue === null ? undefined : await ensureRunning(state.blue);
    recordBaseline({ deployment_id: green.id, pid: green.pid, counters, ...(blue ? { blue: { deployment_id: blue.id, pid: blue.pid, counters: await readCounters(blue.url) } } : {}) });
    result.window_start = { at: counters.at, green_requests_so_far: counters.requests };
  }
  return result;
};

/** All traffic back to blue, then proven: real requests through the proxy must all reach blue. */
const emergencyRollback: Handler = async (_inputs, task) => {
  const state = await ensureProduction();
  if (state.blue === null) return failed('no blue deployment to send the traffic back to');
  await setWeights({ blue: 100, green: 0 }, `emergency_rollback (${task.run.id})`);
  const blue = getDeployment(state.blue);
  const verification = await verifyThroughProxy(20, { upstream: 'blue', version: blue.version }, `emergency_rollback (${task.run.id})`);
  const result: JsonObject = { success: verification.ok, blue_weight: 100, green_weight: 0, serving: { deployment_id: blue.id, version: blue.version }, verification: json(verification) };
  return verification.ok ? result : failed(`traffic was set back to blue, but requests through the proxy say otherwise: ${JSON.stringify(verification.by_upstream)} ${verification.failures.join('; ')}`, result);
};

export default {
  build_application: buildApplication,
  build_containers: buildContainers,
  prepare_blue_green_deployment: prepareBlueGreen,
  update_traffic_split: updateTrafficSplit,
  emergency_rollback: emergencyRollback,
};
