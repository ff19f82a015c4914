/**
 * The end of a blue-green deployment, resumed after a crash in the middle of it: blue already out
 * of the proxy (or already stopped) when cleanup_blue_environment runs again. Real processes: the
 * sample service's v1 and v2 and the proxy (the built programs in dist/: `npx tsc -b` first).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { systemClock, type AgentTask, type JsonObject } from '@gantry/engine';
import { buildArtifact } from '../build/artifacts.js';
import { getDeployment, stopDeployment } from '../deploy/deployments.js';
import { detach, readProduction } from '../deploy/production.js';
import { stopLoad } from '../deploy/load.js';
import { openRepository, resolveCommit } from '../source/repository.js';
import { stopAllProcesses } from '../runtime/processes.js';
import deployer from './deployer.js';
import devops from './devops-manager.js';
import incidents from './incident-responder.js';
import type { Handler } from './common.js';

const previous = process.env.GANTRY_LOCAL_STATE;
let n = 0;
const task = (name: string, inputs: JsonObject, run: string): AgentTask => ({ task_id: `${run}.production:${name}:${n++}`, agent: 'a', task: name, inputs, run: { id: `${run}.production`, flow: 'f' }, node: name, attempt: 1 });
const signal = new AbortController().signal;
const call = async (handlers: Record<string, Handler>, name: string, inputs: JsonObject, run: string) =>
  handlers[name]!(inputs, task(name, inputs, run), signal, { clock: systemClock });

/** Production with v1 as blue and v2 as green, all the traffic on green: the moment before blue is removed. */
async function greenServesAll(run: string): Promise<{ blue: string; green: string }> {
  process.env.GANTRY_LOCAL_STATE = mkdtempSync(join(tmpdir(), 'gantry-bg-'));
  const repo = openRepository();
  const v2 = await buildArtifact(repo, resolveCommit(repo, 'v2'));
  const images = [v2.manifest.image];
  const plan = await call(devops, 'prepare_blue_green_deployment', { service_name: 'sample-service', images }, run);
  const green = await call(deployer, 'deploy_green_environment', { service_name: 'sample-service', images }, run);
  const split = await call(devops, 'update_traffic_split', { blue_weight: 0, green_weight: 100, green_deployment_id: green.deployment_id! }, run);
  expect(split).toMatchObject({ success: true });
  return { blue: plan.blue_deployment_id as string, green: green.deployment_id as string };
}

afterEach(async () => {
  stopLoad();
  await stopAllProcesses();
  rmSync(process.env.GANTRY_LOCAL_STATE!, { recursive: true, force: true });
});
afterAll(() => {
  if (previous === undefined) delete process.env.GANTRY_LOCAL_STATE;
  else process.env.GANTRY_LOCAL_STATE = previous;
});

const releases = () => JSON.parse(readFileSync(join(process.env.GANTRY_LOCAL_STATE!, 'releases.json'), 'utf8')) as Record<string, { version: string }>;

describe('cleanup_blue_environment run again after a crash', () => {
  it('blue already out of the proxy but still running: it is stopped, green proven, the release recorded', async () => {
    const { blue } = await greenServesAll('r1');
    await detach('blue'); // the crash came right after this
    const result = await call(deployer, 'cleanup_blue_environment', { deployment_id: blue }, 'r1');
    expect(result, JSON.stringify(result)).toMatchObject({ cleaned: 'blue', deployment_id: blue, verification: { ok: true, by_version: { '2.0.0': 20 } } });
    expect(getDeployment(blue).status).toBe('stopped');
    expect(releases()['sample-service']).toMatchObject({ version: '2.0.0' });
    expect(readProduction()).toMatchObject({ blue: null, load: false });
  }, 60_000);

  it('blue already stopped: green is still proven and the release still recorded, not skipped', async () => {
    const { blue } = await greenServesAll('r2');
    await detach('blue');
    await stopDeployment(blue); // the crash came right after this
    expect(existsSync(join(process.env.GANTRY_LOCAL_STATE!, 'releases.json'))).toBe(false);
    const result = await call(deployer, 'cleanup_blue_environment', { deployment_id: blue }, 'r2');
    expect(result, JSON.stringify(result)).toMatchObject({ cleaned: 'blue', verification: { ok: true, by_version: { '2.0.0': 20 } } });
    expect(releases()['sample-service']).toMatchObject({ version: '2.0.0' });
  }, 60_000);

  it('still refuses to remove a blue that serves traffic, or one that is not blue', async () => {
    const { blue, green } = await greenServesAll('r3');
    await call(devops, 'update_traffic_split', { blue_weight: 50, green_weight: 50, green_deployment_id: green }, 'r3');
    expect(await call(deployer, 'cleanup_blue_environment', { deployment_id: blue }, 'r3')).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/blue still serves 50% of the traffic/) } });
    expect(await call(deployer, 'cleanup_blue_environment', { deployment_id: green }, 'r3')).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/^green-\S+ is not blue \(blue is blue-/) } });
    expect(getDeployment(blue).status).toBe('running');
  }, 60_000);
});

describe('a green whose process dies during a traffic step', () => {
  it('fails the metrics check (it is not started again to be measured fresh), and the rollback still ends on blue', async () => {
    const { blue, green } = await greenServesAll('r4');
    process.kill(getDeployment(green).pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(call(incidents, 'check_deployment_metrics', { deployment_id: green, green_weight: 100 }, 'r4')).rejects.toThrow(/^deployment green-\S+ \(2\.0\.0\) exited \(SIGKILL\) while it was running here: it is not started again \(its log: .*\.log\)$/);
    await expect(call(deployer, 'validate_green_environment', { deployment_id: green }, 'r4')).rejects.toThrow(/exited \(SIGKILL\)/);
    // The rollback: all traffic back on blue, proven, and green taken out.
    expect(await call(devops, 'emergency_rollback', {}, 'r4')).toMatchObject({ success: true, verification: { ok: true, by_version: { '1.0.0': 20 } } });
    expect(await call(deployer, 'cleanup_green_environment', { deployment_id: green }, 'r4')).toMatchObject({ cleaned: 'green' });
    expect(readProduction()).toMatchObject({ blue, green: null, weights: { blue: 100, green: 0 } });
    expect(getDeployment(green).status).toBe('stopped');
  }, 60_000);
});
