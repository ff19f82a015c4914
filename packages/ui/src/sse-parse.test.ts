import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-parse';

describe('SseParser', () => {
  it('reads frames cut anywhere, with ids, event names, multi-line data, comments and retry', () => {
    const text = 'retry: 2000\n\n: heartbeat\n\nid: 4;a=1\nevent: journal\ndata: {"a":\ndata: 1}\n\nevent: end\r\ndata: {}\r\n\r\n';
    for (const size of [1, 2, 3, 7, text.length]) {
      const p = new SseParser();
      const frames = [];
      for (let i = 0; i < text.length; i += size) frames.push(...p.push(text.slice(i, i + size)));
      expect(frames).toEqual([
        { id: '4;a=1', event: 'journal', data: '{"a":\n1}' },
        { event: 'end', data: '{}' },
      ]);
      expect(p.retryMs).toBe(2000);
    }
  });

  it('gives no frame for a block without data, and names an unnamed one "message"', () => {
    const p = new SseParser();
    expect(p.push('id: 3\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x' }]);
  });
});
