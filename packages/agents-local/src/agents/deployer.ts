/**
 * deployment-automation-master: staging (pre-deployment checks, deploy, health, rollback), the
 * hand-over from staging to production (validate_staging_results), and the production tasks of
 * blue-green.ts. deploy_staging and blue_green_deployment are performed by the phase flows.
 */
import { statfsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { freemem } from 'node:os';
import type { JsonObject } from '@gantry/engine';
import { firstArtifact } from '../build/artifacts.js';
import { deploy, findDeployments, isLive, stopDeployment } from '../deploy/deployments.js';
import { probeHealth } from '../deploy/probes.js';
import { http } from '../runtime/http.js';
import { stateDir } from '../runtime/paths.js';
import { blueGreenTasks } from './blue-green.js';
import { addressOf, failed, json, number, serviceOf, text, type Handler } from './common.js';

type Check = { status: 'ok' | 'failed' | 'unknown'; detail: string };

const CHECKS: Record<string, (service: string, environment: string) => Promise<Check>> = {
  database_connectivity: async (service) => ({ status: 'ok', detail: `no database is configured for ${service} on this machine: nothing to connect to` }),
  external_services: async () => {
    // What a local deployment needs from the outside: loopback networking, a port from the OS.
    const server: Server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const answer = await http(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      return answer.status === 200 ? { status: 'ok', detail: 'loopback networking works, the OS hands out ports' } : { status: 'failed', detail: `loopback answered ${answer.status}` };
    } finally {
      server.close();
    }
  },
  resource_availability: async () => {
    const memory = freemem() / 2 ** 20;
    const fs = statfsSync(stateDir());
    const disk = (fs.bavail * fs.bsize) / 2 ** 20;
    const ok = memory >= 256 && disk >= 100;
    return { status: ok ? 'ok' : 'failed', detail: `${Math.round(memory)} MiB of memory free (256 needed), ${Math.round(disk)} MiB of disk (100 needed)` };
  },
  previous_deployment_status: async (service, environment) => {
    const running = findDeployments({ service, environment, status: 'running' }).filter((d) => isLive(d.id));
    if (running.length === 0) return { status: 'ok', detail: `no earlier ${environment} deployment of ${service} is running` };
    const probes = await Promise.all(running.map((d) => probeHealth(d.url)));
    const sick = probes.filter((p) => !p.ok);
    return sick.length === 0 ? { status: 'ok', detail: `${running.length} running deployment(s), healthy` } : { status: 'failed', detail: `unhealthy: ${sick.map((p) => `${p.url} (${p.error})`).join(', ')}` };
  },
};

const preDeploymentChecks: Handler = async (inputs) => {
  const names = (Array.isArray(inputs.checks) ? inputs.checks : Object.keys(CHECKS)).map(String);
  const checks: Record<string, Check> = {};
  for (const name of names) {
    const check = CHECKS[name];
    checks[name] = check ? await check(serviceOf(inputs), text(inputs, 'environment', 'staging')) : { status: 'unknown', detail: `the local pack has no check "${name}" (it has ${Object.keys(CHECKS).join(', ')})` };
  }
  return { ready: Object.values(checks).every((c) => c.status === 'ok'), checks: json(checks) };
};

/** A deployment replaces the environment's running one once it is healthy. */
const deployApplication: Handler = async (inputs, task, _signal, context) => {
  const service = serviceOf(inputs);
  const environment = text(inputs, 'environment', 'staging');
  const configuration = (inputs.configuration ?? {}) as JsonObject;
  const artifact = firstArtifact(inputs.images);
  const earlier = findDeployments({ service, environment, status: 'running' });
  const record = await deploy({ service, environment, artifact, key: task.task_id, ...(context?.output ? { output: context.output } : {}) });
  const health = await probeHealth(record.url, text((configuration.health_check ?? {}) as JsonObject, 'path', '/health'));
  if (!health.ok) {
    await stopDeployment(record.id);
    return failed(`${record.id} started but is not healthy: ${health.error}`);
  }
  const replaced = earlier.filter((d) => d.id !== record.id);
  for (const old of replaced) await stopDeployment(old.id);
  return {
    success: true,
    deployment_id: record.id,
    endpoints: [record.url],
    version: record.version,
    image: record.image,
    replaced: replaced.map((d) => d.id),
    replicas: { requested: number(configuration, 'replicas', 1), running: 1, note: `one ${record.container ? 'container' : 'process'} per deployment on this machine` },
    ...(record.container ? { container: json(record.container) } : {}),
  };
};

const verifyHealth: Handler = async (inputs) => {
  const timeoutMs = number(inputs, 'timeout', 30) * 1000;
  const urls = typeof inputs.deployment_id === 'string' ? [(await addressOf(inputs)).url] : (Array.isArray(inputs.endpoints) ? inputs.endpoints : []).map(String);
  if (urls.length === 0) return failed('no deployment_id and no endpoints to check');
  const checks = await Promise.all(urls.map((url) => probeHealth(url, text(inputs, 'path', '/health'), timeoutMs)));
  return { healthy: checks.every((c) => c.ok), checks: json(checks) };
};

const rollbackDeployment: Handler = async (inputs) => {
  const id = text(inputs, 'deployment_id', '');
  if (id !== '') await stopDeployment(id);
  return {
    rolled_back: true,
    stopped: id === '' ? [] : [id],
    environment: text(inputs, 'environment', 'staging'),
    note: 'no earlier release runs on this machine to return to: the environment stays empty until the next deployment',
  };
};

/** Staging's results, checked before production is touched: deployed, validated, with images to promote. */
const validateStagingResults: Handler = async (inputs) => {
  const staging = (inputs.staging ?? {}) as JsonObject;
  const validation = staging.validation as JsonObject | undefined;
  const images = Array.isArray(staging.images) ? staging.images : [];
  const reasons: string[] = [];
  if (staging.status !== 'success') reasons.push(`the staging deployment's status is ${JSON.stringify(staging.status ?? null)}, not "success"`);
  if (validation !== undefined && validation.passed !== true) reasons.push(`the staging integration tests did not pass (${JSON.stringify(validation.tests ?? null)})`);
  if (images.length === 0) reasons.push('staging names no image to promote');
  return { passed: reasons.length === 0, images, staging_deployment_id: staging.deployment_id ?? null, validation: validation === undefined ? 'not given' : { passed: validation.passed ?? null, tests: validation.tests ?? null }, reasons };
};

export default {
  pre_deployment_checks: preDeploymentChecks,
  deploy_application: deployApplication,
  verify_deployment_health: verifyHealth,
  rollback_deployment: rollbackDeployment,
  validate_staging_results: validateStagingResults,
  ...blueGreenTasks,
};
