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
type Counts = Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number | null>;

export interface ImageScan {
  readonly image: string;
  readonly status: 'passed' | 'failed' | 'not_run';
  readonly scanner: 'trivy' | 'inventory';
  readonly vulnerabilities: Counts;
  readonly third_party_packages: string[];
  readonly tools: ToolStatus[];
  readonly note: string;
  readonly report: string;
}

export async function scanImage(artifact: Artifact, threshold: string, signal?: AbortSignal): Promise<ImageScan> {
  const image = artifact.manifest.image;
  const packages = thirdPartyPackages(artifact.dir);
  const trivy = await runTrivy(artifact.dir, threshold, signal);
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

async function runTrivy(dir: string, threshold: string, signal?: AbortSignal): Promise<{ status: ToolStatus; counts?: Counts; raw?: unknown }> {
  if (which('trivy') === undefined) return { status: { tool: 'trivy', status: 'not_run', reason: 'trivy is not on the PATH' } };
  const from = Math.max(0, LEVELS.indexOf(threshold as (typeof LEVELS)[number]));
  const severities = LEVELS.slice(from).join(',');
  const result = await runTool('trivy', ['fs', '--quiet', '--format', 'json', '--scanners', 'vuln', '--severity', severities, dir], { cwd: dir, timeoutMs: 600_000, ...(signal ? { signal } : {}) });
  try {
    const parsed = JSON.parse(result.stdout) as { Results?: { Vulnerabilities?: { Severity?: string }[] }[] };
    const counts: Counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
    for (const r of parsed.Results ?? []) {
      for (const v of r.Vulnerabilities ?? []) {
        const key = (v.Severity ?? 'UNKNOWN').toLowerCase() as keyof Counts;
        counts[key in counts ? key : 'unknown'] = (counts[key in counts ? key : 'unknown'] ?? 0) + 1;
      }
    }
    return { status: { tool: 'trivy', status: 'ran' }, counts, raw: parsed };
  } catch {
    return { status: { tool: 'trivy', status: 'failed', reason: result.timedOut ? 'timed out' : `exit ${result.code}: ${result.stderr.trim().split('\n').at(-1) ?? ''}` } };
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
