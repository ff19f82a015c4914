import { describe, expect, it } from 'vitest';
import { histogramQuantile, parsePrometheusText, trafficCounters, trafficWindow, windowStart } from './prometheus-text.js';

const exposition = (ok: number, errors: number, fast: number, slow: number) => `# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/price",status="200"} ${ok}
http_requests_total{method="GET",route="/api/price",status="500"} ${errors}
http_requests_total{method="GET",route="/health",status="200"} 99
http_request_duration_seconds_bucket{route="/api/price",le="0.005"} ${fast}
http_request_duration_seconds_bucket{route="/api/price",le="0.5"} ${fast}
http_request_duration_seconds_bucket{route="/api/price",le="1"} ${fast + slow}
http_request_duration_seconds_bucket{route="/api/price",le="+Inf"} ${fast + slow}
http_request_duration_seconds_bucket{route="/health",le="+Inf"} 99
`;

describe('reading /metrics', () => {
  it('parses samples with labels, skipping comments', () => {
    const samples = parsePrometheusText('# HELP x\nx_total{a="1",b="q\\"uote"} 3\ny 4.5\nbroken line\n');
    expect(samples).toEqual([
      { name: 'x_total', labels: { a: '1', b: 'q"uote' }, value: 3 },
      { name: 'y', labels: {}, value: 4.5 },
    ]);
  });

  it('histogram_quantile interpolates within the bucket, as Prometheus does', () => {
    expect(histogramQuantile(0.95, [[0.005, 7], [0.5, 7], [1, 10], [Infinity, 10]])).toBeCloseTo(0.5 + 0.5 * (2.5 / 3));
    expect(histogramQuantile(0.5, [[0.1, 10], [Infinity, 10]])).toBeCloseTo(0.05);
    expect(histogramQuantile(0.95, [[0.1, 0], [Infinity, 5]])).toBe(0.1);
    expect(histogramQuantile(0.95, [[0.1, 0], [Infinity, 0]])).toBeNull();
  });

  it('a window is the increase between two readings; probes are not traffic', () => {
    const start = trafficCounters(parsePrometheusText(exposition(10, 0, 10, 0)), new Date('2026-01-01T00:00:00Z'));
    const end = trafficCounters(parsePrometheusText(exposition(17, 1, 15, 3)), new Date('2026-01-01T00:00:02Z'));
    const window = trafficWindow(start, end);
    expect(window).toMatchObject({ seconds: 2, requests: 8, errors: 1, error_rate_percent: 12.5, counter_reset: false });
    expect(window.p95_latency_ms).toBeGreaterThan(500);
  });

  it('no request gives no figures (a gate on them fails); counters going down mean a restart', () => {
    const reading = trafficCounters(parsePrometheusText(exposition(5, 0, 5, 0)));
    expect(trafficWindow(reading, reading)).toMatchObject({ requests: 0, error_rate_percent: null, p95_latency_ms: null });
    const restarted = trafficCounters(parsePrometheusText(exposition(2, 0, 2, 0)));
    expect(trafficWindow(reading, restarted)).toMatchObject({ requests: 2, counter_reset: true, error_rate_percent: 0 });
  });

  it('a process started again since the reading counts from its own start, even when its counters have caught up', () => {
    // The split's reading: 3 fast requests of the process that has gone.
    const reading = { pid: 100, counters: trafficCounters(parsePrometheusText(exposition(3, 0, 3, 0)), new Date('2026-01-01T00:00:00Z')) };
    // The new process (a resume) has since answered 12 requests, 4 of them slow.
    const end = trafficCounters(parsePrometheusText(exposition(12, 0, 8, 4)), new Date('2026-01-01T00:01:03Z'));
    const start = windowStart(reading, { pid: 200, since: '2026-01-01T00:01:00Z' });
    expect(start.restarted).toBe(true);
    expect(trafficWindow(start.counters, end)).toMatchObject({ seconds: 3, requests: 12, counter_reset: false });
    expect(trafficWindow(start.counters, end).p95_latency_ms).toBeGreaterThan(500);
    // The same process: the reading is the start.
    expect(windowStart(reading, { pid: 100, since: '2026-01-01T00:00:00Z' })).toEqual({ counters: reading.counters, restarted: false });
    expect(windowStart(undefined, { pid: 100, since: '2026-01-01T00:00:00Z' })).toEqual({ counters: undefined, restarted: false });
  });
});
