import { describe, expect, it } from 'vitest';
import { oneLine } from '../render/values.js';
import { clip, fitHeight, wrap, wrapTail } from './render.js';
import { formatChecks } from '../render/checks.js';

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

describe('fitHeight', () => {
  const line = (text: string, finished: boolean) => ({ text, finished });

  it('leaves out finished lines first, from the top, and says how many, to fit the terminal', () => {
    const lines = [line('a ✓', true), line('b ✓', true), line('c ⠋', false), line('d ✓', true), line('e ·', false)];
    expect(fitHeight(lines, 5)).toEqual(['a ✓', 'b ✓', 'c ⠋', 'd ✓', 'e ·']);
    expect(fitHeight(lines, 4)).toEqual(['  … 2 finished (the terminal is too short to show them all)', 'c ⠋', 'd ✓', 'e ·']);
  });

  it('then cuts the end when what runs is taller still', () => {
    const lines = [line('a ✓', true), line('b ⠋', false), line('c ⠋', false), line('d ⠋', false), line('e ·', false)];
    expect(fitHeight(lines, 3)).toEqual(['  … 1 finished, 2 more below (the terminal is too short to show them all)', 'b ⠋', 'c ⠋']);
  });
});

describe('oneLine', () => {
  it("puts a run's text on one line and shows control characters instead of letting them act on the terminal", () => {
    expect(oneLine('exit 1:\n  Error: boom\r\n  at x')).toBe('exit 1: Error: boom at x');
    expect(oneLine('red \u001b[31mtext\u0007 and a\ttab')).toBe('red \\u001b[31mtext\\u0007 and a\\ttab');
  });
});

describe("a gate's checks, from a node's output", () => {
  it('show the metric and operator escaped: an output cannot write to the clipboard or clear the screen', () => {
    const plain = { red: (t: string) => t } as unknown as Parameters<typeof formatChecks>[1];
    const shown = formatChecks([{ metric: 'p95\u001b]52;c;aGk=\u0007\u001b[2J', operator: '<=\u001b[2J', actual: 1, expected: 2, passed: true }], plain);
    expect(shown).not.toMatch(/[\u0000-\u001f]/);
    expect(shown).toBe('p95\\u001b]52;c;aGk=\\u0007\\u001b[2J 1 <=\\u001b[2J 2');
  });
});
