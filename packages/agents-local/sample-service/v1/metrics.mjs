// Prometheus metrics in the text exposition format, kept by hand: the service has no dependencies.
export const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics() {
  const requests = new Map();
  const durations = new Map();
  return {
    /** One answered request: its method, route, status and duration in seconds. */
    observe(method, route, status, seconds) {
      const key = `method="${method}",route="${route}",status="${status}"`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
      let histogram = durations.get(route);
      if (histogram === undefined) durations.set(route, (histogram = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
      BUCKETS.forEach((le, i) => {
        if (seconds <= le) histogram.counts[i] += 1;
      });
      histogram.sum += seconds;
      histogram.count += 1;
    },
    render(version) {
      const lines = ['# HELP app_info The running version.', '# TYPE app_info gauge', `app_info{version="${version}"} 1`];
      lines.push('# HELP http_requests_total Requests answered, by method, route and status.', '# TYPE http_requests_total counter');
      for (const [labels, count] of requests) lines.push(`http_requests_total{${labels}} ${count}`);
      lines.push('# HELP http_request_duration_seconds Time to answer a request, by route.', '# TYPE http_request_duration_seconds histogram');
      for (const [route, h] of durations) {
        BUCKETS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{route="${route}",le="${le}"} ${h.counts[i]}`));
        lines.push(`http_request_duration_seconds_bucket{route="${route}",le="+Inf"} ${h.count}`);
        lines.push(`http_request_duration_seconds_sum{route="${route}"} ${h.sum}`, `http_request_duration_seconds_count{route="${route}"} ${h.count}`);
      }
      const cpu = process.cpuUsage();
      lines.push('# TYPE process_cpu_seconds_total counter', `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
      lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${process.memoryUsage.rss()}`);
      return `${lines.join('\n')}\n`;
    },
  };
}
