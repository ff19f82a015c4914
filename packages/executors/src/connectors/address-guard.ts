/**
 * Which network addresses an outbound request may reach: the server-side request forgery guard
 * of the outbound policy. A URL that comes from flow data or a redirect must not be able to make
 * Gantry call its own host, the private network behind it, or a cloud's metadata service.
 *
 * Addresses are classified by what they reach, not by how they are written: an IPv4-mapped IPv6
 * address (`::ffff:127.0.0.1`), a NAT64 or a 6to4 address is judged by the IPv4 address inside.
 */
import { isIP } from 'node:net';

/** What a refused address is; `undefined` from {@link classifyAddress} means a public address. */
export type AddressKind = 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

/** The kinds that `allowPrivateNetworks` opens. Metadata, unspecified, multicast and reserved stay refused unless listed. */
const PRIVATE_KINDS: ReadonlySet<AddressKind> = new Set(['loopback', 'private', 'link-local']);

interface Ip {
  readonly version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

interface Range {
  readonly ip: Ip;
  readonly prefix: number;
}

/** Cloud instance metadata services: AWS, GCP, Azure, Oracle (169.254.169.254), ECS tasks, Alibaba, AWS over IPv6. */
const METADATA = ['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254'].map((a) => range(`${a}/${isIP(a) === 4 ? 32 : 128}`));

/** First match wins, so the metadata addresses are named before the ranges that hold them. */
const RANGES: readonly (readonly [AddressKind, readonly Range[]])[] = [
  ['metadata', METADATA],
  ['unspecified', ['0.0.0.0/8', '::/128'].map(range)],
  ['loopback', ['127.0.0.0/8', '::1/128'].map(range)],
  // 100.64/10 is carrier-grade NAT space, which clouds also use inside (Alibaba's metadata lives there).
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fec0::/10'].map(range)],
  ['link-local', ['169.254.0.0/16', 'fe80::/10'].map(range)],
  ['multicast', ['224.0.0.0/4', 'ff00::/8'].map(range)],
  // IETF protocol assignments, benchmarking, the old class E and broadcast, and IPv4-compatible IPv6.
  ['reserved', ['192.0.0.0/24', '198.18.0.0/15', '240.0.0.0/4', '::/96'].map(range)],
];

/** IPv6 forms that carry an IPv4 address: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::). */
const MAPPED = range('::ffff:0:0/96');
const NAT64 = range('64:ff9b::/96');
const SIX_TO_FOUR = range('2002::/16');

/** The address's kind, or undefined for a public address. A string that is no IP address is `reserved`. */
export function classifyAddress(address: string): AddressKind | undefined {
  const ip = parseIp(address);
  if (ip === undefined) return 'reserved';
  const target = embeddedIpv4(ip) ?? ip;
  for (const [kind, ranges] of RANGES) {
    if (ranges.some((r) => contains(r, target))) return kind;
  }
  return undefined;
}

/** Hosts and addresses an operator allows despite their kind (`outbound.allow`). */
export interface AllowList {
  readonly entries: readonly string[];
  /** Exact host names, lower-case. */
  readonly hosts: ReadonlySet<string>;
  /** `*.example.internal` entries, as `.example.internal`. */
  readonly suffixes: readonly string[];
  readonly ranges: readonly Range[];
}

/** Parses `allow` entries, or returns the index and text of the first one that is none of host, IP, CIDR. */
export function parseAllowList(entries: readonly string[]): AllowList | { readonly invalid: number } {
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  const ranges: Range[] = [];
  for (const [index, raw] of entries.entries()) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    if (cidr !== null) {
      const ip = parseIp(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (ip === undefined || prefix > ip.bytes.length * 8) return { invalid: index };
      ranges.push({ ip, prefix });
    } else if (isIP(entry) !== 0) {
      const ip = parseIp(entry)!;
      ranges.push({ ip, prefix: ip.bytes.length * 8 });
    } else if (/^\*(\.[a-z0-9_-]+)+$/.test(entry)) {
      suffixes.push(entry.slice(1));
    } else if (/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/.test(entry)) {
      hosts.add(entry.replace(/\.$/, ''));
    } else {
      return { invalid: index };
    }
  }
  return { entries: [...entries], hosts, suffixes, ranges };
}

/** Whether a host name is listed, exactly or under a `*.` entry. */
export function allowsHost(list: AllowList, hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return list.hosts.has(host) || list.suffixes.some((suffix) => host.endsWith(suffix));
}

/**
 * Why connecting to `address` (for `hostname`) is refused, or undefined when it is allowed: a
 * public address, a listed host or address, or a private one under `allowPrivateNetworks`.
 */
export function refusal(
  policy: { readonly allow: AllowList; readonly allowPrivateNetworks: boolean },
  hostname: string,
  address: string,
): string | undefined {
  const kind = classifyAddress(address);
  if (kind === undefined || allowsHost(policy.allow, hostname)) return undefined;
  const ip = parseIp(address);
  if (ip !== undefined) {
    const target = embeddedIpv4(ip) ?? ip;
    if (policy.allow.ranges.some((r) => contains(r, ip) || contains(r, target))) return undefined;
  }
  if (policy.allowPrivateNetworks && PRIVATE_KINDS.has(kind)) return undefined;
  const host = hostname === address ? address : `${hostname} (${address})`;
  return `${host} is ${kind === 'metadata' ? 'a cloud metadata service' : `${kind === 'unspecified' ? 'an' : 'a'} ${kind} address`}`;
}

function range(text: string): Range {
  const [address, prefix] = text.split('/');
  return { ip: parseIp(address!)!, prefix: Number(prefix) };
}

function contains(r: Range, ip: Ip): boolean {
  if (r.ip.version !== ip.version) return false;
  let bits = r.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((r.ip.bytes[i]! & mask) !== (ip.bytes[i]! & mask)) return false;
  }
  return true;
}

function embeddedIpv4(ip: Ip): Ip | undefined {
  if (ip.version !== 6) return undefined;
  if (contains(MAPPED, ip) || contains(NAT64, ip)) return { version: 4, bytes: ip.bytes.slice(12, 16) };
  if (contains(SIX_TO_FOUR, ip)) return { version: 4, bytes: ip.bytes.slice(2, 6) };
  return undefined;
}

/** An IPv4 or IPv6 address (brackets and a zone id allowed) as bytes; undefined for anything else. */
export function parseIp(text: string): Ip | undefined {
  const address = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const version = isIP(address);
  if (version === 4) return { version: 4, bytes: Uint8Array.from(address.split('.').map(Number)) };
  if (version !== 6) return undefined;
  let head = address;
  let tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted !== null) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    head = address.slice(0, dotted.index + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const before = groups(left);
  const after = [...groups(right), ...tail];
  const fill = right === undefined ? [] : new Array<number>(8 - before.length - after.length).fill(0);
  const words = right === undefined ? [...before, ...tail] : [...before, ...fill, ...after];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  return { version: 6, bytes };
}
