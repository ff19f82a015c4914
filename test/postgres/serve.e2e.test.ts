/**
 * Two `gantry serve` peers on one database, as real processes (DESIGN §9): a delivery is one run
 * whichever peer it reaches; a peer SIGKILLed in the middle of a run loses nothing (another takes
 * the run over when the lease runs out); a peer paused past its lease (SIGSTOP/SIGCONT) records
 * nothing for the runs it lost and says so; a peer stopped with SIGTERM hands its runs over at
 * once; /health, /peers and /metrics say so.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../packages/store-postgres/test-cluster.mjs';
import { asPrincipal, call, deliver, gatedFlow, PeerProcess, preparePeersFolder } from './peers.mjs';

const FLOW = gatedFlow('deploy', '/deploy');

let cluster: TestCluster;
let dir: string;
let url: string;
const peers: PeerProcess[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  url = cluster.url();
  dir = mkdtempSync(join(tmpdir(), 'gantry-peers-'));
  preparePeersFolder(dir, { flows: [{ flow: FLOW }], store: { lease_ms: 1000, poll_ms: 100 } });
}, 60_000);

afterAll(async () => {
  for (const peer of peers) await peer.kill('SIGKILL');
  await cluster?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function startPeer(name: string): Promise<PeerProcess> {
  const peer = new PeerProcess(name, dir, url);
  peers.push(peer);
  return peer.start();
}

async function row<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return cluster.sql<T>(sql, params, 'gantry');
}

async function until<T>(what: string, get: () => Promise<T>, check: (value: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (check(value)) return value;
    if (Date.now() > end) throw new Error(`${what}: not after ${ms} ms; last ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const status = async (runId: string) => (await row<{ status: string }>('SELECT status FROM gantry.runs WHERE run_id = $1', [runId]))[0]?.status;
const owner = async (runId: string) => (await row<{ owner: string | null }>('SELECT owner FROM gantry.runs WHERE run_id = $1', [runId]))[0]?.owner ?? null;
const peerIdOf = async (peer: PeerProcess) => ((await call(peer.url!, 'GET', '/health')).body as { peer: string }).peer;

/** Every node of the run completed exactly once, in its journal. */
async function expectOneCompletionEach(runId: string): Promise<void> {
  const rows = await row<{ node_id: string; n: string }>("SELECT node_id, count(*) AS n FROM gantry.events WHERE run_id = $1 AND type IN ('node.succeeded', 'node.failed') GROUP BY node_id ORDER BY node_id", [runId]);
  expect(rows.map((r) => [r.node_id, Number(r.n)])).toEqual([
    ['approve', 1],
    ['build', 1],
    ['deploy', 1],
    ['hook', 1],
  ]);
}

const effectsOf = (runId: string) => readdirSync(join(dir, 'effects')).filter((f) => decodeURIComponent(f).startsWith(`${runId}:`));

describe('gantry serve peers on one Postgres database', () => {
  it('answers /health and /peers as peers of the database', async () => {
    const a = await startPeer('a');
    const b = await startPeer('b');
    const health = await call(a.url!, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', store: { kind: 'postgres', writable: true, database: `postgres://postgres@127.0.0.1:${cluster.port}/gantry` } });
    expect(a.stdout).toMatch(/peer \S+ on postgres:\/\/postgres@127\.0\.0\.1:\d+\/gantry, with \d other serve peers?/);
    const listed = await asPrincipal(b.url!, 'alice', 'GET', '/peers');
    expect(listed.status).toBe(200);
    const ids = (listed.body as { peers: { id: string; kind: string; address: string }[] }).peers.filter((p) => p.kind === 'serve');
    expect(ids.map((p) => p.id).sort()).toEqual([await peerIdOf(a), await peerIdOf(b)].sort());
    expect(ids.map((p) => p.address).sort()).toEqual([a.url, b.url].sort());
    expect((await call(b.url!, 'GET', '/peers')).status).toBe(401);
  });

  it('starts one run per delivery whichever peer it reaches; a peer SIGKILLed mid-run loses nothing', async () => {
    const [a, b] = peers as [PeerProcess, PeerProcess];
    const first = await deliver(a.url!, '/deploy', { ref: 'main', delay_ms: 1500 }, 'kill-1');
    expect(first.status).toBe(202);
    const again = await deliver(b.url!, '/deploy', { ref: 'main', delay_ms: 1500 }, 'kill-1');
    expect(again).toMatchObject({ status: 200, body: { run_id: 'delivery-kill-1', duplicate: true } });
    const runId = 'delivery-kill-1';
    await until('build started on a', async () => (await row("SELECT 1 FROM gantry.events WHERE run_id = $1 AND type = 'node.started' AND node_id = 'build'", [runId])).length, (n) => n === 1);
    const killedAt = Date.now();
    await a.kill('SIGKILL');
    const bId = await peerIdOf(b);
    await until('b took the run over', () => owner(runId), (o) => o === bId);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(10_000);
    // It waits for its approval, handed back to the database; decided through b.
    await until('the run waits', () => status(runId), (s) => s === 'waiting');
    const decided = await asPrincipal(b.url!, 'alice', 'POST', `/runs/${runId}/nodes/approve/decision`, { decision: 'approve' });
    expect(decided.status).toBe(200);
    await until('the run succeeded', () => status(runId), (s) => s === 'succeeded');
    await expectOneCompletionEach(runId);
    // build ran on a, then again on b with the same idempotency key: the effect was made once.
    expect(effectsOf(runId).map((f) => decodeURIComponent(f).split(':').slice(1).join(':')).sort()).toEqual(['build', 'deploy']);
    const metrics = String((await call(b.url!, 'GET', '/metrics')).body);
    expect(metrics).toMatch(/^gantry_lease_takeovers_total [1-9]/m);
    expect(metrics).toMatch(/^gantry_claim_latency_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^gantry_peers [12]$/m);
  });

  it('a peer paused past its lease records nothing for the runs it lost, and says so', async () => {
    const b = peers[1]!;
    const a = await startPeer('a2');
    const runId = 'delivery-pause-1';
    expect((await deliver(a.url!, '/deploy', { ref: 'main', delay_ms: 1200 }, 'pause-1')).status).toBe(202);
    await until('build started on a2', async () => (await row("SELECT 1 FROM gantry.events WHERE run_id = $1 AND type = 'node.started' AND node_id = 'build'", [runId])).length, (n) => n === 1);
    a.pause();
    const bId = await peerIdOf(b);
    await until('b took the paused peer’s run over', () => owner(runId), (o) => o === bId);
    // b re-runs build (the same key: one effect) and the run comes to wait for its approval.
    await until('the run waits on b', () => status(runId), (s) => s === 'waiting');
    const before = await row<{ n: string }>('SELECT count(*) AS n FROM gantry.events WHERE run_id = $1', [runId]);
    a.resume();
    // a2's build ends after it wakes: its node.succeeded is refused (or, when its lease renewal
    // comes first, the run is let go before it), and it says why.
    await until('a2 says it lost the run', async () => a.said(`run ${runId}`).filter((l) => /another process holds it now|is lost to another process/.test(l.msg)).length, (n) => n > 0);
    const after = await row<{ n: string }>('SELECT count(*) AS n FROM gantry.events WHERE run_id = $1', [runId]);
    expect(after).toEqual(before);
    const metrics = String((await call(a.url!, 'GET', '/metrics')).body);
    const fenced = Number(/^gantry_fenced_writes_total (\d+)/m.exec(metrics)?.[1]);
    const lost = Number(/^gantry_lost_leases_total (\d+)/m.exec(metrics)?.[1]);
    expect(fenced + lost).toBeGreaterThanOrEqual(1);
    expect((await asPrincipal(a.url!, 'alice', 'POST', `/runs/${runId}/nodes/approve/decision`, { decision: 'approve' })).status).toBe(200);
    await until('the run succeeded', () => status(runId), (s) => s === 'succeeded');
    await expectOneCompletionEach(runId);
    expect(effectsOf(runId)).toHaveLength(2);
  });

  it('a peer stopped with SIGTERM hands its runs to the others at once', async () => {
    const [, b, a] = peers as [PeerProcess, PeerProcess, PeerProcess];
    const runId = 'delivery-term-1';
    expect((await deliver(b.url!, '/deploy', { ref: 'main', delay_ms: 1500 }, 'term-1')).status).toBe(202);
    await until('build started on b', async () => (await row("SELECT 1 FROM gantry.events WHERE run_id = $1 AND type = 'node.started' AND node_id = 'build'", [runId])).length, (n) => n === 1);
    const aId = await peerIdOf(a);
    const stoppedAt = Date.now();
    await b.kill('SIGTERM');
    expect(b.stdout).toContain('the runs this peer holds go to the others');
    await until('a claimed the run', () => owner(runId), (o) => o === aId);
    // Given back, not left to expire: well within a lease (1 s) plus a poll of the peer.
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);
    await until('the run waits', () => status(runId), (s) => s === 'waiting');
    expect((await asPrincipal(a.url!, 'bob', 'POST', `/runs/${runId}/nodes/approve/decision`, { decision: 'approve' })).status).toBe(200);
    await until('the run succeeded', () => status(runId), (s) => s === 'succeeded');
    await expectOneCompletionEach(runId);
  });
});
