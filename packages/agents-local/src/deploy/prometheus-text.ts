/**
 * Reading a service's /metrics: the Prometheus text format, and what a PromQL query over a
 * window would say — `increase` of the counters and `histogram_quantile` of the latency buckets —
 * computed from two scrapes, the one at the window's start and the one at its end.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a text exposition (comments and malformed lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, '$1');
    const value = match[4] === '+Inf' ? Infinity : Number(match[4]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** User traffic as counted at one moment: requests, 5xx answers, latency buckets (cumulative). */
export interface TrafficCounters {
  readonly at: string;
  readonly requests: number;
  readonly errors: number;
  /** `le` (seconds, "+Inf") → requests that took at most that long. */
  readonly buckets: Readonly<Record<string, number>>;
}

/** Probes and scrapes are not user traffic: they are left out of the error rate and latency. */
const NOT_TRAFFIC = new Set(['/health', '/metrics']);

export function trafficCounters(samples: readonly Sample[], at = new Date()): TrafficCounters {
  let requests = 0;
  let errors = 0;
  const buckets: Record<string, number> = {};
  for (const s of samples) {
    if (NOT_TRAFFIC.has(s.labels.route ?? '')) continue;
    if (s.name === 'http_requests_total') {
      requests += s.value;
      if (Number(s.labels.status) >= 500) errors += s.value;
    } else if (s.name === 'http_request_duration_seconds_bucket' && s.labels.le !== undefined) {
      buckets[s.labels.le] = (buckets[s.labels.le] ?? 0) + s.value;
    }
  }
  return { at: at.toISOString(), requests, errors, buckets };
}

/** A reading of a deployment's counters, and which process of it they came from. */
export interface Reading {
  /** Absent in state written before readings named their process: then taken as the same one. */
  readonly pid?: number;
  readonly counters: TrafficCounters;
}

/**
 * Where a window over a deployment starts. The reading taken at the traffic step's split, when it
 * came from the process that runs now; else — the deployment was started again since, as after a
 * `gantry resume` — that process's own start, from zero: its counters hold nothing older, and the
 * traffic of the gone process is lost. undefined when there is no reading.
 */
export function windowStart(reading: Reading | undefined, now: { readonly pid: number; readonly since: string }): { counters: TrafficCounters | undefined; restarted: boolean } {
  if (reading === undefined) return { counters: undefined, restarted: false };
  if (reading.pid === undefined || reading.pid === now.pid) return { counters: reading.counters, restarted: false };
  return { counters: { at: now.since, requests: 0, errors: 0, buckets: {} }, restarted: true };
}

/** What happened between two readings of the same process. */
export interface TrafficWindow {
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
  /** null when there was no request: no evidence either way. */
  readonly error_rate_percent: number | null;
  readonly p95_latency_ms: number | null;
  /** The counters went down: the process restarted, so the window counts from its start. */
  readonly counter_reset: boolean;
}

export function trafficWindow(start: TrafficCounters | undefined, end: TrafficCounters): TrafficWindow {
  const reset = start !== undefined && end.requests < start.requests;
  const base = start === undefined || reset ? undefined : start;
  const requests = end.requests - (base?.requests ?? 0);
  const errors = end.errors - (base?.errors ?? 0);
  const buckets = Object.entries(end.buckets).map(([le, count]) => [le === '+Inf' ? Infinity : Number(le), count - (base?.buckets[le] ?? 0)] as const);
  const p95 = histogramQuantile(0.95, buckets);
  return {
    seconds: start === undefined ? 0 : Math.round((Date.parse(end.at) - Date.parse(start.at)) / 100) / 10,
    requests,
    errors,
    error_rate_percent: requests === 0 ? null : round((errors / requests) * 100),
    p95_latency_ms: p95 === null ? null : round(p95 * 1000),
    counter_reset: reset,
  };
}

/**
 * Prometheus's histogram_quantile: the bucket where the rank falls, interpolated linearly within
 * it; a rank in the +Inf bucket gives the highest finite bound. null with no observation.
 */
export function histogramQuantile(q: number, buckets: ReadonlyArray<readonly [number, number]>): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / Math.max(count - lowerCount, 1e-9));
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
