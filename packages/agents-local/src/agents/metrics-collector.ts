/**
 * metrics-collector-prometheus: the deployment registered as a Prometheus scrape target, after a
 * real scrape of its /metrics (configure_metrics_collection), and synthetic checks probed once
 * now and written for a prober to repeat (setup_synthetic_monitoring).
 */
import type { JsonObject } from '@gantry/engine';
import { probeHealth } from '../deploy/probes.js';
import { parsePrometheusText } from '../deploy/prometheus-text.js';
import { describeFailure, http } from '../runtime/http.js';
import { jobName, writeMonitoringJson, writeScrapeConfig } from '../monitoring/files.js';
import { addressOf, failed, serviceOf, text, type Handler } from './common.js';

const configureMetricsCollection: Handler = async (inputs) => {
  const { url, deployment_id } = await addressOf(inputs);
  const path = text(inputs, 'metrics_path', '/metrics');
  let samples: number;
  try {
    const answer = await http(`${url}${path}`);
    samples = answer.status === 200 ? parsePrometheusText(answer.text).length : 0;
  } catch (error) {
    return failed(`cannot scrape ${url}${path}: ${describeFailure(error)}`);
  }
  if (samples === 0) return failed(`${url}${path} exposes no metric`);
  const target = new URL(url).host;
  const service = serviceOf(inputs);
  const environment = text(inputs, 'environment', 'production');
  const file = writeScrapeConfig(service, environment, [target], path, text(inputs, 'scrape_interval', '15s'));
  return { targets: [target], job: jobName(service, environment), scraped: { url: `${url}${path}`, samples }, config_file: file, deployment_id: deployment_id ?? null };
};

const setupSyntheticMonitoring: Handler = async (inputs) => {
  const { url } = await addressOf(inputs);
  const checks = (Array.isArray(inputs.checks) ? inputs.checks : [{ path: '/health', interval: '30s', expected_status: 200 }]) as JsonObject[];
  const monitors = [];
  for (const check of checks) {
    const path = text(check, 'path', '/health');
    const probe = await probeHealth(url, path);
    monitors.push({ url: `${url}${path}`, interval: text(check, 'interval', '30s'), expected_status: check.expected_status ?? 200, first_probe: { ok: probe.status === (check.expected_status ?? 200), status: probe.status, ms: probe.ms } });
  }
  const service = serviceOf(inputs);
  const environment = text(inputs, 'environment', 'production');
  const file = writeMonitoringJson('synthetic', jobName(service, environment), { monitors });
  return { monitors, config_file: file };
};

export default { configure_metrics_collection: configureMetricsCollection, setup_synthetic_monitoring: setupSyntheticMonitoring };
