/**
 * observability-dashboard-manager-grafana: Grafana dashboards as JSON models (create_dashboards)
 * and the log shipping of the deployments' logs (setup_log_aggregation). setup_monitoring is
 * performed by flows/post-deployment-monitoring.json (the default configuration's `flows`).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getDeployment } from '../deploy/deployments.js';
import { jobName, writeDashboard, writeMonitoringJson, type DashboardSpec } from '../monitoring/files.js';
import { stateDir } from '../runtime/paths.js';
import { failed, serviceOf, text, type Handler } from './common.js';

const createDashboards: Handler = async (inputs) => {
  const specs = (Array.isArray(inputs.dashboards) ? inputs.dashboards : []) as unknown as DashboardSpec[];
  const environment = text(inputs, 'environment', 'production');
  const dashboards = specs.map((spec) => ({ name: spec.name, ...writeDashboard(spec, serviceOf(inputs), environment) }));
  return { dashboards, folder: stateDir('monitoring', 'grafana') };
};

/** The deployment's log file, shipped under the service's job name (a promtail-style target). */
const setupLogAggregation: Handler = async (inputs) => {
  const service = serviceOf(inputs);
  const environment = text(inputs, 'environment', 'production');
  const id = text(inputs, 'deployment_id', '');
  const log = id === '' ? undefined : join(stateDir('logs'), `${getDeployment(id).id}.log`);
  const files = log !== undefined && existsSync(log) ? [{ path: log, bytes: statSync(log).size }] : [];
  const sources = (Array.isArray(inputs.sources) ? inputs.sources : ['application_logs']).map((name) => ({ name: String(name), job: jobName(service, environment), files }));
  if (files.length === 0) return failed(`no log file for deployment "${id}" to collect`);
  const config = writeMonitoringJson('logging', jobName(service, environment), { scrape_configs: sources.map((s) => ({ job_name: s.job, static_configs: [{ labels: { job: s.job, source: s.name, __path__: files[0]!.path } }] })) });
  return { sources, config_file: config };
};

export default { create_dashboards: createDashboards, setup_log_aggregation: setupLogAggregation };
