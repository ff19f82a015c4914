/**
 * The `http` connector: any HTTP API, for the services no dedicated connector covers.
 *
 * ```json
 * { "type": "external_api", "data": { "service": "http", "action": "post",
 *   "url": "https://deploy.example.com/hooks", "body": { "ref": "{% $trigger.ref %}" } } }
 * ```
 */
import type { Connector, JsonObject, JsonValue } from '@gantry/engine';
import { isJsonMediaType, parseJsonBody, send, statusFailure, type OutgoingRequest } from './http-call.js';
import { createOutbound, resolveOutbound, type OutboundOptions } from './outbound.js';
import { describeValue, isJsonObject, lookupAction, requiredString, usage, type CallSite } from './params.js';
import { assertHeaderSafe, requireCredential, scrubJson } from './secrets.js';

/** Options of {@link httpConnector}: the outbound policy. Its URLs come from flow data, so none is trusted: private addresses need `allow` or `allowPrivateNetworks`. */
export interface HttpConnectorOptions extends OutboundOptions {}

const METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Methods a retry cannot repeat harmfully; every other one carries the Idempotency-Key. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** action → the method it sets (`request` leaves the choice to `method`, default GET). */
const ACTIONS: ReadonlyMap<string, string | undefined> = new Map([
  ['request', undefined],
  ['get', 'GET'],
  ['post', 'POST'],
  ['put', 'PUT'],
  ['patch', 'PATCH'],
  ['delete', 'DELETE'],
]);

/**
 * A connector for service `http`. Actions `request`, `get`, `post`, `put`, `patch`, `delete`;
 * params `url` (required, http or https), `method?`, `headers?`, `query?`, `body?` (an object or
 * array is sent as JSON, a string as it is), `expect_status?` (a status or a list; default any 2xx).
 * Returns `{ status, headers, body }`: headers lower-cased without set-cookie, the body parsed
 * when the answer is JSON, else text. With `authentication`, sends `Authorization: Bearer <credential>`.
 * Redirects are followed (the Authorization header only within the origin), each hop checked by
 * the address guard like the first URL.
 */
export function httpConnector(options: HttpConnectorOptions = {}): Connector {
  const outbound = createOutbound(resolveOutbound('httpConnector', options));
  return {
    service: 'http',
    async call(action, params, ctx) {
      const site: CallSite = { service: 'http', action };
      const req = readRequest(site, params, lookupAction(site, ACTIONS));
      const expected = readExpectStatus(site, params.expect_status);
      const credential = ctx.authentication === undefined ? undefined : requireCredential(site, ctx, ctx.authentication);
      const headers: Record<string, string> = { 'user-agent': 'gantry', ...req.headers };
      // A key the flow set itself is kept: the API may want its own format.
      if (!SAFE_METHODS.has(req.method)) headers['idempotency-key'] ??= ctx.idempotencyKey;
      if (credential !== undefined) {
        assertHeaderSafe(site, credential);
        headers.authorization = `Bearer ${credential.value}`;
      }
      const secrets = credential?.secrets ?? [];
      const env = { site, outbound, ctx, secrets, ...(credential === undefined ? {} : { credential }) };
      const outgoing: OutgoingRequest = { ...req, headers };
      const answer = await send(env, outgoing);

      if (!expected.matches(answer.status)) throw statusFailure(env, answer, { expected: expected.text });
      const body: JsonValue = isJsonMediaType(answer.mediaType) ? parseJsonBody(env, answer) : answer.text;
      const { 'set-cookie': _cookie, ...kept } = answer.headers;
      return scrubJson({ status: answer.status, headers: kept, body }, secrets);
    },
  };
}

interface ReadRequest {
  readonly method: string;
  readonly url: URL;
  readonly target: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

function readRequest(site: CallSite, params: JsonObject, actionMethod: string | undefined): ReadRequest {
  const raw = requiredString(site, params, 'url', ' (an http or https URL)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usage(site, `expected \`url\` to be an absolute http or https URL, got ${describeValue(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usage(site, `expected \`url\` to use http or https, got the scheme "${url.protocol.slice(0, -1)}"`);
  }
  const method = readMethod(site, params.method, actionMethod);
  addQuery(site, url, params.query);
  const headers = readHeaders(site, params.headers);
  const body = readBody(params.body, headers);
  // Messages and logs name the origin and path only: a query or userinfo may carry a token.
  return { method, url, target: `${url.origin}${url.pathname}`, headers, ...(body === undefined ? {} : { body }) };
}

function readMethod(site: CallSite, value: JsonValue | undefined, actionMethod: string | undefined): string {
  if (value === undefined || value === null) return actionMethod ?? 'GET';
  const method = typeof value === 'string' ? value.toUpperCase() : '';
  if (!METHODS.has(method)) {
    throw usage(site, `expected \`method\` to be one of ${[...METHODS].join(', ')}, got ${describeValue(value)}`);
  }
  if (actionMethod !== undefined && method !== actionMethod) {
    throw usage(site, `the action sets the method ${actionMethod} but \`method\` says ${method}; use the action "request" to choose the method`);
  }
  return method;
}

function addQuery(site: CallSite, url: URL, query: JsonValue | undefined): void {
  if (query === undefined || query === null) return;
  if (!isJsonObject(query)) throw usage(site, `expected \`query\` to be an object, got ${describeValue(query)}`);
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null) continue;
      if (typeof item === 'object') {
        throw usage(site, `expected \`query.${key}\` to be a string, number, boolean or a list of them, got ${describeValue(value)}`);
      }
      url.searchParams.append(key, String(item));
    }
  }
}

function readHeaders(site: CallSite, value: JsonValue | undefined): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) throw usage(site, `expected \`headers\` to be an object, got ${describeValue(value)}`);
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (raw === null) continue;
    if (typeof raw === 'object') {
      throw usage(site, `expected \`headers.${name}\` to be a string, got ${describeValue(raw)}`);
    }
    const text = String(raw);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(text)) {
      throw usage(site, `header "${name}" is not a valid HTTP header name and value`);
    }
    headers[name.toLowerCase()] = text;
  }
  return headers;
}

function readBody(value: JsonValue | undefined, headers: Record<string, string>): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    return value;
  }
  headers['content-type'] ??= 'application/json';
  return JSON.stringify(value);
}

interface ExpectStatus {
  readonly text: string;
  matches(status: number): boolean;
}

function readExpectStatus(site: CallSite, value: JsonValue | undefined): ExpectStatus {
  if (value === undefined || value === null) return { text: 'a 2xx status', matches: (s) => s >= 200 && s <= 299 };
  const list = Array.isArray(value) ? value : [value];
  const valid = list.length > 0 && list.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 599);
  if (!valid) {
    throw usage(site, `expected \`expect_status\` to be an HTTP status (100–599) or a non-empty list of them, got ${describeValue(value)}`);
  }
  const statuses = new Set(list as number[]);
  return { text: [...statuses].join(' or '), matches: (s) => statuses.has(s) };
}
