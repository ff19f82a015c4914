import { describe, expect, it } from 'vitest';
import { classifyAddress, parseAllowList, parseIp, refusal, type AllowList } from './address-guard.js';

function allowList(entries: string[]): AllowList {
  const list = parseAllowList(entries);
  if ('invalid' in list) throw new Error(`invalid entry ${list.invalid}`);
  return list;
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::7f00:1', 'reserved'],
    // IPv4 inside IPv6 is judged by the IPv4 address.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['not an address', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '172.15.255.255', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    '%s is public',
    (address) => {
      expect(classifyAddress(address)).toBeUndefined();
    },
  );

  it('parses IPv6 in every written form to the same bytes', () => {
    const expected = parseIp('0:0:0:0:0:ffff:7f00:1')!.bytes;
    for (const form of ['::ffff:127.0.0.1', '::FFFF:7F00:1', '[::ffff:7f00:1]', '0::ffff:127.0.0.1']) expect(parseIp(form)?.bytes, form).toEqual(expected);
  });
});

describe('refusal', () => {
  const strict = { allow: allowList([]), allowPrivateNetworks: false };

  it('refuses every non-public kind by default and says which it is', () => {
    expect(refusal(strict, '127.0.0.1', '127.0.0.1')).toBe('127.0.0.1 is a loopback address');
    expect(refusal(strict, 'localhost', '::1')).toBe('localhost (::1) is a loopback address');
    expect(refusal(strict, 'metadata.google.internal', '169.254.169.254')).toBe('metadata.google.internal (169.254.169.254) is a cloud metadata service');
    expect(refusal(strict, '[::]', '::')).toBe('[::] (::) is an unspecified address');
    expect(refusal(strict, 'example.com', '93.184.216.34')).toBeUndefined();
  });

  it('opens loopback, private and link-local with allowPrivateNetworks, never metadata or unspecified', () => {
    const open = { allow: allowList([]), allowPrivateNetworks: true };
    for (const address of ['127.0.0.1', '10.0.0.1', '192.168.0.10', 'fe80::1', '::ffff:127.0.0.1']) expect(refusal(open, address, address), address).toBeUndefined();
    for (const address of ['169.254.169.254', '0.0.0.0', '::ffff:169.254.169.254', '224.0.0.1']) expect(refusal(open, address, address), address).toBeDefined();
  });

  it('allows listed hosts, suffixes, addresses and ranges — metadata included when listed', () => {
    const policy = { allow: allowList(['hooks.internal', '*.corp.example', '10.0.0.0/8', '::1', '169.254.169.254']), allowPrivateNetworks: false };
    expect(refusal(policy, 'hooks.internal', '192.168.7.7')).toBeUndefined();
    expect(refusal(policy, 'HOOKS.internal.', '192.168.7.7')).toBeUndefined();
    expect(refusal(policy, 'ci.corp.example', '172.20.0.5')).toBeUndefined();
    expect(refusal(policy, 'corp.example', '172.20.0.5')).toBeDefined();
    expect(refusal(policy, 'svc', '10.200.0.1')).toBeUndefined();
    expect(refusal(policy, 'svc', '::ffff:10.200.0.1')).toBeUndefined();
    expect(refusal(policy, 'svc', '11.0.0.1')).toBeUndefined();
    expect(refusal(policy, 'svc', '127.0.0.1')).toBeDefined();
    expect(refusal(policy, '::1', '::1')).toBeUndefined();
    expect(refusal(policy, '169.254.169.254', '169.254.169.254')).toBeUndefined();
  });
});

describe('parseAllowList', () => {
  it('accepts host names, *.suffixes, addresses and CIDR ranges', () => {
    const list = allowList(['Hooks.Internal', '*.corp.example', '10.0.0.0/8', '[::1]', 'fd00::/8', '127.0.0.1']);
    expect([...list.hosts]).toEqual(['hooks.internal']);
    expect(list.suffixes).toEqual(['.corp.example']);
    expect(list.ranges).toHaveLength(4);
  });

  it('points at the first entry that is none of those', () => {
    expect(parseAllowList(['ok.example', '10.0.0.0/33'])).toEqual({ invalid: 1 });
    expect(parseAllowList(['http://hooks.internal'])).toEqual({ invalid: 0 });
    expect(parseAllowList(['a', '*'])).toEqual({ invalid: 1 });
    expect(parseAllowList(['10.0.0.0/x'])).toEqual({ invalid: 0 });
  });
});
