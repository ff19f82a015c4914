import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { readBuildMode } from './build/build-mode.js';
import { readProduction, verificationsFile, type Verification } from './deploy/production.js';
import { readJsonLines } from './runtime/files.js';
import { notificationsFile, stateDir } from './runtime/paths.js';

/**
 * What a run with the local pack did and left behind, as the lines `gantry run` prints at its
 * end: which version serves production, the proof of it, and where the files are. Paths are
 * shown relative to `cwd`. Empty when the run touched nothing of the pack's.
 */
export function localSummary(runId: string, cwd = process.cwd()): string[] {
  const show = (path: string) => relative(cwd, path) || '.';
  const lines: string[] = [];
  const mine = (by: string) => by.includes(runId);
  const production = readProduction();
  const proofs = readJsonLines<Verification>(verificationsFile()).filter((v) => mine(v.by));
  const last = proofs.at(-1);
  if (production !== undefined && production.run === runId && last !== undefined) {
    const answered = Object.entries(last.by_version).map(([version, n]) => `${n} by version ${version}`).join(', ');
    lines.push(`production    ${last.ok ? 'served by' : 'expected'} ${last.expected} at the end: ${last.requests} requests through the proxy, ${answered || 'none answered'} (${show(verificationsFile())})`);
  }
  const build = readBuildMode(runId);
  if (build?.mode === 'containers') lines.push(`deployments   as containers: ${build.why}; images ${build.images.join(', ')}${build.pushed_to ? `, pushed to ${build.pushed_to.startsWith('/') ? show(build.pushed_to) : build.pushed_to}` : ''}`);
  if (build?.mode === 'processes') lines.push(`deployments   as processes: ${build.why}`);
  if (build?.scan?.status === 'not_scanned') lines.push('scan          NOT SCANNED: no vulnerability scanner (trivy, grype) on the PATH; the images\' manifests list their packages (the build pipeline\'s scan_containers result)');
  const notifications = notificationsFile();
  if (existsSync(notifications)) {
    const count = readFileSync(notifications, 'utf8').split('\n').filter((l) => l.includes(runId)).length;
    if (count > 0) lines.push(`notifications ${count} from this run in ${show(notifications)} (no SLACK_TOKEN set)`);
  }
  const monitoring = stateDir('monitoring');
  const written = readdirSync(monitoring, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  if (written > 0) lines.push(`monitoring    ${written} files in ${show(monitoring)}: Grafana dashboards, Prometheus rules and scrape configs (for ports of processes that have stopped)`);
  if (lines.length === 0) return [];
  const ending = build?.mode === 'containers' ? '  containers    every container and process the pack started is removed when gantry exits' : '  processes     every process the pack started stops when gantry exits';
  return [`Where to look (the local agent pack keeps its state in ${show(stateDir())}):`, ...lines.map((l) => `  ${l}`), ending];
}

