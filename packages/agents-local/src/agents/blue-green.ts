/**
 * deployment-automation-master's production tasks: green deployed behind the proxy with no
 * traffic, validated, cleaned up on rollback; blue removed only at the very end, once green
 * serves everything; and the whole pipeline's rollback of production (rollback_production).
 */
import { firstArtifact } from '../build/artifacts.js';
import { deploy, getDeployment, stopDeployment } from '../deploy/deployments.js';
import { probeHealth, smokeTests } from '../deploy/probes.js';
import { attach, detach, endLoad, ensureProduction, readProduction, setWeights, verifyThroughProxy } from '../deploy/production.js';
import { recordRelease } from '../deploy/releases.js';
import type { JsonObject } from '@gantry/engine';
import { addressOf, failed, json, number, rootRun, serviceOf, text, type Handler } from './common.js';

const deployGreen: Handler = async (inputs, task, _signal, context) => {
  const state = await ensureProduction();
  const artifact = firstArtifact(inputs.images);
  const green = await deploy({ service: serviceOf(inputs), environment: 'green', artifact, key: task.task_id, ...(context?.output ? { output: context.output } : {}) });
  await attach('green', green);
  return { success: true, deployment_id: green.id, endpoints: [green.url], version: green.version, image: green.image, proxy: state.proxy!.url, green_weight: 0 };
};

const validateGreen: Handler = async (inputs) => {
  const { url, deployment_id } = await addressOf(inputs);
  const check = (inputs.health_check ?? {}) as JsonObject;
  const health = await probeHealth(url, text(check, 'path', '/health'), number(check, 'timeout', 30) * 1000);
  const smoke = inputs.smoke_tests === false ? null : await smokeTests(url);
  return { passed: health.ok && (smoke?.passed ?? true), deployment_id: deployment_id ?? null, health: json(health), smoke_tests: json(smoke) };
};

/** Green out of production: its traffic back on blue first (no request left without a backend), then stopped. */
const cleanupGreen: Handler = async (inputs, task) => {
  const id = text(inputs, 'deployment_id', '');
  const state = readProduction();
  const steps: string[] = [];
  if (state !== undefined && id !== '' && state.green === id) {
    const running = await ensureProduction();
    if (running.weights.green > 0) {
      await setWeights({ blue: 100, green: 0 }, `cleanup_green_environment (${task.run.id})`);
      steps.push('sent all traffic back to blue');
    }
    const drained = await detach('green');
    steps.push(`took green out of the proxy (after its ${drained.requests} request(s) in flight were answered, ${drained.ms} ms)`);
  }
  if (id !== '') {
    await stopDeployment(id);
    steps.push(`stopped ${id}`);
  }
  return { cleaned: 'green', deployment_id: id || null, steps };
};

/**
 * Blue removed once green has all the traffic; then real requests through the proxy must all reach
 * green, and green's release is recorded as the live one. Run again after a crash part-way (blue
 * already out of the proxy, or already stopped), it does what is left: never skips the proof.
 */
const cleanupBlue: Handler = async (inputs, task) => {
  const id = text(inputs, 'deployment_id', '');
  const record = getDeployment(id);
  const state = await ensureProduction();
  if (state.green === null) return failed('no green deployment serves production: not removing blue');
  const steps: string[] = [];
  if (state.blue === id) {
    if (state.weights.blue > 0) return failed(`blue still serves ${state.weights.blue}% of the traffic: not removing it`);
    const drained = await detach('blue');
    steps.push(`took blue out of the proxy (after its ${drained.requests} request(s) in flight were answered, ${drained.ms} ms)`);
  } else if (state.blue !== null) {
    return failed(`${id} is not blue (blue is ${state.blue}): not removing anything`);
  } else {
    steps.push('blue was already out of the proxy');
  }
  if (record.status === 'running') {
    await stopDeployment(id);
    steps.push(`stopped ${id}`);
  }
  const green = getDeployment(state.green);
  const verification = await verifyThroughProxy(20, { upstream: 'green', version: green.version }, `cleanup_blue_environment (${task.run.id})`);
  if (!verification.ok) return failed(`blue was removed, but requests through the proxy did not all reach green: ${JSON.stringify(verification.by_upstream)} ${verification.failures.join('; ')}`, { verification: json(verification) });
  recordRelease(state.service, green.image, green.version, rootRun(task));
  endLoad();
  return { cleaned: 'blue', deployment_id: id, steps, serving: { deployment_id: green.id, version: green.version, image: green.image, proxy: state.proxy!.url }, verification: json(verification) };
};

/**
 * The complete pipeline's compensation of its production phase: whatever that phase left,
 * production ends on blue alone — green out and stopped — proven by requests through the proxy.
 */
const rollbackProduction: Handler = async (_inputs, task) => {
  const recorded = readProduction();
  if (recorded === undefined || recorded.run !== rootRun(task)) return { rolled_back: false, note: 'this run changed nothing in production' };
  const state = await ensureProduction();
  if (state.blue === null) return failed('production has no blue deployment to return to');
  const steps: string[] = [];
  if (state.weights.green > 0) {
    await setWeights({ blue: 100, green: 0 }, `rollback_production (${task.run.id})`);
    steps.push('sent all traffic back to blue');
  }
  if (state.green !== null) {
    const drained = await detach('green');
    await stopDeployment(state.green);
    steps.push(`stopped green ${state.green} (after ${drained.requests} request(s) in flight were answered)`);
  }
  const blue = getDeployment(state.blue);
  const verification = await verifyThroughProxy(20, { upstream: 'blue', version: blue.version }, `rollback_production (${task.run.id})`);
  const result: JsonObject = { rolled_back: true, steps, serving: { deployment_id: blue.id, version: blue.version, image: blue.image, proxy: state.proxy!.url }, verification: json(verification) };
  return verification.ok ? result : failed(`production was set back to blue, but requests through the proxy did not all reach it: ${JSON.stringify(verification.by_upstream)}`, result);
};

export const blueGreenTasks = {
  deploy_green_environment: deployGreen,
  validate_green_environment: validateGreen,
  cleanup_green_environment: cleanupGreen,
  cleanup_blue_environment: cleanupBlue,
  rollback_production: rollbackProduction,
};
