import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine } from '@gantry/engine';
import { createMetrics, METRIC_NAMES } from './metrics.js';

const DASHBOARD = JSON.parse(readFileSync(new URL('../dashboards/gantry.json', import.meta.url), 'utf8')) as {
  panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[] }[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
};

const PROMQL_WORDS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset',
  'rate', 'irate', 'increase', 'delta', 'histogram_quantile', 'topk', 'bottomk', 'label_values', 'clamp_min', 'clamp_max', 'abs', 'vector',
]);

/** The metric names a PromQL expression reads: label matchers, groupings, ranges and strings taken out first. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)/g, '$1');
  return (bare.match(/[a-zA-Z_:][\w:]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w));
}

describe('the Grafana dashboard', () => {
  const exported = new Set<string>();
  const metrics = createMetrics(createEngine());
  for (const m of metrics.registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    exported.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);
  }
  metrics.dispose();

  const exprs = [
    ...DASHBOARD.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
    ...DASHBOARD.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `variable $${v.name}`, expr: typeof v.query === 'string' ? v.query : v.query.query })),
  ];

  it('queries only metrics the server exports', () => {
    expect(exprs.length).toBeGreaterThan(10);
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${where} reads ${name}, which the server does not export`).toBe(true);
    }
  });

  it('shows request rate, p95 latency, error rate, runs by status and agent task durations, by the names of DESIGN §4', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const name of METRIC_NAMES) expect(all).toContain(name);
    expect(all).toMatch(/histogram_quantile\(0\.95, sum by \(le\) \(rate\(http_request_duration_seconds_bucket/);
    expect(all).toMatch(/http_requests_total\{status=~"5\.\."\}/);
    expect(all).toMatch(/sum by \(status\) \(increase\(gantry_runs_total/);
    expect(all).toMatch(/agent_task_duration_seconds_bucket/);
  });

  it('takes its Prometheus data source from a variable', () => {
    expect(DASHBOARD.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of DASHBOARD.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const t of panel.targets ?? []) expect(t.datasource?.uid, panel.title).toBe('${datasource}');
    }
  });
});

describe('metricNames', () => {
  it('finds the metrics of an expression and nothing else', () => {
    expect(metricNames('100 * sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))')).toEqual(['http_requests_total', 'http_requests_total']);
    expect(metricNames('histogram_quantile(0.95, sum by (le, agent_name) (rate(agent_task_duration_seconds_bucket[$__rate_interval])))')).toEqual(['agent_task_duration_seconds_bucket']);
    expect(metricNames('label_values(gantry_runs_total, flow)')).toEqual(['gantry_runs_total']);
  });
});
