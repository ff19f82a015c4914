/**
 * The README's main job with a container engine: `gantry run flows/complete-deployment.json` builds
 * the sample service's images with podman, scans them, deploys staging and blue-green as
 * containers behind the same proxy, traffic and metric gates as the processes, and leaves no
 * container behind — at the end, on Ctrl-C, and when gantry is killed with SIGKILL (then
 * `gantry resume` starts them again from their images). Real podman, real images, real
 * containers; each test in a fresh folder, whose images are removed afterwards.
 *
 * Cost: about 30 s per test (two image builds of ~2.5 s each, the pipeline with 1–2 s bakes), five
 * tests: about 2.5 minutes of the suite's time, run beside the other files. Skipped, saying why, where podman does not work (.ci/run
 * installs it with apt).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVALS, EXAMPLES, explain, FLOW, Folder, runIdOf, until } from '../deploy/support.js';
import { containersOf, imagesOf, leftContainers, podman, podmanMissing, removeFromPodman } from './support.js';

interface Deployment {
  id: string;
  environment: string;
  status: string;
  url: string;
  version: string;
  restarts: number;
  container?: { name: string; image_id: string; image: string; engine: string };
}
interface Production {
  blue: string | null;
  green: string | null;
  weights: { blue: number; green: number };
}
interface Verification {
  by: string;
  ok: boolean;
  by_upstream: Record<string, number>;
  by_version: Record<string, number>;
}

const missing = podmanMissing();
if (missing !== undefined) console.warn(`test/containers skipped: ${missing}`);

const folders: Folder[] = [];
const folder = () => {
  const f = new Folder({ GANTRY_LOCAL_ENGINE: 'podman' });
  folders.push(f);
  return f;
};
afterEach(() => {
  for (const f of folders.splice(0)) {
    removeFromPodman(f);
    f.remove();
  }
});

const deployArgs = (release: string, bake: number) => ['run', FLOW, '--input', join(EXAMPLES, release), '--param', `bake_seconds=${bake}`, ...APPROVALS];
const deployments = (f: Folder) => Object.values(f.json<Record<string, Deployment>>('deployments.json'));
const production = (f: Folder) => f.json<Production>('production.json');
const inProduction = (f: Folder, green: number) => {
  try {
    return production(f).weights.green >= green;
  } catch {
    return false; // not written yet
  }
};

/** A run started in a fresh folder and followed until green takes `green`% of the traffic: staging, blue and green then run as containers. */
async function midRun(bake: number, green: number) {
  const f = folder();
  const started = f.start(deployArgs('release.json', bake));
  await until(`green at ${green}%`, () => inProduction(f, green), 100_000);
  expect(containersOf(f).filter((c) => c.State === 'running').length).toBeGreaterThanOrEqual(3);
  return { f, ...started };
}

describe.skipIf(missing !== undefined)('the complete deployment pipeline as containers (podman)', () => {
  it('builds two images, deploys staging and blue-green as containers, ends succeeded with green\'s container serving; none is left', async () => {
    const f = folder();
    const { finished } = f.start(deployArgs('release.json', 2));
    await until('green to take traffic', () => inProduction(f, 10), 100_000);

    // Mid-run: blue and green are containers, each answering through its port mapped on 127.0.0.1.
    const running = containersOf(f);
    const byName = new Map(running.map((c) => [c.Names[0], c]));
    for (const [environment, version] of [['blue', '1.0.0'], ['green', '2.0.0'], ['staging', '2.0.0']] as const) {
      const record = deployments(f).find((d) => d.environment === environment && d.status === 'running')!;
      expect(record.container, `${environment}: ${JSON.stringify(record)}`).toBeDefined();
      const container = byName.get(record.container!.name);
      expect(container, `${environment}'s container ${record.container!.name} among ${[...byName.keys()].join(', ')}`).toBeDefined();
      expect(container!.Labels['io.gantry.local.deployment']).toBe(record.id);
      expect(container!.Ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', container_port: 8080 })]);
      expect(record.url).toBe(`http://127.0.0.1:${container!.Ports![0]!.host_port}`);
      const health = await fetch(`${record.url}/health`);
      expect(await health.json()).toEqual({ status: 'ok', version });
    }

    const result = await finished;
    expect(result.code, explain(result)).toBe(0);
    const runId = runIdOf(result);
    expect(result.stderr).toMatch(/local agent pack: containers: images are built with podman and deployments run as containers — podman \S+ works here/);
    expect(result.stdout).toMatch(/deployments +as containers: podman/);
    expect(result.stdout).toMatch(/production +served by green \(version 2\.0\.0\) at the end: 20 requests through\s+the proxy, 20 by version 2\.0\.0/);

    // The build: the Dockerfile built and tagged with the commit and the branch, its digest
    // recorded and pushed into the local OCI layout; the worker's Dockerfile is not in this repository.
    const build = f.outputOf(`${runId}.build_pipeline`, 'build_containers') as { mode: string; images: string[]; tags: string[]; containers: { dockerfile: string; status: string; id?: string; digest?: string }[] };
    expect(build.mode).toBe('containers');
    expect(build.images).toEqual([expect.stringMatching(/^localhost\/sample-service:v2@sha256:[0-9a-f]{64}$/)]);
    expect(build.tags).toEqual(['localhost/sample-service:v2', 'localhost/sample-service:main-latest']);
    expect(build.containers.map((c) => `${c.dockerfile} ${c.status}`)).toEqual(['Dockerfile built', 'docker/Dockerfile.worker not_found']);
    const inspected = podman(['image', 'inspect', '--format', '{{.Digest}}', build.containers[0]!.id!]);
    expect(inspected.stdout.trim()).toBe(build.containers[0]!.digest);
    expect(build.images[0]!.endsWith(`@${build.containers[0]!.digest}`)).toBe(true);
    const layout = JSON.parse(readFileSync(join(f.state, 'registry', 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(layout.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['sample-service:v2', 'sample-service:main-latest']);

    // Two images: the release (v2) and the live one kept as blue (v1).
    const images = imagesOf(f);
    expect(images.map((i) => i.Labels?.['io.gantry.local.commit']).sort()).toEqual(['v1', 'v2']);

    // The scan read the image: with no scanner on the PATH it lists the image's packages and says it did not scan.
    const scan = f.outputOf(`${runId}.build_pipeline`, 'scan_containers') as { status: string; passed: boolean; scans: { scanner: string; packages?: { name: string }[]; note: string }[] };
    if (!['trivy', 'grype'].some((tool) => spawnSync('which', [tool]).status === 0)) {
      expect(scan).toMatchObject({ status: 'not_scanned', passed: false });
      expect(scan.scans[0]!.scanner).toBe('manifest');
      expect(scan.scans[0]!.packages!.map((p) => p.name)).toEqual(expect.arrayContaining(['node', 'libc6']));
      expect(scan.scans[0]!.note).toMatch(/^NOT SCANNED/);
      expect(result.stdout).toMatch(/scan +NOT SCANNED/);
    }

    // Every deployment ran as a container; the end of the run proved green serves, through the proxy.
    expect(deployments(f).map((d) => `${d.environment} ${d.container?.engine}`).sort()).toEqual(['blue podman', 'green podman', 'staging podman', 'test podman']);
    expect(f.lines<Verification>('verifications.jsonl')).toEqual([expect.objectContaining({ by: expect.stringMatching(/^cleanup_blue_environment/), ok: true, by_upstream: { green: 20 }, by_version: { '2.0.0': 20 } })]);
    expect(await leftContainers(f), 'containers left behind').toEqual([]);
  }, 150_000);

  it('a slow green rolls back to blue\'s container: rolled_back, green\'s container stopped, blue\'s kept to the end; retried with its fault off, it succeeds', async () => {
    const f = folder();
    const result = await f.run(deployArgs('faulty-release.json', 2));
    expect(result.code, explain(result)).toBe(1);
    const runId = runIdOf(result);
    expect(f.show(runId).run.status).toBe('rolled_back');
    expect(result.stdout).toMatch(/production +served by blue \(version 1\.0\.0\) at the end/);
    const proofs = f.lines<Verification>('verifications.jsonl');
    expect(proofs.map((v) => v.by.split(' ')[0])).toEqual(['emergency_rollback', 'emergency_rollback', 'rollback_production']);
    for (const proof of proofs) expect(proof).toMatchObject({ ok: true, by_upstream: { blue: 20 }, by_version: { '1.0.0': 20 } });
    const all = deployments(f);
    expect(all.filter((d) => d.environment === 'green').map((d) => `${d.status} ${d.container?.engine}`)).toEqual(['stopped podman']);
    // Blue served until gantry ended: its deployment was never stopped, only its container removed with gantry.
    expect(all.filter((d) => d.environment === 'blue').map((d) => `${d.status} ${d.container?.engine}`)).toEqual(['running podman']);
    expect(production(f)).toMatchObject({ green: null, weights: { blue: 100, green: 0 } });
    expect(await leftContainers(f), 'containers left behind').toEqual([]);

    // Its fault switched off in gantry's environment, which reaches the containers as it reaches
    // processes, the retry deploys the same image again and green passes its gates.
    const retried = await f.run(['retry', runId], { FAULT: 'none' });
    expect(retried.code, explain(retried)).toBe(0);
    expect(retried.stdout).toMatch(/production +served by green \(version 2\.0\.1\) at the end/);
    expect(f.show(runId).run.status).toBe('succeeded');
    // What the deployed containers printed is kept with the task that started them.
    const logs = await f.run(['logs', runId, 'production_deployment']);
    expect(logs.code, explain(logs)).toBe(0);
    expect(logs.stdout).toMatch(/listening/);
    expect(await leftContainers(f), 'containers left behind').toEqual([]);
  }, 240_000);

  it('Ctrl-C mid-run cancels it and removes every container it started', async () => {
    const { f, child, finished } = await midRun(2, 10);
    child.kill('SIGINT');
    const result = await finished;
    expect(result.code, explain(result)).toBe(1);
    expect(result.stdout).toMatch(/cancelled in/);
    expect(await leftContainers(f), 'containers left behind').toEqual([]);
  }, 150_000);

  it('killed outright (SIGKILL), its containers still go; `gantry resume` starts them again from their images and finishes', async () => {
    const { f, child, finished } = await midRun(1, 25);
    child.kill('SIGKILL');
    const runId = runIdOf(await finished);
    expect(await leftContainers(f), 'containers left behind by a killed gantry').toEqual([]);

    const resumed = await f.run(['resume', runId]);
    expect(resumed.code, explain(resumed)).toBe(0);
    const green = deployments(f).find((d) => d.environment === 'green')!;
    expect(green).toMatchObject({ restarts: 1, container: { engine: 'podman', name: `gantry-${green.id}-1` } });
    expect(f.lines<Verification>('verifications.jsonl')).toEqual([expect.objectContaining({ ok: true, by_upstream: { green: 20 }, by_version: { '2.0.0': 20 } })]);
    // The resume built nothing: it ran the images the first process built.
    expect(imagesOf(f).map((i) => i.Labels?.['io.gantry.local.commit']).sort(), JSON.stringify(imagesOf(f))).toEqual(['v1', 'v2']);
    expect(await leftContainers(f), 'containers left behind').toEqual([]);
  }, 150_000);

  it('watchers killed with gantry leave their containers; the next gantry in the folder removes them (a sweep by label) before it starts its own', async () => {
    const { f, child, finished } = await midRun(1, 10);
    // Every container's watcher, then gantry, killed outright: nothing is left to remove a container.
    for (const { pid } of f.lines<{ pid: number; role: string }>('processes.jsonl').filter((p) => p.role === 'container')) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone (the integration tests' container)
      }
    }
    child.kill('SIGKILL');
    const runId = runIdOf(await finished);
    await new Promise((r) => setTimeout(r, 2000));
    const orphans = containersOf(f).filter((c) => c.State === 'running');
    expect(orphans.length, 'containers whose watcher is gone').toBeGreaterThanOrEqual(3);

    const resumed = await f.run(['resume', runId]);
    expect(resumed.code, explain(resumed)).toBe(0);
    expect(await leftContainers(f), 'containers left behind').toEqual([]);
  }, 150_000);
});
