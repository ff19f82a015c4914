/**
 * DESIGN §12, retry, for real: the README's faulty release ends rolled_back; after its fault is
 * switched off in the environment of the deployment (`FAULT=none`, the sample service's knob,
 * which the pack passes on to the services it starts), `gantry retry <runId>` carries the same
 * run on from the failed production deployment and ends succeeded, with green — the same build,
 * not rebuilt — serving every request through the proxy. Build first: `npx tsc -b`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVALS, EXAMPLES, explain, FLOW, Folder, runIdOf, survivors } from './support.js';

interface Verification {
  by: string;
  ok: boolean;
  by_upstream: Record<string, number>;
  by_version: Record<string, number>;
}

const folders: Folder[] = [];
afterEach(() => {
  for (const f of folders.splice(0)) f.remove();
});

describe('gantry retry of the faulty release', () => {
  it('rolled back, then retried once the fault is switched off: the same run succeeds and green serves the same build (2.0.1)', async () => {
    const f = new Folder();
    folders.push(f);
    const first = await f.run(['run', FLOW, '--input', join(EXAMPLES, 'faulty-release.json'), '--param', 'bake_seconds=1', ...APPROVALS]);
    expect(first.code, explain(first)).toBe(1);
    const runId = runIdOf(first);
    expect(f.show(runId).run.status).toBe('rolled_back');

    // Refused before anything runs: a sub-flow's run, and a node the flow does not have.
    const child = await f.run(['retry', `${runId}.production_deployment`]);
    expect(child.code, explain(child)).toBe(2);
    expect(child.stderr).toContain(`run ${runId}.production_deployment is a sub-flow's run of ${runId}`);
    const typo = await f.run(['retry', runId, '--from', 'production_deploy']);
    expect(typo.code, explain(typo)).toBe(2);
    expect(typo.stderr).toContain('has no node "production_deploy" — did you mean "production_deployment"?');

    const retried = await f.run(['retry', runId], { FAULT: 'none' });
    expect(retried.code, explain(retried)).toBe(0);
    expect(retried.stdout).toContain(`Complete Deployment Pipeline — run ${runId}`);
    // The escalation of the attempt before the retry is not news of this one: one short line.
    expect(retried.stdout).toContain('Complete Deployment Pipeline: succeeded');
    expect(retried.stdout).toContain('\n  before the retry: 1 escalation sent about the failure it retried\n');
    expect(retried.stdout).not.toContain('escalation:');
    expect(retried.stdout).toMatch(/production +served by green \(version 2\.0\.1\) at the end: 20 requests through\s+the proxy, 20 by version 2\.0\.1/);

    const { run, events } = f.show(runId);
    expect(run.status).toBe('succeeded');
    expect(events.find((e) => e.type === 'run.retried')).toMatchObject({ nodes: ['production_deployment', 'monitoring_setup', 'notification'], by: 'cli' });
    // What had succeeded kept its output: the build, staging and the approval ran once.
    const starts = (node: string) => events.filter((e) => e.type === 'node.started' && e.nodeId === node).length;
    expect(['build_pipeline', 'staging_deployment', 'production_approval'].map(starts)).toEqual([1, 1, 1]);
    expect(events.filter((e) => e.type === 'node.started' && e.nodeId === 'production_deployment').map((e) => (e as { attempt?: number }).attempt)).toEqual([1, 2]);
    // The staging release undone by the rollback is not undone again.
    expect(events.filter((e) => e.type === 'compensation.started').map((e) => e.nodeId)).toEqual(['staging_deployment', 'production_deployment']);
    // The failed blue-green run stays as it ended; the retry's is a new child run that succeeded.
    expect(f.show(`${runId}.production_deployment`).run.status).toBe('rolled_back');
    expect(f.show(`${runId}.production_deployment~2`).run.status).toBe('succeeded');

    // Green took all the traffic, proven by requests through the proxy, and is the live release.
    const proofs = f.lines<Verification>('verifications.jsonl');
    expect(proofs.at(-1)).toMatchObject({ by: expect.stringMatching(/^cleanup_blue_environment/), ok: true, by_upstream: { green: 20 }, by_version: { '2.0.1': 20 } });
    expect(f.json<Record<string, { version: string; image: string }>>('releases.json')['sample-service']).toMatchObject({ version: '2.0.1', image: expect.stringContaining(':v2-slow@') });

    // Retrying it again is refused: it succeeded.
    const again = await f.run(['retry', runId]);
    expect(again.code, explain(again)).toBe(2);
    expect(again.stderr).toContain(`run ${runId} is succeeded: only a failed, rolled-back or cancelled run can be retried`);
    expect(await survivors(f.pids()), 'processes left behind').toEqual([]);
  }, 150_000);
});
