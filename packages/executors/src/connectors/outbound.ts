/**
 * The outbound policy: one set of rules for every HTTP request Gantry makes — the connectors and
 * the `http` and `llm` agent transports alike. Options are validated once, when a connector or
 * transport is made (STYLE §7); {@link createOutbound} turns them into an undici dispatcher whose
 * connections pass the address guard. How one call uses them is in `http-call.ts`.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction, Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { GantryError } from '@gantry/engine';
import { allowsHost, parseAllowList, refusal, type AllowList } from './address-guard.js';
import { describeValue } from './params.js';

/** Options of the outbound policy; every connector and the http and llm transports take them. */
export interface OutboundOptions {
  /** Total time for one call — its connect attempts, the waits between them and redirects — in ms, on the caller's clock. @default 30000 */
  readonly timeoutMs?: number;
  /** Time to open a connection (TCP and TLS), in ms (undici's own timer, in real time). @default 10000 */
  readonly connectTimeoutMs?: number;
  /** Largest answer body accepted, in bytes; a larger one aborts the call (RESPONSE_TOO_LARGE). @default 10485760 (10 MiB) */
  readonly maxResponseBytes?: number;
  /**
   * Attempts to open a connection, the first included, when none could be opened (refused,
   * unreachable, a DNS lookup to try again, a connect timeout): nothing reached the other side, so
   * any method is tried again. Every other failure — an error status, a dropped connection, a
   * timeout — ends the call with an error that says whether it is retryable, and the node's
   * `retry` decides. 1 turns the connect retries off. @default 3
   */
  readonly maxAttempts?: number;
  /** Full jitter: before connect attempt n + 1, a random wait in [0, min(retryMaxMs, retryBaseMs · 2^(n−1))) ms. @default 250 */
  readonly retryBaseMs?: number;
  /** @default 5000 */
  readonly retryMaxMs?: number;
  /**
   * The longest wait a `Retry-After` (seconds or an HTTP date) can ask for: a failure carries the
   * asked wait, up to this, as `retryAfterMs` for the node's retry (which waits at least that
   * long, up to its `max_seconds`), and an http agent's poll waits at most this long. @default 30000
   */
  readonly maxRetryAfterMs?: number;
  /** Redirects followed (each target checked like the first); 0 returns 3xx answers as they are. @default 5 */
  readonly maxRedirects?: number;
  /** Allows loopback, private (RFC 1918, ULA, CGNAT) and link-local addresses; metadata services stay refused. @default false */
  readonly allowPrivateNetworks?: boolean;
  /**
   * Hosts and addresses allowed whatever they resolve to: host names (`hooks.internal`),
   * `*.suffix` patterns, IP addresses and CIDR ranges (`10.0.0.0/8`). @default []
   */
  readonly allow?: readonly string[];
  /** Randomness for the connect retries' jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** The options resolved: defaults filled in, validated, frozen. */
export interface OutboundPolicy {
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxRetryAfterMs: number;
  readonly maxRedirects: number;
  readonly allowPrivateNetworks: boolean;
  readonly allow: AllowList;
  readonly random: () => number;
}

/** The option keys in the order they are documented, for messages that name an unknown one. */
const KEYS = [
  'timeoutMs',
  'connectTimeoutMs',
  'maxResponseBytes',
  'maxAttempts',
  'retryBaseMs',
  'retryMaxMs',
  'maxRetryAfterMs',
  'maxRedirects',
  'allowPrivateNetworks',
  'allow',
  'random',
] as const satisfies readonly (keyof OutboundOptions)[];

/** The defaults, as documented on {@link OutboundOptions}. */
export const OUTBOUND_DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  maxResponseBytes: 10 * 1024 * 1024,
  maxAttempts: 3,
  retryBaseMs: 250,
  retryMaxMs: 5_000,
  maxRetryAfterMs: 30_000,
  maxRedirects: 5,
  allowPrivateNetworks: false,
});

/** Only the outbound keys of a connector's options (which also hold its base URL, credential, …). */
export function pickOutbound(options: OutboundOptions): OutboundOptions {
  const picked: Record<string, unknown> = {};
  for (const key of KEYS) if (options[key] !== undefined) picked[key] = options[key];
  return picked as OutboundOptions;
}

/** Validates the options once (STYLE §7): messages say what was expected and what was found. */
export function resolveOutbound(factory: string, options: OutboundOptions = {}): OutboundPolicy {
  const d = OUTBOUND_DEFAULTS;
  const int = (key: (typeof KEYS)[number], fallback: number, min: number): number => {
    const value: unknown = options[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new GantryError('USAGE', `${factory}: expected \`${key}\` to be an integer ≥ ${min}, got ${describeValue(value)}`);
    }
    return value;
  };
  const allowPrivateNetworks = options.allowPrivateNetworks ?? d.allowPrivateNetworks;
  if (typeof allowPrivateNetworks !== 'boolean') {
    throw new GantryError('USAGE', `${factory}: expected \`allowPrivateNetworks\` to be a boolean, got ${describeValue(allowPrivateNetworks)}`);
  }
  const entries: unknown = options.allow ?? [];
  if (!Array.isArray(entries) || !entries.every((e) => typeof e === 'string')) {
    throw new GantryError('USAGE', `${factory}: expected \`allow\` to be a list of host names, IP addresses and CIDR ranges, got ${describeValue(entries)}`);
  }
  const allow = parseAllowList(entries as string[]);
  if ('invalid' in allow) {
    throw new GantryError(
      'USAGE',
      `${factory}: expected \`allow[${allow.invalid}]\` to be a host name, a *.suffix, an IP address or a CIDR range, got ${describeValue(entries[allow.invalid])}`,
    );
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw new GantryError('USAGE', `${factory}: expected \`random\` to be a function, got ${describeValue(random)}`);
  const policy: OutboundPolicy = {
    timeoutMs: int('timeoutMs', d.timeoutMs, 1),
    connectTimeoutMs: int('connectTimeoutMs', d.connectTimeoutMs, 1),
    maxResponseBytes: int('maxResponseBytes', d.maxResponseBytes, 1),
    maxAttempts: int('maxAttempts', d.maxAttempts, 1),
    retryBaseMs: int('retryBaseMs', d.retryBaseMs, 0),
    retryMaxMs: int('retryMaxMs', d.retryMaxMs, 0),
    maxRetryAfterMs: int('maxRetryAfterMs', d.maxRetryAfterMs, 0),
    maxRedirects: int('maxRedirects', d.maxRedirects, 0),
    allowPrivateNetworks,
    allow,
    random,
  };
  return Object.freeze(policy);
}

/** A policy in use: its dispatcher, and the origins the operator configured (trusted whatever their address). */
export interface Outbound {
  readonly policy: OutboundPolicy;
  readonly dispatcher: Dispatcher;
  /**
   * Trusts an origin (scheme, host, port) that comes from the operator — a connector's
   * `base_url`, an agent's `url`, a webhook URL held in a credential — never from flow data.
   */
  trust(url: string | URL): void;
  isTrusted(url: URL): boolean;
}

/** Raised inside the connector when the guard refuses an address; `http-call.ts` turns it into OUTBOUND_REFUSED. */
export class RefusedAddress extends Error {
  override readonly name = 'RefusedAddress';
  readonly code = 'GANTRY_OUTBOUND_REFUSED';
  constructor(readonly reason: string) {
    super(`refused to connect: ${reason}`);
  }
}

/** An undici dispatcher for `policy`, with `trusted` origins allowed whatever their address. */
export function createOutbound(policy: OutboundPolicy, trusted: Iterable<string | URL | undefined> = []): Outbound {
  const origins = new Set<string>();
  const originKey = (protocol: string, hostname: string, port: string | number) => {
    const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    return `${host}:${port === '' || port === undefined ? (protocol === 'https:' ? 443 : 80) : Number(port)}`;
  };
  const trust = (url: string | URL) => {
    const u = typeof url === 'string' ? new URL(url) : url;
    origins.add(originKey(u.protocol, u.hostname, u.port));
  };
  for (const url of trusted) if (url !== undefined) trust(url);

  const open = buildConnector({ timeout: policy.connectTimeoutMs });
  const guarded = buildConnector({ timeout: policy.connectTimeoutMs, lookup: guardedLookup(policy) });
  const connect: buildConnector.connector = (options, callback) => {
    const { hostname, protocol } = options;
    if (origins.has(originKey(protocol, hostname, options.port))) return open(options, callback);
    // An address written in the URL is never looked up: judge it before a packet is sent.
    const early = refusal(policy, hostname, hostname);
    if (early !== undefined && isIpLiteral(hostname)) {
      queueMicrotask(() => callback(new RefusedAddress(early), null));
      return undefined as unknown as Socket;
    }
    return guarded(options, (error, socket) => {
      if (error !== null) return callback(error, null);
      // The address actually connected to decides, whatever the resolver said.
      const address = socket.remoteAddress ?? '';
      const late = refusal(policy, hostname, address);
      if (late !== undefined) {
        socket.destroy();
        return callback(new RefusedAddress(late), null);
      }
      callback(null, socket);
    });
  };
  // Our own timer bounds every call (http-call.ts), so undici's header and body timeouts are off.
  const dispatcher = new Agent({ connect, headersTimeout: 0, bodyTimeout: 0 });
  return {
    policy,
    dispatcher,
    trust,
    isTrusted: (url) => origins.has(originKey(url.protocol, url.hostname, url.port)),
  };
}

function isIpLiteral(hostname: string): boolean {
  return /^[\d.]+$/.test(hostname) || hostname.includes(':');
}

/** DNS resolution that drops refused addresses; a host with nothing left is refused. */
function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, '', 0);
      if (allowsHost(policy.allow, hostname)) return answer(addresses);
      const allowed = addresses.filter((a) => refusal(policy, hostname, a.address) === undefined);
      if (allowed.length === 0) {
        const reason = addresses.length === 0 ? `${hostname} has no address` : refusal(policy, hostname, addresses[0]!.address)!;
        return callback(new RefusedAddress(reason), '', 0);
      }
      answer(allowed);
    });
    function answer(list: { address: string; family: number }[]): void {
      if (options.all === true) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    }
  };
}
