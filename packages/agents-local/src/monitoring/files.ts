/**
 * Monitoring as files a real installation loads: Grafana dashboards (JSON model), Prometheus
 * scrape configuration and alerting rules (YAML), a log shipping configuration, synthetic checks.
 * They go under `.gantry/local/monitoring/`, named by service and environment, and query the
 * metrics the service really exports.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nameForFiles, stateDir } from '../runtime/paths.js';
import { packFailure } from '../runtime/failure.js';

/** PromQL for the panel names the design document's dashboards use. */
const PANEL_QUERIES: Record<string, { expr: string; unit: string; note?: string }> = {
  http_requests_per_second: { expr: 'sum(rate(http_requests_total{job="$job",route!~"/health|/metrics"}[1m]))', unit: 'reqps' },
  response_time_percentiles: { expr: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="$job",route!~"/health|/metrics"}[5m])))', unit: 's' },
  error_rate: { expr: '100 * sum(rate(http_requests_total{job="$job",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="$job"}[5m]))', unit: 'percent' },
  cpu_usage: { expr: 'rate(process_cpu_seconds_total{job="$job"}[1m])', unit: 'percentunit' },
  memory_usage: { expr: 'process_resident_memory_bytes{job="$job"}', unit: 'bytes' },
  endpoint_performance: { expr: 'sum by (route) (rate(http_request_duration_seconds_sum{job="$job"}[5m])) / sum by (route) (rate(http_request_duration_seconds_count{job="$job"}[5m]))', unit: 's' },
  response_time_distribution: { expr: 'sum by (le) (increase(http_request_duration_seconds_bucket{job="$job"}[1m]))', unit: 's' },
  database_query_performance: { expr: 'sum(rate(db_query_duration_seconds_sum{job="$job"}[5m]))', unit: 's', note: 'the sample service has no database: this panel stays empty until a service exports db_query_duration_seconds' },
};

const PANEL_TYPES: Record<string, string> = { stat: 'stat', graph: 'timeseries', table: 'table', heatmap: 'heatmap', logs: 'logs' };

export function monitoringDir(kind: 'grafana' | 'prometheus' | 'logging' | 'synthetic'): string {
  return stateDir('monitoring', kind);
}

export function jobName(service: string, environment: string): string {
  return `${nameForFiles(service, 'the service name')}-${nameForFiles(environment, 'the environment')}`;
}

export interface DashboardSpec {
  readonly name: string;
  readonly panels: readonly { type: string; metric?: string; source?: string }[];
}

/** A Grafana dashboard JSON model; returns its file. */
export function writeDashboard(spec: DashboardSpec, service: string, environment: string): { uid: string; file: string; title: string; panels: number } {
  const job = jobName(service, environment);
  const uid = `${spec.name}-${environment}`.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 40);
  const panels = spec.panels.map((panel, i) => {
    const type = PANEL_TYPES[panel.type] ?? 'timeseries';
    const gridPos = { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 };
    if (panel.type === 'logs') {
      return { id: i + 1, type, title: panel.source ?? 'logs', gridPos, datasource: { type: 'loki', uid: 'loki' }, targets: [{ refId: 'A', expr: `{job="${job}"}` }] };
    }
    const query = PANEL_QUERIES[panel.metric ?? ''] ?? { expr: `${panel.metric}{job="$job"}`, unit: 'short' };
    return {
      id: i + 1,
      type,
      title: (panel.metric ?? 'panel').replace(/_/g, ' '),
      ...(query.note ? { description: query.note } : {}),
      gridPos,
      datasource: { type: 'prometheus', uid: 'prometheus' },
      fieldConfig: { defaults: { unit: query.unit }, overrides: [] },
      targets: [{ refId: 'A', expr: query.expr.replaceAll('$job', job) }],
    };
  });
  const dashboard = { uid, title: `${spec.name} (${environment})`, tags: ['gantry', service, environment], timezone: 'browser', schemaVersion: 39, refresh: '30s', time: { from: 'now-1h', to: 'now' }, panels };
  const file = join(monitoringDir('grafana'), `${uid}.json`);
  writeFileSync(file, `${JSON.stringify({ dashboard, overwrite: true }, null, 2)}\n`);
  return { uid, file, title: dashboard.title, panels: panels.length };
}

export interface AlertSpec {
  readonly name: string;
  readonly metric: string;
  readonly operator: string;
  readonly threshold: number;
  readonly for?: string;
  readonly severity?: string;
}

const ALERT_EXPRESSIONS: Record<string, (job: string) => string> = {
  error_rate_percent: (job) => `100 * sum(rate(http_requests_total{job="${job}",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="${job}",route!~"/health|/metrics"}[5m]))`,
  p95_latency_ms: (job) => `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="${job}",route!~"/health|/metrics"}[5m])))`,
};

/** A Prometheus rule file; a rule on a metric the pack cannot express is refused, not guessed. */
export function writeAlertRules(rules: readonly AlertSpec[], service: string, environment: string): { file: string; rules: { alert: string; expr: string; for: string; severity: string }[] } {
  const job = jobName(service, environment);
  const written = rules.map((rule) => {
    const expression = ALERT_EXPRESSIONS[rule.metric];
    if (expression === undefined) throw packFailure(`alert ${rule.name}: no PromQL for metric "${rule.metric}" (known: ${Object.keys(ALERT_EXPRESSIONS).join(', ')})`);
    if (!['>', '>=', '<', '<=', '==', '!='].includes(rule.operator)) throw packFailure(`alert ${rule.name}: operator "${rule.operator}" is not a PromQL comparison`);
    return { alert: rule.name, expr: `${expression(job)} ${rule.operator} ${rule.threshold}`, for: rule.for ?? '5m', severity: rule.severity ?? 'warning' };
  });
  const yaml = [
    'groups:',
    `  - name: ${JSON.stringify(job)}`,
    '    rules:',
    ...written.flatMap((r) => [
      `      - alert: ${r.alert}`,
      `        expr: ${JSON.stringify(r.expr)}`,
      `        for: ${r.for}`,
      '        labels:',
      `          severity: ${r.severity}`,
      `          service: ${JSON.stringify(service)}`,
      `          environment: ${JSON.stringify(environment)}`,
      '        annotations:',
      `          summary: ${JSON.stringify(`${r.alert} on ${job}`)}`,
    ]),
  ].join('\n');
  const file = join(monitoringDir('prometheus'), `${job}.rules.yml`);
  writeFileSync(file, `${yaml}\n`);
  return { file, rules: written };
}

/** A Prometheus scrape job for the deployment's targets. */
export function writeScrapeConfig(service: string, environment: string, targets: readonly string[], metricsPath: string, interval: string): string {
  const job = jobName(service, environment);
  const yaml = [
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(job)}`,
    `    metrics_path: ${JSON.stringify(metricsPath)}`,
    `    scrape_interval: ${interval}`,
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '        labels:',
    `          service: ${JSON.stringify(service)}`,
    `          environment: ${JSON.stringify(environment)}`,
  ].join('\n');
  const file = join(monitoringDir('prometheus'), `${job}.scrape.yml`);
  writeFileSync(file, `${yaml}\n`);
  return file;
}

/** Any other monitoring file (log shipping, synthetic checks), as JSON. */
export function writeMonitoringJson(kind: 'logging' | 'synthetic', name: string, value: unknown): string {
  const file = join(monitoringDir(kind), `${name}.json`);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}
