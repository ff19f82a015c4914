/**
 * Reading a connector's params and options. Every reader throws a `USAGE` error whose message
 * names the service, the action, the param, what was expected and what was found, so a flow
 * author can fix the node without reading connector code.
 */
import { GantryError, type JsonObject, type JsonValue } from '@gantry/engine';
import { createOutbound, pickOutbound, resolveOutbound, type Outbound, type OutboundOptions } from './outbound.js';

/** Who is being called: every message starts with it. */
export interface CallSite {
  readonly service: string;
  readonly action: string;
}

/** A `USAGE` error for a call with params the action does not accept. */
export function usage(site: CallSite, message: string): GantryError {
  return new GantryError('USAGE', `${site.service} ${site.action}: ${message}`);
}

/** `` `"main"` (string) ``, `` `0` (number) ``, `nothing` — the "got …" half of a message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const text = JSON.stringify(value) ?? String(value);
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\` (${kind})`;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The action's entry in a table, or a USAGE error listing the actions there are. */
export function lookupAction<T>(site: CallSite, table: ReadonlyMap<string, T>): T {
  if (!table.has(site.action)) {
    const known = [...table.keys()].join(', ');
    throw new GantryError('USAGE', `${site.service}: unknown action "${site.action}"; expected one of ${known}`);
  }
  return table.get(site.action) as T;
}

/** A string param; null counts as absent (expressions yield null for a missing field). */
export function optionalString(site: CallSite, params: JsonObject, key: string): string | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw usage(site, `expected \`${key}\` to be a string, got ${describeValue(value)}`);
  }
  return value;
}

/** A non-empty string param. `hint` says what the param is for when it is missing. */
export function requiredString(site: CallSite, params: JsonObject, key: string, hint = ''): string {
  const value = optionalString(site, params, key);
  if (value === undefined || value.trim() === '') {
    throw usage(site, `expected \`${key}\` to be a non-empty string${hint}, got ${describeValue(params[key])}`);
  }
  return value;
}

/**
 * A positive integer, as a number or as a string of digits: webhook payloads and expressions
 * hand over numbers either way (`"42"` from a path segment, `42` from a JSON payload).
 */
export function asPositiveInteger(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  if (typeof value === 'string' && /^[1-9]\d{0,15}$/.test(value)) return Number(value);
  return undefined;
}

/** One of a closed set of strings, matched without regard to case. */
export function oneOf<T extends string>(
  site: CallSite,
  params: JsonObject,
  key: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = params[key];
  if (value === undefined || value === null) return fallback;
  const found = typeof value === 'string' ? allowed.find((a) => a.toLowerCase() === value.toLowerCase()) : undefined;
  if (found === undefined) {
    throw usage(site, `expected \`${key}\` to be one of ${allowed.join(', ')}, got ${describeValue(value)}`);
  }
  return found;
}

/** A service's base URL: http or https, kept without its trailing slash so paths can be appended. */
export function resolveBaseUrl(factory: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '') {
    throw new GantryError(
      'USAGE',
      `${factory}: expected \`baseUrl\` to be an http or https URL without a query, got ${describeValue(value)}`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

/** A credential name option: a non-empty string. */
export function resolveName(factory: string, key: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') {
    throw new GantryError('USAGE', `${factory}: expected \`${key}\` to be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Where each built-in service is and the credential it sends when a node names none, unless
 * its options say otherwise: the CLI derives the origins those credentials may go to from them.
 */
export const SERVICE_DEFAULTS = Object.freeze({
  github: Object.freeze({ baseUrl: 'https://api.github.com', credential: 'github_token' }),
  slack: Object.freeze({ baseUrl: 'https://slack.com/api', credential: 'slack_token' }),
  prometheus: Object.freeze({ baseUrl: 'http://127.0.0.1:9090', credential: 'prometheus_token' }),
});

/** What a service connector (github, slack, prometheus) resolves from its options once, when it is made. */
export interface ServiceSetup {
  /** The outbound policy, with the base URL's origin trusted: the operator chose it, flow data did not. */
  readonly outbound: Outbound;
  readonly baseUrl: string;
  readonly defaultCredential: string;
}

export function resolveService(
  factory: string,
  options: OutboundOptions & { readonly baseUrl?: string; readonly credential?: string },
  defaults: { readonly baseUrl: string; readonly credential: string },
): ServiceSetup {
  const baseUrl = resolveBaseUrl(factory, options.baseUrl, defaults.baseUrl);
  return {
    outbound: createOutbound(resolveOutbound(factory, pickOutbound(options)), [baseUrl]),
    baseUrl,
    defaultCredential: resolveName(factory, 'credential', options.credential, defaults.credential),
  };
}
