/**
 * The `prometheus` connector: an instant query of Prometheus's HTTP API, so that a flow can gate
 * on a metric (the design document's error-rate and latency checks during a traffic switch).
 *
 * ```json
 * { "type": "external_api", "data": { "service": "prometheus", "action": "query",
 *   "query": "sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))" } }
 * ```
 */
import { GantryError, type Connector, type JsonObject, type JsonValue } from '@gantry/engine';
import { excerpt, isRetryableStatus, parseJsonBody, send, statusFailure, type OutgoingRequest } from './http-call.js';
import type { OutboundOptions } from './outbound.js';
import { describeValue, isJsonObject, lookupAction, optionalString, requiredString, resolveService, SERVICE_DEFAULTS, usage, type CallSite } from './params.js';
import { assertHeaderSafe, requireCredential, scrubJson, type Credential } from './secrets.js';

/** Options of {@link prometheusConnector}. */
export interface PrometheusConnectorOptions extends OutboundOptions {
  /** The server's root; the API is under `/api/v1`. A path prefix is kept (`https://host/prometheus`). @default "http://127.0.0.1:9090" */
  readonly baseUrl?: string;
  /**
   * The credential sent as a bearer token when a node names no `authentication`; when it has no
   * value, no Authorization header is sent (most Prometheus servers need none). @default "prometheus_token"
   */
  readonly credential?: string;
}

const ACTIONS: ReadonlyMap<string, true> = new Map([['query', true]]);

/**
 * A connector for service `prometheus`. Action `query`: params `query` (PromQL, required),
 * `time?` (an RFC 3339 date-time or Unix seconds; default the server's now), `timeout?` (a
 * Prometheus duration such as `"10s"`). Returns `{ result_type, result, value }`: `result` as
 * Prometheus gives it, and `value` the first sample's value as a number — a vector's first
 * series, a scalar, a matrix's first series' last sample — or null when there is none or it is
 * not finite (NaN, ±Inf), so that a gate can compare it directly.
 */
export function prometheusConnector(options: PrometheusConnectorOptions = {}): Connector {
  const { outbound, baseUrl, defaultCredential } = resolveService('prometheusConnector', options, SERVICE_DEFAULTS.prometheus);
  return {
    service: 'prometheus',
    async call(action, params, ctx) {
      const site: CallSite = { service: 'prometheus', action };
      lookupAction(site, ACTIONS);
      const url = new URL(`${baseUrl}/api/v1/query`);
      url.searchParams.set('query', requiredString(site, params, 'query', ' (a PromQL expression)'));
      const time = readTime(site, params.time);
      if (time !== undefined) url.searchParams.set('time', time);
      const timeout = optionalString(site, params, 'timeout');
      if (timeout !== undefined) {
        if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(timeout)) throw usage(site, `expected \`timeout\` to be a Prometheus duration such as "10s", got ${describeValue(timeout)}`);
        url.searchParams.set('timeout', timeout);
      }
      const credential = readCredential(site, ctx, ctx.authentication, defaultCredential);
      const secrets = credential?.secrets ?? [];
      const req: OutgoingRequest = {
        method: 'GET',
        url,
        // The query is in the message of every failure that matters; the URL's query string is not repeated.
        target: `${url.origin}${url.pathname}`,
        headers: { accept: 'application/json', 'user-agent': 'gantry', ...(credential === undefined ? {} : { authorization: `Bearer ${credential.value}` }) },
      };
      const env = { site, outbound, ctx, secrets, ...(credential === undefined ? {} : { credential }) };
      const answer = await send(env, req);
      const body = answer.mediaType === 'application/json' || answer.text.trimStart().startsWith('{') ? safeJson(answer.text) : undefined;
      if (answer.status < 200 || answer.status > 299) {
        // { status: "error", errorType: "bad_data", error: "parse error at char 5: …" }
        const detail = isJsonObject(body) && typeof body.error === 'string' ? `${String(body.errorType ?? 'error')}: ${body.error}` : answer.text;
        throw statusFailure(env, answer, { detail, retryable: isRetryableStatus(answer.status) });
      }
      const parsed = parseJsonBody(env, answer);
      const data = isJsonObject(parsed) && parsed.status === 'success' && isJsonObject(parsed.data) ? parsed.data : undefined;
      if (data === undefined || typeof data.resultType !== 'string') {
        throw new GantryError('CONNECTOR_FAILED', `prometheus query: expected { status: "success", data: { resultType, result } } from ${req.target}, got ${excerpt(answer.text, secrets)}`);
      }
      const result = data.result ?? null;
      const out: JsonObject = { result_type: data.resultType, result, value: firstValue(data.resultType, result) };
      if (isJsonObject(parsed) && Array.isArray(parsed.warnings) && parsed.warnings.length > 0) out.warnings = parsed.warnings;
      return scrubJson(out, secrets);
    },
  };
}

/** The node's credential (which must exist), else the default one when it is set. */
function readCredential(site: CallSite, ctx: Parameters<Connector['call']>[2], named: string | undefined, fallback: string): Credential | undefined {
  if (named === undefined && (ctx.credential(fallback) ?? '').trim() === '') return undefined;
  const credential = requireCredential(site, ctx, named ?? fallback);
  assertHeaderSafe(site, credential);
  return credential;
}

/** RFC 3339 or Unix seconds, as Prometheus takes them; a date-time is normalised to its ISO form. */
function readTime(site: CallSite, value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  throw usage(site, `expected \`time\` to be an RFC 3339 date-time or Unix seconds, got ${describeValue(value)}`);
}

function firstValue(resultType: string, result: JsonValue): number | null {
  const sample = (pair: JsonValue | undefined): number | null => {
    if (!Array.isArray(pair) || typeof pair[1] !== 'string') return null;
    const n = Number(pair[1]);
    return Number.isFinite(n) ? n : null;
  };
  if (resultType === 'scalar') return sample(result);
  if (!Array.isArray(result) || !isJsonObject(result[0])) return null;
  const series = result[0];
  if (resultType === 'vector') return sample(series.value);
  if (resultType === 'matrix' && Array.isArray(series.values)) return sample(series.values[series.values.length - 1]);
  return null;
}

function safeJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}
