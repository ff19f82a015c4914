/** Real requests to a deployment: its health, its smoke tests, its metrics. */
import { describeFailure, http, jsonOf } from '../runtime/http.js';
import { parsePrometheusText, trafficCounters, type TrafficCounters } from './prometheus-text.js';
import { packFailure } from '../runtime/failure.js';

export interface HealthProbe {
  readonly url: string;
  readonly ok: boolean;
  readonly status: number | null;
  readonly ms: number | null;
  readonly version?: string;
  readonly error?: string;
}

/** GET `path` on the deployment; healthy is a 200 whose body says `"status": "ok"`. */
export async function probeHealth(base: string, path = '/health', timeoutMs = 5000): Promise<HealthProbe> {
  const url = `${base}${path}`;
  try {
    const answer = await http(url, { timeoutMs });
    const body = jsonOf(answer) as { status?: string; version?: string } | undefined;
    const ok = answer.status === 200 && body?.status === 'ok';
    return { url, ok, status: answer.status, ms: Math.round(answer.ms), ...(body?.version ? { version: body.version } : {}), ...(ok ? {} : { error: `answered ${answer.status} ${answer.text.slice(0, 100)}` }) };
  } catch (error) {
    return { url, ok: false, status: null, ms: null, error: describeFailure(error) };
  }
}

export interface SmokeTest {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** A handful of functional checks a release must pass before it takes any traffic. */
export async function smokeTests(base: string): Promise<{ passed: boolean; tests: SmokeTest[]; failed: number }> {
  const checks: [string, () => Promise<string>][] = [
    ['health answers ok', async () => {
      const p = await probeHealth(base);
      if (!p.ok) throw packFailure(p.error ?? 'not ok');
      return `version ${p.version}`;
    }],
    ['a price quote adds up', async () => {
      const answer = await http(`${base}/api/price?amount=100&country=DE`, { timeoutMs: 10_000 });
      const body = jsonOf(answer) as { total?: number; vat?: number; amount?: number } | undefined;
      if (answer.status !== 200 || body?.total === undefined) throw packFailure(`answered ${answer.status} ${answer.text.slice(0, 100)}`);
      if (Math.abs(body.total - (body.amount! - ((body as { discount?: number }).discount ?? 0) + body.vat!)) > 0.01) throw packFailure(`total ${body.total} does not add up`);
      return `total ${body.total}`;
    }],
    ['a bad request is refused with 400', async () => {
      const answer = await http(`${base}/api/price?amount=-1`, { timeoutMs: 10_000 });
      if (answer.status !== 400) throw packFailure(`answered ${answer.status}`);
      return '400';
    }],
    ['an unknown route is a 404', async () => {
      const answer = await http(`${base}/no-such-route`);
      if (answer.status !== 404) throw packFailure(`answered ${answer.status}`);
      return '404';
    }],
    ['metrics are exposed', async () => {
      const answer = await http(`${base}/metrics`);
      if (answer.status !== 200 || !answer.text.includes('http_requests_total')) throw packFailure(`answered ${answer.status} without http_requests_total`);
      return `${parsePrometheusText(answer.text).length} samples`;
    }],
  ];
  const tests: SmokeTest[] = [];
  for (const [name, check] of checks) {
    try {
      tests.push({ name, ok: true, detail: await check() });
    } catch (error) {
      tests.push({ name, ok: false, detail: error instanceof Error && !('code' in error) ? error.message : describeFailure(error) });
    }
  }
  const failed = tests.filter((t) => !t.ok).length;
  return { passed: failed === 0, tests, failed };
}

/** The deployment's user-traffic counters, read from its /metrics now. */
export async function readCounters(base: string): Promise<TrafficCounters> {
  const answer = await http(`${base}/metrics`);
  if (answer.status !== 200) throw packFailure(`${base}/metrics answered ${answer.status}`);
  return trafficCounters(parsePrometheusText(answer.text));
}
