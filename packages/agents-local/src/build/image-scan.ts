/**
 * The vulnerability scan of a container image. A scanner on the PATH (trivy, else grype) scans the
 * image itself, saved as an OCI archive. With none, the image's own manifest of what was copied
 * into it is read out of the image (a container created, never started, for the purpose): its
 * packages are listed in the result, and the scan says `not_scanned` — a missing scanner is never
 * reported as a pass. Its counts are then those of the application's third-party packages as the
 * process images count them (scan.ts): none means nothing to match, some means null counts, so the
 * security gate fails rather than passing on nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { containerEngine, engineRun, LABELS, stateLabel, type ContainerEngine } from '../runtime/container-engine.js';
import { writeJson } from '../runtime/files.js';
import { stateDir } from '../runtime/paths.js';
import type { Artifact } from './artifacts.js';
import type { ContainerImage } from './container-image.js';
import type { ImageManifest } from './runtime-layer.js';
import { which } from '../source/tools.js';
import { runGrype, runTrivy, thirdPartyPackages, type Counts, type ImageScan, type ScannerRun } from './scan.js';
import { packFailure } from '../runtime/failure.js';

export interface ContainerScanOptions {
  readonly threshold: string;
  /** The design document's `fail_on_critical`: a critical finding fails the scan (else it is reported). */
  readonly failOnCritical: boolean;
  readonly signal?: AbortSignal;
}

export async function scanContainerImage(artifact: Artifact & { container: ContainerImage }, options: ContainerScanOptions): Promise<ImageScan & { packages?: ImageManifest['packages'] }> {
  const image = artifact.container;
  const { engine, why } = await containerEngine();
  if (engine === null) throw packFailure(`${image.ref} is a container image, but no container engine works here now to read it: ${why}`);
  const report = join(stateDir('reports'), `scan-${image.digest.replace(/^sha256:/, '').slice(0, 12)}.json`);
  const scanners = await runScanners(engine, image, options);
  const ran = scanners.find((s) => s.counts !== undefined);
  const tools = scanners.map((s) => s.status);
  const thirdParty = thirdPartyPackages(artifact.dir);
  if (ran?.counts !== undefined) {
    const critical = ran.counts.critical ?? 0;
    const status = critical > 0 && options.failOnCritical ? 'failed' : 'passed';
    const scan = { image: image.ref, status, scanner: ran.status.tool as 'trivy' | 'grype', vulnerabilities: ran.counts, third_party_packages: thirdParty, tools, note: `${ran.status.tool} scanned ${image.ref} at ${options.threshold} and above: ${critical} critical${critical > 0 && !options.failOnCritical ? ' (reported, not failed: fail_on_critical is false)' : ''}`, report } as const;
    writeJson(report, { ...scan, output: ran.raw });
    return scan;
  }
  const manifest = await readManifest(engine, image, options.signal);
  const counts: Counts = thirdParty.length === 0 ? { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 } : { critical: null, high: null, medium: null, low: null, unknown: null };
  const listed = manifest.packages.map((p) => `${p.name} ${p.version}`).join(', ') || 'none listed';
  const scan = {
    image: image.ref,
    status: 'not_scanned',
    scanner: 'manifest',
    vulnerabilities: counts,
    third_party_packages: thirdParty,
    tools,
    packages: manifest.packages,
    note:
      `NOT SCANNED: no vulnerability scanner on the PATH (trivy, grype). The image's manifest (${image.manifest_path}) lists what was copied into it — ${listed} (base: ${manifest.base}) — and none of it was checked against a vulnerability database. ` +
      (thirdParty.length === 0 ? 'The application ships no third-party package, so the counts are those of the application alone.' : `The application's ${thirdParty.length} third-party package(s) were not checked either: the counts are unknown.`),
    report,
  } as const;
  writeJson(report, { ...scan, manifest });
  return scan;
}

async function runScanners(engine: ContainerEngine, image: ContainerImage, options: ContainerScanOptions): Promise<ScannerRun[]> {
  const absent: ScannerRun[] = [];
  for (const tool of ['trivy', 'grype'] as const) {
    if (which(tool) === undefined) {
      absent.push({ status: { tool, status: 'not_run', reason: `${tool} is not on the PATH` } });
      continue;
    }
    // Both read an OCI archive: no daemon, no registry, the same for podman and docker.
    const archive = join(stateDir('containers'), `scan-${image.id.slice(0, 12)}-${randomBytes(3).toString('hex')}.tar`);
    try {
      await engineRun(engine, ['save', ...(engine.name === 'podman' ? ['--format', 'oci-archive'] : []), '--output', archive, image.id], { timeoutMs: 600_000, ...(options.signal ? { signal: options.signal } : {}) });
      const run = tool === 'trivy' ? await runTrivy(['image', '--input', archive], stateDir(), options.threshold, options.signal) : await runGrype(`oci-archive:${archive}`, stateDir(), options.threshold, options.signal);
      if (run.counts !== undefined) return [...absent, run];
      absent.push(run);
    } finally {
      rmSync(archive, { force: true });
    }
  }
  return absent;
}

/** The image's manifest, copied out of a container created from it (and removed). */
async function readManifest(engine: ContainerEngine, image: ContainerImage, signal?: AbortSignal): Promise<ImageManifest> {
  const name = `gantry-scan-${image.id.slice(0, 12)}-${randomBytes(3).toString('hex')}`;
  const copy = join(stateDir('containers'), `${name}.json`);
  const options = signal ? { signal } : {};
  // Labelled like a deployment's container, with this process as its watcher: a sweep removes it if this process dies first.
  await engineRun(engine, ['create', '--name', name, '--label', `${LABELS.state}=${stateLabel()}`, '--label', `${LABELS.watcher}=${process.pid}`, image.id], options);
  try {
    await engineRun(engine, ['cp', `${name}:${image.manifest_path}`, copy], options);
    return JSON.parse(readFileSync(copy, 'utf8')) as ImageManifest;
  } catch (error) {
    throw packFailure(`cannot read the manifest ${image.manifest_path} of ${image.ref}: ${(error as Error).message}`);
  } finally {
    rmSync(copy, { force: true });
    await engineRun(engine, ['rm', '--force', name]).catch(() => undefined);
  }
}
