/**
 * The README's main job, for real: `gantry run flows/complete-deployment.json` with no
 * configuration file deploys the sample service on this machine with the local agent pack —
 * staging, then blue-green behind a weighted proxy with real traffic and metric gates — and
 * stops everything it started when it ends. Each test runs in a fresh folder (build first:
 * `npx tsc -b`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVALS, EXAMPLES, explain, FLOW, Folder, runIdOf, survivors, until } from './support.js';

interface Access {
  started: string;
  upstream: string | null;
  version: string | null;
  status: number;
  probe?: string;
}
interface Verification {
  by: string;
  ok: boolean;
  requests: number;
  by_upstream: Record<string, number>;
  by_version: Record<string, number>;
}
interface Production {
  blue: string | null;
  green: string | null;
  weights: { blue: number; green: number };
  history: { at: string; blue: number; green: number; by: string }[];
}

const folders: Folder[] = [];
const folder = () => {
  const f = new Folder();
  folders.push(f);
  return f;
};
afterEach(() => {
  for (const f of folders.splice(0)) f.remove();
});

const deployArgs = (release: string, bake = 1) => ['run', FLOW, '--input', join(EXAMPLES, release), '--param', `bake_seconds=${bake}`, ...APPROVALS];

describe('the complete deployment pipeline on this machine', () => {
  it('deploys v2 blue-green: staging, 10→100% with a metric gate at each step, blue removed last; the proxy then serves v2', async () => {
    const f = folder();
    const result = await f.run(deployArgs('release.json'));
    expect(result.code, explain(result)).toBe(0);
    expect(result.stderr).toContain('using the default configuration');
    const runId = runIdOf(result);
    // The line is wrapped at 80 columns, its text kept in its column.
    expect(result.stdout).toMatch(/production +served by green \(version 2\.0\.0\) at the end: 20 requests through\s+the proxy, 20 by version 2\.0\.0/);

    // Every traffic step read real metrics from green, under the thresholds.
    const production = f.json<Production>('production.json');
    expect(production.history.map((h) => h.green)).toEqual([10, 25, 50, 75, 100]);
    for (let step = 0; step < 5; step++) {
      const metrics = f.outputOf(`${runId}.production_deployment.gradual_traffic_switch[${step}]`, 'check_deployment_metrics');
      expect(metrics).toMatchObject({ version: '2.0.0', error_rate_percent: 0 });
      expect(metrics.requests as number).toBeGreaterThanOrEqual(10);
      expect(metrics.p95_latency_ms as number).toBeLessThan(500);
    }

    // Blue went last; then real requests through the proxy all reached green, v2.
    expect(f.outputOf(`${runId}.production_deployment`, 'cleanup_blue')).toMatchObject({ status: 'success', final_traffic_percentage: 100 });
    const verifications = f.lines<Verification>('verifications.jsonl');
    expect(verifications).toEqual([expect.objectContaining({ by: expect.stringMatching(/^cleanup_blue_environment/), ok: true, requests: 20, by_upstream: { green: 20 }, by_version: { '2.0.0': 20 } })]);
    expect(production).toMatchObject({ blue: null, weights: { blue: 0, green: 100 } });
    const afterSwitch = f.lines<Access>('proxy-access.jsonl').filter((a) => a.started >= production.history.at(-1)!.at);
    expect(afterSwitch.length).toBeGreaterThan(20);
    expect(new Set(afterSwitch.map((a) => `${a.upstream} ${a.version} ${a.status}`))).toEqual(new Set(['green 2.0.0 200']));
    expect(f.json<Record<string, { version: string }>>('releases.json')['sample-service']).toMatchObject({ version: '2.0.0' });

    // Monitoring files and the notification are where the README says.
    const grafana = JSON.parse(readFileSync(join(f.state, 'monitoring/grafana/sample-service-overview-production.json'), 'utf8')) as { dashboard: { panels: unknown[] } };
    expect(grafana.dashboard.panels).toHaveLength(5);
    expect(readFileSync(join(f.state, 'monitoring/prometheus/sample-service-production.rules.yml'), 'utf8')).toMatch(/alert: HighLatencyP95\n\s+expr: "1000 \* histogram_quantile\(0\.95/);
    const notifications = f.lines<{ channel: string; text: string }>(join(f.dir, '.gantry/notifications.log'));
    expect(notifications).toEqual([expect.objectContaining({ channel: '#engineering', text: expect.stringContaining(runId) })]);

    expect(await survivors(f.pids()), 'processes left behind').toEqual([]);
    expect(f.pids().length).toBeGreaterThanOrEqual(5); // staging, a test run, blue, green, the proxy
  }, 90_000);

  it('a slow green trips the p95 gate at 10%: rolled_back, all traffic back on blue, green stopped', async () => {
    const f = folder();
    const result = await f.run(deployArgs('faulty-release.json'));
    expect(result.code, explain(result)).toBe(1);
    const runId = runIdOf(result);
    expect(f.show(runId).run.status).toBe('rolled_back');
    expect(result.stdout).toContain('rolled_back');
    expect(result.stdout).toMatch(/gate "metrics_gate" failed: p95_latency_ms <= 500 \(was \d+(\.\d+)?\)/);
    expect(result.stdout).toMatch(/production +served by blue \(version 1\.0\.0\) at the end/);

    // Staging passed (the fault only shows under load); the first traffic step's gate failed on p95.
    const metrics = f.outputOf(`${runId}.production_deployment.gradual_traffic_switch[0]`, 'check_deployment_metrics');
    expect(metrics.p95_latency_ms as number).toBeGreaterThan(500);
    // Blue, over the same window, is the healthy release it is: the figures are per version.
    expect(metrics.blue).toMatchObject({ version: '1.0.0', error_rate_percent: 0 });
    expect((metrics.blue as { p95_latency_ms: number }).p95_latency_ms).toBeLessThan(500);
    const production = f.json<Production>('production.json');
    expect(production.history.map((h) => h.green)).toEqual([10, 0, 0]);
    expect(production).toMatchObject({ green: null, weights: { blue: 100, green: 0 } });

    // The rollback was proven by requests through the proxy, and every request sent after it reached blue.
    const proofs = f.lines<Verification>('verifications.jsonl');
    expect(proofs.map((v) => v.by.split(' ')[0])).toEqual(['emergency_rollback', 'emergency_rollback', 'rollback_production']);
    for (const proof of proofs) expect(proof).toMatchObject({ ok: true, requests: 20, by_upstream: { blue: 20 }, by_version: { '1.0.0': 20 } });
    const undone = f.show(`${runId}.production_deployment.gradual_traffic_switch[0]`).events.filter((e) => e.type.startsWith('compensation.'));
    expect(undone.map((e) => `${e.type} ${e.nodeId}`)).toEqual(['compensation.started update_traffic_split', 'compensation.succeeded update_traffic_split']);
    const rolledBackAt = production.history[1]!.at;
    const after = f.lines<Access>('proxy-access.jsonl').filter((a) => a.started >= rolledBackAt);
    expect(after.length).toBeGreaterThan(20);
    expect(new Set(after.map((a) => `${a.upstream} ${a.version} ${a.status}`))).toEqual(new Set(['blue 1.0.0 200']));
    expect(f.lines<Access>('proxy-access.jsonl').filter((a) => a.status !== 200)).toEqual([]);

    // The whole pipeline's rollback: production back on blue (checked again), staging's release stopped.
    const final = f.show(runId).events.filter((e) => e.type.startsWith('compensation.succeeded')).map((e) => e.nodeId);
    expect(final).toEqual(['staging_deployment', 'production_deployment']);
    const deployments = Object.values(f.json<Record<string, { environment: string; status: string }>>('deployments.json'));
    expect(deployments.filter((d) => d.environment === 'green').map((d) => d.status)).toEqual(['stopped']);
    expect(deployments.filter((d) => d.environment === 'staging').map((d) => d.status)).toEqual(['stopped']);
    expect(existsSync(join(f.state, 'releases.json'))).toBe(false);

    expect(await survivors(f.pids()), 'processes left behind').toEqual([]);
  }, 90_000);

  it('Ctrl-C during the traffic switch cancels the run and stops every process it started', async () => {
    const f = folder();
    const { child, finished } = f.start(deployArgs('release.json', 2));
    await until('green to take traffic', () => existsSync(join(f.state, 'production.json')) && f.json<Production>('production.json').weights.green > 0);
    expect(f.pids().length).toBeGreaterThanOrEqual(4);
    child.kill('SIGINT');
    const result = await finished;
    expect(result.code, explain(result)).toBe(1);
    expect(result.stdout).toMatch(/cancelled in/);
    expect(await survivors(f.pids()), 'processes left behind').toEqual([]);
  }, 90_000);

  it('killed outright (SIGKILL), its processes still go; `gantry resume` starts them again and finishes the deployment', async () => {
    const f = folder();
    const { child, finished } = f.start(deployArgs('release.json', 1));
    await until('green at 25%', () => existsSync(join(f.state, 'production.json')) && f.json<Production>('production.json').weights.green >= 25);
    child.kill('SIGKILL');
    const killed = await finished;
    const runId = runIdOf(killed);
    expect(await survivors(f.pids()), 'processes left behind by a killed gantry').toEqual([]);

    const resumed = await f.run(['resume', runId]);
    expect(resumed.code, explain(resumed)).toBe(0);
    expect(f.lines<Verification>('verifications.jsonl')).toEqual([expect.objectContaining({ by: expect.stringMatching(/^cleanup_blue_environment/), ok: true, by_version: { '2.0.0': 20 } })]);
    const deployments = Object.values(f.json<Record<string, { environment: string; restarts: number }>>('deployments.json'));
    expect(deployments.find((d) => d.environment === 'green')!.restarts).toBe(1);
    // Green's metrics after the resume come from its new process: a window never claims traffic
    // from before that process started (its counters hold none of it).
    const greens = f.lines<{ name: string; started_at: string }>('processes.jsonl').filter((p) => p.name.startsWith('green-'));
    const restartedAt = Date.parse(greens.at(-1)!.started_at);
    for (let step = 0; step < 5; step++) {
      const metrics = f.outputOf(`${runId}.production_deployment.gradual_traffic_switch[${step}]`, 'check_deployment_metrics');
      const window = metrics.window as { from: string; seconds: number };
      const end = Date.parse(window.from) + window.seconds * 1000;
      if (end > restartedAt) expect(Date.parse(window.from), `step ${step}: ${JSON.stringify(metrics)}`).toBeGreaterThanOrEqual(restartedAt - 1);
    }
    expect(await survivors(f.pids()), 'processes left behind').toEqual([]);
  }, 90_000);
});
