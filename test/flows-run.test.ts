import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, FakeClock, type Connector, type Engine, type JsonObject, type RunEvent, type RunResult } from '@gantry/engine';
import { builtinExecutors, builtinFunctions } from '@gantry/executors';
import { pipelineWorld, type WorldFaults } from './support/pipeline-world.js';

const FLOWS = resolve(import.meta.dirname, '..', 'flows');

async function runFlow(file: string, faults: WorldFaults = {}, params = {}, trigger = {}) {
  const clock = new FakeClock();
  const world = pipelineWorld(faults);
  const posted: JsonObject[] = [];
  // Slack is at the edge of the system: a stand-in that keeps what it was sent.
  const slack: Connector = { service: 'slack', call: async (action, params) => (posted.push({ action, ...params }), { ok: true }) };
  const engine: Engine = createEngine({ executors: builtinExecutors, functions: builtinFunctions, agents: world.agents, connectors: [slack], clock, random: () => 0.5 });
  const events: RunEvent[] = [];
  engine.on('event', (e) => events.push(e));
  engine.on('approval.requested', (e) => {
    for (const principal of e.approvers) void engine.decide(e.runId, e.nodeId, { principal, decision: 'approve' });
  });
  const run = await engine.start(await engine.loadFlow(join(FLOWS, file)), { params, trigger });
  let result: RunResult | undefined;
  void run.finished.then((r) => (result = r));
  // Bake times and retries run on the fake clock: a 5-minute bake takes no time here. Reading a
  // sub-flow's file is real I/O, so the loop is bounded in real time, not in turns.
  const deadline = Date.now() + 10_000;
  while (result === undefined && Date.now() < deadline) {
    await clock.runAll();
    if (result === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  expect(result, `${file} finished`).toBeDefined();
  return { result: result!, world, events, run, posted };
}

describe('the shipped phase flows run', () => {
  it('build-pipeline: build, tests over the coverage threshold, containers, scan, integration tests', async () => {
    const { result, world } = await runFlow('build-pipeline.json');
    expect(result.status).toBe('succeeded');
    expect(world.calls.map((c) => c.task)).toEqual(['build_application', 'run_unit_tests', 'build_containers', 'vulnerability_scan', 'run_integration_tests']);
    expect(world.calls.find((c) => c.task === 'run_unit_tests')!.inputs).toMatchObject({ test_config: expect.objectContaining({ coverage_threshold: 80 }) });
  });

  it('build-pipeline: coverage under 80% stops the pipeline before any container is built', async () => {
    const { result, world } = await runFlow('build-pipeline.json', { coverage: 61 });
    expect(result.status).not.toBe('succeeded');
    expect(world.calls.map((c) => c.task)).not.toContain('build_containers');
  });

  it('build-pipeline: a critical vulnerability stops it before the integration tests', async () => {
    const { result, world } = await runFlow('build-pipeline.json', { criticalVulnerabilities: 1 });
    expect(result.status).not.toBe('succeeded');
    expect(world.calls.map((c) => c.task)).not.toContain('run_integration_tests');
  });

  it('staging-deployment: checks, deploy, health, smoke tests, monitoring', async () => {
    const { result, world } = await runFlow('staging-deployment.json');
    expect(result.status).toBe('succeeded');
    expect(world.calls.find((c) => c.task === 'deploy_application')!.inputs).toMatchObject({ environment: 'staging' });
    expect(world.calls.map((c) => c.task)).not.toContain('rollback_deployment');
  });

  it('staging-deployment: an unhealthy deployment is rolled back', async () => {
    const { result, world } = await runFlow('staging-deployment.json', { unhealthyStaging: true });
    expect(result.status).toBe('rolled_back');
    expect(world.calls.map((c) => c.task)).toContain('rollback_deployment');
    expect(world.calls.map((c) => c.task)).not.toContain('setup_monitoring');
  });

  it('production-blue-green: traffic moves 10/25/50/75/100 with a bake and a metric gate each, blue is removed last', async () => {
    const { result, world, events } = await runFlow('production-blue-green.json', {}, { bake_seconds: 300 });
    expect(result.status).toBe('succeeded');
    const splits = world.calls.filter((c) => c.task === 'update_traffic_split').map((c) => c.inputs.green_weight);
    expect(splits).toEqual([10, 25, 50, 75, 100]);
    expect(world.calls.filter((c) => c.task === 'check_deployment_metrics')).toHaveLength(5);
    const bakes = events.filter((e) => e.type === 'timer.set' && e.purpose === 'wait');
    expect(bakes).toHaveLength(5);
    for (const bake of bakes) expect(bake.type === 'timer.set' && bake.fireAt - bake.at).toBe(300_000);
    expect(world.calls.at(-1)!.task).toBe('cleanup_blue_environment');
    expect(world.greenWeight).toBe(100);
  });

  it('production-blue-green: green failing its metrics at 50% rolls back, all traffic on blue, blue kept', async () => {
    const { result, world } = await runFlow('production-blue-green.json', { greenErrorsFrom: 50 }, { bake_seconds: 60 });
    expect(result.status).toBe('rolled_back');
    const tasks = world.calls.map((c) => c.task);
    expect(world.calls.filter((c) => c.task === 'update_traffic_split').map((c) => c.inputs.green_weight)).toEqual([10, 25, 50]);
    expect(tasks).toContain('cleanup_green_environment');
    expect(tasks).not.toContain('cleanup_blue_environment');
    // Traffic is back on blue before green is cleaned up: no request is left without a backend.
    expect(tasks.indexOf('emergency_rollback')).toBeLessThan(tasks.indexOf('cleanup_green_environment'));
    expect(world.greenWeight).toBe(0);
  });

  it('post-deployment-monitoring: metrics, dashboards, alerts, logs and synthetic checks', async () => {
    const { result, world } = await runFlow('post-deployment-monitoring.json');
    expect(result.status).toBe('succeeded');
    expect(new Set(world.calls.map((c) => c.task))).toEqual(
      new Set(['configure_metrics_collection', 'create_dashboards', 'configure_alerting_rules', 'setup_log_aggregation', 'setup_synthetic_monitoring']),
    );
    const dashboards = world.calls.find((c) => c.task === 'create_dashboards')!.inputs.dashboards as { name: string }[];
    expect(dashboards.map((d) => d.name)).toEqual(['app-overview', 'app-detailed']);
  });

  it('complete-deployment: the design document pipeline end to end', async () => {
    const { result, world, posted } = await runFlow('complete-deployment.json', {}, {}, { ref: 'refs/heads/main' });
    expect(result.status).toBe('succeeded');
    expect(world.calls.map((c) => c.task)).toEqual([
      'code_review',
      'security_scan',
      'test_validation',
      'build_and_test',
      'deploy_staging',
      'integration_tests',
      'blue_green_deployment',
      'setup_monitoring',
    ]);
    expect(posted).toEqual([expect.objectContaining({ action: 'send_notification', channel: '#engineering' })]);
  });
});
