/**
 * The database lost while a peer runs (DESIGN §9): its runs pause (their journal waits; a
 * delivery meanwhile is refused with 503, nothing stored), the peer tries again with backoff and says so,
 * and when the database is back everything carries on: every run finishes, every node completed
 * once, every effect made once.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../packages/store-postgres/test-cluster.mjs';
import { call, deliver, PeerProcess, preparePeersFolder } from './peers.mjs';

const FLOW = {
  name: 'steps',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/steps', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'one', type: 'agent', data: { agent: 'ops', task: 'one', inputs: { delay_ms: 400 } } },
    { id: 'two', type: 'agent', data: { agent: 'ops', task: 'two', inputs: { delay_ms: 400 } } },
    { id: 'three', type: 'agent', data: { agent: 'ops', task: 'three', inputs: { delay_ms: 10 } } },
  ],
  edges: [
    { from: 'hook', to: 'one' },
    { from: 'one', to: 'two' },
    { from: 'two', to: 'three' },
  ],
};

let cluster: TestCluster;
let dir: string;
let peer: PeerProcess;

beforeAll(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'gantry-db-loss-'));
  preparePeersFolder(dir, { flows: [{ flow: FLOW }], store: { lease_ms: 1000, poll_ms: 100 } });
  peer = new PeerProcess('p', dir, cluster.url());
  await peer.start();
}, 60_000);

afterAll(async () => {
  await peer?.kill('SIGKILL');
  await cluster?.remove();
  rmSync(dir, { recursive: true, force: true });
});

it('pauses the runs while the database is gone, and carries them on when it is back, nothing recorded twice', async () => {
  for (let i = 0; i < 4; i++) expect((await deliver(peer.url!, '/steps', { n: i }, `loss-${i}`, 10_000)).status).toBe(202);
  // Gone while the first steps run.
  // As a crash: no shutdown checkpoint, connections cut mid-commit.
  cluster.stop('immediate');
  const health = await call(peer.url!, 'GET', '/health', { timeoutMs: 10_000 });
  expect(health.status).toBe(503);
  // A delivery now cannot be stored: refused (503), nothing started; its sender tries again later.
  const refused = await deliver(peer.url!, '/steps', { n: 'late' }, 'loss-late', 10_000);
  expect(refused).toMatchObject({ status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } } });
  await new Promise((r) => setTimeout(r, 2500));
  expect(peer.said('the run store cannot be reached: runs pause').length).toBeGreaterThan(0);
  cluster.start();
  expect((await deliver(peer.url!, '/steps', { n: 'late' }, 'loss-late', 30_000)).status).toBe(202);
  const ids = ['loss-0', 'loss-1', 'loss-2', 'loss-3', 'loss-late'].map((d) => `delivery-${d}`);
  const end = Date.now() + 30_000;
  for (;;) {
    const rows = await cluster.sql<{ run_id: string; status: string }>('SELECT run_id, status FROM gantry.runs ORDER BY run_id', [], 'gantry');
    if (rows.length === ids.length && rows.every((r) => r.status === 'succeeded')) break;
    if (Date.now() > end) throw new Error(`not every run finished: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const completions = await cluster.sql<{ run_id: string; node_id: string; n: string }>(
    "SELECT run_id, node_id, count(*) AS n FROM gantry.events WHERE type IN ('node.succeeded', 'node.failed') GROUP BY run_id, node_id",
    [],
    'gantry',
  );
  expect(completions).toHaveLength(ids.length * 4);
  expect(completions.every((c) => c.n === '1')).toBe(true);
  expect(readdirSync(join(dir, 'effects'))).toHaveLength(ids.length * 3);
  expect(peer.said('the run store is back: runs carry on').length).toBeGreaterThan(0);
  expect((await call(peer.url!, 'GET', '/health')).status).toBe(200);
  expect(peer.alive).toBe(true);
}, 90_000);
