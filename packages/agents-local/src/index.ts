/**
 * @gantry/agents-local: the agent pack that makes the shipped flows do real work on one machine —
 * build, test, review and deploy the bundled sample service blue-green behind a local proxy.
 * The default configuration (gantry.config.json beside this package) binds its agents.
 */
export { DEFAULT_CONFIG_PATH, PACK_ROOT, SAMPLE_REPOSITORY, notificationsFile, stateDir } from './runtime/paths.js';
export { startedProcesses, stopAllProcesses, runningPids, processesFile } from './runtime/processes.js';
export type { ProcessRecord } from './runtime/processes.js';
export { slackOrFile, withLocalNotifications } from './notify/slack-fallback.js';
export { containerEngine, containerSettings } from './runtime/container-engine.js';
export type { ContainerEngine, ContainerSettings, EngineChoice } from './runtime/container-engine.js';
export type { ContainerImage } from './build/container-image.js';
export { accessLogFile, readProduction, verificationsFile } from './deploy/production.js';
export type { ProductionState, Verification } from './deploy/production.js';
export { stopLoad } from './deploy/load.js';
export { localSummary } from './summary.js';
export { parsePrometheusText, trafficCounters, trafficWindow, histogramQuantile } from './deploy/prometheus-text.js';
export type { Sample, TrafficCounters, TrafficWindow } from './deploy/prometheus-text.js';
export { reviewChanges } from './source/review.js';
export type { Review, ReviewFinding } from './source/review.js';
export { ruleFindings, securityScore, RULES } from './source/security.js';
export type { SecurityFinding } from './source/security.js';
export { lineCoverage, tapCounts } from './source/node-tests.js';
export { openRepository, resolveCommit, changedFiles } from './source/repository.js';
export type { Repository, Commit, ChangedFile } from './source/repository.js';
export { default as codeReviewer } from './agents/code-reviewer.js';
export { default as securityAnalyzer } from './agents/security-analyzer.js';
export { default as qaValidator } from './agents/qa-validator.js';
export { default as devopsManager } from './agents/devops-manager.js';
export { default as vulnerabilityScanner } from './agents/vulnerability-scanner.js';
export { default as deployer } from './agents/deployer.js';
export { default as incidentResponder } from './agents/incident-responder.js';
export { default as dashboards } from './agents/dashboards.js';
export { default as metricsCollector } from './agents/metrics-collector.js';

import { stopLoad } from './deploy/load.js';
import { stopAllProcesses } from './runtime/processes.js';

/** Stops everything the pack runs in this process: the load, then every child process. */
export async function shutdown(): Promise<void> {
  stopLoad();
  await stopAllProcesses();
}
