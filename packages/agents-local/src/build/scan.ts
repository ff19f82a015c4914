/**
 * The vulnerability scan of an image: trivy when it is on the PATH; otherwise an inventory of the
 * image's third-party packages. An image with none has nothing a vulnerability database could
 * match, and the result says exactly that; an image with packages and no scanner is reported
 * "not_run" with no counts, so a gate on the counts fails rather than passing on nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJson } from '../runtime/files.js';
import { stateDir } from '../runtime/paths.js';
import { runTool, which, type ToolStatus } from '../source/tools.js';
import type { Artifact } from './artifacts.js';

const LEVELS = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Counts = Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number | null>;

export interface ImageScan {
  readonly image: string;
  /** `not_scanned`: a container image's packages were listed from its manifest, no scanner looked at them. */
  readonly status: 'passed' | 'failed' | 'not_run' | 'not_scanned';
  readonly scanner: 'trivy' | 'grype' | 'inventory' | 'manifest';
  readonly vulnerabilities: Counts;
  readonly third_party_packages: string[];
  readonly tools: ToolStatus[];
  readonly note: string;
  readonly report: string;
}

export async function scanImage(artifact: Artifact, threshold: string, signal?: AbortSignal): Promise<ImageScan> {
  const image = artifact.manifest.image;
  const packages = thirdPartyPackages(artifact.dir);
  const trivy = await runTrivy(['fs', artifact.dir], artifact.dir, threshold, signal);
  const report = join(stateDir('reports'), `scan-${artifact.manifest.digest.slice(7, 19)}.json`);
  let scan: ImageScan;
  if (trivy.counts !== undefined) {
    scan = { image, status: trivy.counts.critical === 0 ? 'passed' : 'failed', scanner: 'trivy', vulnerabilities: trivy.counts, third_party_packages: packages, tools: [trivy.status], note: `trivy scanned ${image} at ${threshold} and above`, report };
  } else if (packages.length === 0) {
    const zero = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
    scan = {
      image,
      status: 'passed',
      scanner: 'inventory',
      vulnerabilities: zero,
      third_party_packages: [],
      tools: [trivy.status],
      note: `${image} ships no third-party package (no dependencies in package.json, no node_modules): there is nothing a vulnerability database could match. Its own code is checked by the security analysis of the changes.`,
      report,
    };
  } else {
    const unknown = { critical: null, high: null, medium: null, low: null, unknown: null };
    scan = { image, status: 'not_run', scanner: 'inventory', vulnerabilities: unknown, third_party_packages: packages, tools: [trivy.status], note: `${packages.length} third-party package(s) and no vulnerability scanner: install trivy to scan them`, report };
  }
  writeJson(report, { ...scan, trivy_output: trivy.raw });
  return scan;
}

export interface ScannerRun {
  readonly status: ToolStatus;
  readonly counts?: Counts;
  readonly raw?: unknown;
}

/** The severities at `threshold` and above. */
function severitiesFrom(threshold: string): (typeof LEVELS)[number][] {
  return LEVELS.slice(Math.max(0, LEVELS.indexOf(threshold.toUpperCase() as (typeof LEVELS)[number])));
}

/** Counts findings by severity (anything unrecognised is `unknown`). */
function count(severities: readonly (string | undefined)[]): Counts {
  const counts: Counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const severity of severities) {
    const key = (severity ?? 'UNKNOWN').toLowerCase() as keyof Counts;
    const slot = key in counts ? key : 'unknown';
    counts[slot] = (counts[slot] ?? 0) + 1;
  }
  return counts;
}

/** trivy on a target (`fs <dir>`, `image --input <archive>`), at `threshold` and above. */
export async function runTrivy(target: readonly string[], cwd: string, threshold: string, signal?: AbortSignal): Promise<ScannerRun> {
  if (which('trivy') === undefined) return { status: { tool: 'trivy', status: 'not_run', reason: 'trivy is not on the PATH' } };
  const severities = severitiesFrom(threshold);
  const [mode, ...rest] = target;
  const result = await runTool('trivy', [mode!, '--quiet', '--format', 'json', '--scanners', 'vuln', '--severity', severities.join(','), ...rest], { cwd, timeoutMs: 600_000, ...(signal ? { signal } : {}) });
  try {
    const parsed = JSON.parse(result.stdout) as { Results?: { Vulnerabilities?: { Severity?: string }[] }[] };
    const counts = count((parsed.Results ?? []).flatMap((r) => (r.Vulnerabilities ?? []).map((v) => v.Severity)));
    return { status: { tool: 'trivy', status: 'ran' }, counts, raw: parsed };
  } catch {
    return { status: { tool: 'trivy', status: 'failed', reason: result.timedOut ? 'timed out' : `exit ${result.code}: ${result.stderr.trim().split('\n').at(-1) ?? ''}` } };
  }
}

/** grype on a target (`oci-archive:<file>`), keeping the findings at `threshold` and above. */
export async function runGrype(target: string, cwd: string, threshold: string, signal?: AbortSignal): Promise<ScannerRun> {
  if (which('grype') === undefined) return { status: { tool: 'grype', status: 'not_run', reason: 'grype is not on the PATH' } };
  const result = await runTool('grype', [target, '--output', 'json', '--quiet'], { cwd, timeoutMs: 600_000, ...(signal ? { signal } : {}) });
  try {
    const parsed = JSON.parse(result.stdout) as { matches?: { vulnerability?: { severity?: string } }[] };
    // grype says Negligible where trivy says Low.
    const found = (parsed.matches ?? []).map((m) => (m.vulnerability?.severity === 'Negligible' ? 'LOW' : (m.vulnerability?.severity ?? 'UNKNOWN')).toUpperCase());
    const wanted: readonly string[] = severitiesFrom(threshold);
    return { status: { tool: 'grype', status: 'ran' }, counts: count(found.filter((s) => wanted.includes(s))), raw: parsed };
  } catch {
    return { status: { tool: 'grype', status: 'failed', reason: result.timedOut ? 'timed out' : `exit ${result.code}: ${result.stderr.trim().split('\n').at(-1) ?? ''}` } };
  }
}

/** The image's third-party packages: declared dependencies and installed node_modules. */
export function thirdPartyPackages(dir: string): string[] {
  const found = new Set<string>();
  const pkgFile = join(dir, 'package.json');
  if (existsSync(pkgFile)) {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) for (const name of Object.keys(pkg[field] ?? {})) found.add(name);
  }
  const modules = join(dir, 'node_modules');
  if (existsSync(modules)) {
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) for (const scoped of readdirSync(join(modules, entry))) found.add(`${entry}/${scoped}`);
      else found.add(entry);
    }
  }
  return [...found].sort();
}
