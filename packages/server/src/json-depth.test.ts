import { describe, expect, it } from 'vitest';
import { HttpError } from './http.js';
import { JsonDepthGauge, parseJson } from './json-depth.js';

/** The gauge's verdict on `text` fed in pieces of `size` bytes. */
function exceeds(text: string, limit: number, size = Infinity): boolean {
  const gauge = new JsonDepthGauge(limit);
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += Math.min(size, bytes.length)) gauge.write(bytes.subarray(at, at + size));
  return gauge.exceeded;
}

describe('JsonDepthGauge', () => {
  it('measures nesting as JSON.parse sees it, wherever the chunks split', () => {
    const cases: [string, number][] = [
      ['1', 0],
      ['{}', 1],
      ['[{}]', 2],
      ['{"a":[1,{"b":[]}],"c":{}}', 4],
      // Brackets in strings, escaped quotes and backslashes, multi-byte characters are text.
      ['{"s":"[[[{{{\\"]]]","t":"\\\\","u":"é[😀"}', 1],
      ['["\\\\\\"[",[["\\\\"]]]', 3],
    ];
    for (const [text, depth] of cases) {
      for (const size of [1, 2, 3, 7, Infinity]) {
        expect(exceeds(text, depth, size), `${text} split every ${size}`).toBe(false);
        if (depth > 0) expect(exceeds(text, depth - 1, size), `${text} split every ${size}`).toBe(true);
      }
    }
  });

  it('measures 45,000 levels without recursion, and stops at the limit', () => {
    const deep = `${'['.repeat(45_000)}${']'.repeat(45_000)}`;
    expect(exceeds(deep, 100, 65536)).toBe(true);
    expect(exceeds(deep, 45_000, 65536)).toBe(false);
  });

  it('is what parseJson refuses with 400 PAYLOAD_TOO_DEEP, before JSON.parse runs', () => {
    const gauge = new JsonDepthGauge(2);
    const body = Buffer.from('[[[');
    gauge.write(body);
    let error: unknown;
    try {
      parseJson(body, gauge, 'server.json_depth_limit');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, code: 'PAYLOAD_TOO_DEEP', message: 'the body nests JSON arrays and objects more than 2 deep, the limit (server.json_depth_limit)' });
    const fine = new JsonDepthGauge(2);
    fine.write(Buffer.from('[[1]]'));
    expect(parseJson(Buffer.from('[[1]]'), fine, 'x')).toEqual([[1]]);
  });
});
