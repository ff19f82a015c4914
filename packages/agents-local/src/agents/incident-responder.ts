/**
 * automated-incident-responder: green's error rate and p95 latency over a traffic step's window,
 * read from green's own /metrics (check_deployment_metrics), and the alerting rules
 * (configure_alerting_rules, written as a Prometheus rule file).
 */
import type { JsonObject } from '@gantry/engine';
import { ensureRunning, type DeploymentRecord } from '../deploy/deployments.js';
import { loadStats } from '../deploy/load.js';
import { readCounters } from '../deploy/probes.js';
import { ensureProduction, type ProductionState } from '../deploy/production.js';
import { trafficWindow, windowStart } from '../deploy/prometheus-text.js';
import { writeAlertRules, type AlertSpec } from '../monitoring/files.js';
import { json, number, pauseOn, serviceOf, text, type Handler } from './common.js';

/** Fewer requests than this in a window is too little evidence: the check waits for more traffic. */
const MIN_REQUESTS = Number(process.env.GANTRY_LOCAL_MIN_REQUESTS ?? 10);
/** The longest the check waits for that traffic, and how often it reads green's counters meanwhile. */
const MAX_EXTRA_WAIT_MS = 15_000;
const READ_EVERY_MS = 250;

/**
 * The window runs from the traffic step's split (update_traffic_split's reading of green's
 * counters, or the start of green's process when it was started again since) to now: the error rate is the share of 5xx answers to user requests, p95 the
 * histogram's 95th percentile, as PromQL's increase() and histogram_quantile() would compute them.
 * No request at all gives nulls, which the metrics gate fails on.
 */
const checkDeploymentMetrics: Handler = async (inputs, _task, signal, { clock }) => {
  const state = await ensureProduction();
  const green = await ensureRunning(inputs.deployment_id);
  const start = windowStart(state.baseline?.deployment_id === green.id ? state.baseline : undefined, { pid: green.pid, since: since(green) });
  let window = trafficWindow(start.counters, await readCounters(green.url));
  // The wait is the task's, so it runs on the engine's clock (a test's fake clock skips it).
  const deadline = clock.now() + MAX_EXTRA_WAIT_MS;
  while (window.requests < MIN_REQUESTS && clock.now() < deadline && !signal.aborted) {
    await pauseOn(clock, READ_EVERY_MS, signal);
    window = trafficWindow(start.counters, await readCounters(green.url));
  }
  const result: JsonObject = {
    error_rate_percent: window.error_rate_percent,
    p95_latency_ms: window.p95_latency_ms,
    requests: window.requests,
    errors: window.errors,
    deployment_id: green.id,
    version: green.version,
    green_weight: number(inputs, 'green_weight', state.weights.green),
    window: { ...(json(window) as JsonObject), from: start.counters?.at ?? since(green), restarted: start.restarted, requested_seconds: number(inputs, 'window_seconds', 0) },
    blue: await blueWindow(state),
    source: `${green.url}/metrics`,
    load: json(loadStats() ?? null),
  };
  const notes: string[] = [];
  if (start.restarted) notes.push(`green was started again at ${since(green)} (its process had gone, as after a gantry resume): the window holds only the traffic since then, not the whole step`);
  if (window.requests < MIN_REQUESTS) notes.push(`only ${window.requests} request(s) reached green in the window (${MIN_REQUESTS} wanted): the figures rest on little evidence`);
  if (notes.length > 0) result.note = notes.join('; ');
  return result;
};

/** When a deployment's current process started. */
function since(record: DeploymentRecord): string {
  return record.restarted_at ?? record.started_at;
}

/** Blue's figures over the same window, for comparison (the gate reads green's only). */
async function blueWindow(state: ProductionState): Promise<JsonObject | null> {
  const reading = state.baseline?.blue;
  if (reading === undefined || state.blue !== reading.deployment_id) return null;
  const blue = await ensureRunning(reading.deployment_id);
  const start = windowStart(reading, { pid: blue.pid, since: since(blue) });
  const window = trafficWindow(start.counters, await readCounters(blue.url));
  return { deployment_id: blue.id, version: blue.version, error_rate_percent: window.error_rate_percent, p95_latency_ms: window.p95_latency_ms, requests: window.requests, errors: window.errors, restarted: start.restarted };
}

const configureAlertingRules: Handler = async (inputs) => {
  const rules = (Array.isArray(inputs.rules) ? inputs.rules : []) as unknown as AlertSpec[];
  const written = writeAlertRules(rules, serviceOf(inputs), text(inputs, 'environment', 'production'));
  return { rules: json(written.rules), file: written.file };
};

export default { check_deployment_metrics: checkDeploymentMetrics, configure_alerting_rules: configureAlertingRules };
