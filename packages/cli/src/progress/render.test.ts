import { describe, expect, it } from 'vitest';
import { clip, wrap, wrapTail } from './render.js';

describe('lines at a width', () => {
  it('clip cuts at the end of a word, never inside one, and keeps a plain line plain', () => {
    expect(clip('  ✗ deploy  agent  failed — gate "metrics_gate" failed: p95_latency_ms <= 500', 50)).toBe('  ✗ deploy  agent  failed — gate "metrics_gate"…');
    expect(clip('short', 50)).toBe('short');
    expect(clip('\u001b[31mred words that go on and on\u001b[39m', 12)).toBe('\u001b[31mred words…\u001b[0m');
  });

  it('wrap breaks at words, keeps runs of spaces (columns), leaves a longer word whole', () => {
    expect(wrap('production    served by blue at the end: 20 requests through the proxy', 40, 2, 16)).toEqual(['  production    served by blue at the', '                end: 20 requests through', '                the proxy']);
    expect(wrap('see http://example.com/a/very/long/path/that/does/not/fit', 20, 0, 2)).toEqual(['see', '  http://example.com/a/very/long/path/that/does/not/fit']);
  });

  it('wrapTail keeps the columns on the first line and puts the reason below, broken after commas', () => {
    const line = '      ✗ [0] 10  2.5s — error_rate_percent 0 <= 1, p95_latency_ms 875 <= 500 ✗, requests 10 >= 5';
    expect(wrapTail(line, 60, 10)).toEqual(['      ✗ [0] 10  2.5s', '          error_rate_percent 0 <= 1,', '          p95_latency_ms 875 <= 500 ✗, requests 10 >= 5']);
    expect(wrapTail('  ✓ short — fine', 60, 6)).toEqual(['  ✓ short — fine']);
  });
});
