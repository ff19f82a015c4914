/**
 * What the README's main job shows, through the real CLI on the local agent pack: the nested
 * progress of the shipped pipeline with its five traffic steps and their readings, at 80 columns;
 * the faulty release's root cause first, then where, once; v2-slow telling itself apart from v2;
 * and `gantry show` nesting every phase's run under its node.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVALS, BIN, EXAMPLES, explain, FLOW, Folder, runIdOf } from './support.js';

const folders: Folder[] = [];
afterEach(() => {
  for (const f of folders.splice(0)) f.remove();
});

const deploy = (f: Folder, release: string) => f.run(['run', FLOW, '--input', join(EXAMPLES, release), '--param', 'bake_seconds=1', ...APPROVALS]);
const show = (f: Folder, runId: string) => spawnSync(process.execPath, [BIN, 'show', runId], { cwd: f.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }).stdout;

describe("the main job's progress", () => {
  it('shows the phases as sub-flows at every depth, the five traffic steps with their readings, in 80 columns', async () => {
    const f = new Folder();
    folders.push(f);
    const result = await deploy(f, 'release.json');
    expect(result.code, explain(result)).toBe(0);
    const out = result.stdout;
    for (const phase of ['build_pipeline · Build and Test Pipeline', 'staging_deployment · Staging Deployment', 'production_deployment · Production Blue-Green Deployment', 'monitoring_setup · Post-Deployment Monitoring']) {
      expect(out).toContain(`\n  ▸ ${phase}\n`);
    }
    expect(out).toContain('\n    ▸ staging_deployment › setup_monitoring · Post-Deployment Monitoring\n');
    const steps = [...out.matchAll(/\n {6}✓ \[(\d)\] (\d+) {2}\S+ — error_rate_percent ([\d.]+) <= 1, p95_latency_ms ([\d.]+) <= 500\n/g)];
    expect(steps.map((m) => [m[1], m[2]])).toEqual([['0', '10'], ['1', '25'], ['2', '50'], ['3', '75'], ['4', '100']]);
    for (let i = 0; i < 5; i++) {
      expect(out).toMatch(new RegExp(`\\n {6}▸ production_deployment › gradual_traffic_switch\\[${i}\\]\\n {8}✓ update_traffic_split .*\\n {8}✓ bake .*\\n {8}✓ check_deployment_metrics .*\\n {8}✓ metrics_gate .*\\n {12}→ pass: error_rate_percent`));
    }
    for (const line of out.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);

    // show: every phase's run under its node, the traffic steps under theirs, v2's version in green's readings.
    const runId = runIdOf(result);
    const timeline = show(f, runId);
    expect(timeline).toMatch(/\n {4}↳ Production Blue-Green Deployment: succeeded \S+ \(sub-flow run\s+\S+\.production_deployment\)\n/);
    expect(timeline).toMatch(/\n {12}items {3}5: \[10, 25, 50, 75, 100\]\n {14}✓ \[0\] 10 /);
    expect(timeline).toMatch(/\n {28}version: "2\.0\.0"\n/);
  }, 120_000);

  it('the faulty release: what failed at the bottom, then where, once; its green answers as 2.0.1, not as v2', async () => {
    const f = new Folder();
    folders.push(f);
    const result = await deploy(f, 'faulty-release.json');
    expect(result.code, explain(result)).toBe(1);
    const out = result.stdout;
    expect(out).toMatch(/\nComplete Deployment Pipeline: rolled_back in \S+ \(run \S+\)\n {2}6 succeeded, 2 compensated, 2 skipped\n {2}with its 5 sub-flow runs: 34 succeeded, 5 compensated, 1 failed, 4 skipped\n {2}gate "metrics_gate" failed: p95_latency_ms <= 500 \(was [\d.]+\)\n {4}at production_deployment › gradual_traffic_switch\[0\] › metrics_gate\n {2}escalation sent about production_deployment: the failure above\n/);
    expect(out.split('gate "metrics_gate" failed').length - 1).toBe(1);
    expect(out).not.toContain('ESCALATION');
    expect(out).toMatch(/\n {2}✗ production_deployment {4}agent {11}failed \S+\n {6}in gradual_traffic_switch\[0\] › metrics_gate\n/);
    expect(out).toMatch(/\n {6}✗ \[0\] 10 {2}\S+ — error_rate_percent [\d.]+ <= 1, p95_latency_ms [\d.]+ <= 500 ✗\n/);
    for (const line of out.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);

    const runId = runIdOf(result);
    const metrics = f.outputOf(`${runId}.production_deployment.gradual_traffic_switch[0]`, 'check_deployment_metrics');
    expect(metrics).toMatchObject({ version: '2.0.1', blue: { version: '1.0.0' } });
    const timeline = show(f, runId);
    expect(timeline).toMatch(/\n {2}cause {4}GATE_FAILED: gate "metrics_gate" failed: p95_latency_ms <= 500 \(was [\d.]+\)\n {11}at production_deployment › gradual_traffic_switch\[0\] › metrics_gate/);
    expect(timeline).toMatch(/\n {14}· \[1\] 25 {2}not run\n {14}· \[2\] 50 {2}not run\n/);
  }, 120_000);
});
