import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStats, startLoad, stopLoad } from './load.js';

let received = 0;
const server = createServer((_req, res) => {
  received += 1;
  res.writeHead(200, { 'x-gantry-upstream': 'blue' }).end('{}');
});

beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => {
  stopLoad();
  server.close();
});

describe('the production traffic', () => {
  it('sends the rate it says it sends', async () => {
    const started = startLoad(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 50);
    expect(started.rps).toBe(50);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const sent = loadStats()!.sent;
    stopLoad();
    // 2 s at 50 a second: 100, give or take the last tick.
    expect(sent).toBeGreaterThanOrEqual(90);
    expect(sent).toBeLessThanOrEqual(101);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toBe(sent);
  });
});
