/**
 * The web UI's live streams across peers (DESIGN §9, §10): two `gantry serve` processes on one
 * database, a run carried on by one, its stream and the runs list read from the other. Every event
 * arrives live, once, in order, whichever peer wrote it; a resume position given by one peer is
 * carried on by the other.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../packages/store-postgres/test-cluster.mjs';
import { readSse, type Frame, type Reader } from '../server/sse-reader.js';
import { asPrincipal, call, deliver, gatedFlow, PeerProcess, preparePeersFolder, TOKENS } from './peers.mjs';

let cluster: TestCluster;
let dir: string;
const peers: PeerProcess[] = [];
const readers: Reader[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'gantry-live-peers-'));
  const quick = {
    name: 'quick',
    nodes: [
      { id: 'hook', type: 'webhook', data: { endpoint: '/quick', method: 'POST', authentication: 'github_webhook_secret' } },
      { id: 'build', type: 'agent', data: { agent: 'ops', task: 'build', inputs: { delay_ms: 0 } } },
    ],
    edges: [{ from: 'hook', to: 'build' }],
  };
  preparePeersFolder(dir, { flows: [{ flow: gatedFlow('deploy', '/deploy') }, { flow: quick }], store: { lease_ms: 1000, poll_ms: 100 } });
  for (const name of ['a', 'b']) peers.push(await new PeerProcess(name, dir, cluster.url()).start());
}, 90_000);

afterAll(async () => {
  for (const r of readers) r.close();
  for (const peer of peers) await peer.kill('SIGKILL');
  await cluster?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function stream(url: string, path: string, headers: Record<string, string> = {}): Promise<Reader> {
  const r = await readSse(url, path, { authorization: `Bearer ${TOKENS.alice}`, ...headers });
  readers.push(r);
  return r;
}

const journalOf = async (runId: string) => (await cluster.sql<{ json: string }>('SELECT json FROM gantry.events WHERE run_id = $1 ORDER BY seq', [runId], 'gantry')).map((r) => JSON.parse(r.json) as { type: string; nodeId?: string });
const ownerOf = async (runId: string) => (await cluster.sql<{ owner: string | null }>('SELECT owner FROM gantry.runs WHERE run_id = $1', [runId], 'gantry'))[0]?.owner;
const peerIdOf = async (peer: PeerProcess) => ((await call(peer.url!, 'GET', '/health')).body as { peer: string }).peer;
const journalFrames = (r: Reader) => r.frames.filter((f) => f.event === 'journal');
const has = (type: string, nodeId?: string) => (f: Frame) => f.event === 'journal' && f.data.events.some((e: { type: string; nodeId?: string }) => e.type === type && (nodeId === undefined || e.nodeId === nodeId));

/** The frames' events follow each other from `from` without a gap or a repeat; returns them. */
function contiguous(frames: Frame[], from = 0): { type: string }[] {
  let at = from;
  const events: { type: string }[] = [];
  for (const f of frames) {
    expect(f.data.from).toBe(at);
    at += f.data.events.length;
    expect(f.id).toBe(String(at));
    events.push(...f.data.events);
  }
  return events;
}

describe('the live streams of peers on one Postgres database', () => {
  it('a run carried on by peer B streams live from peer A, and the runs list of A follows it', async () => {
    const [a, b] = peers as [PeerProcess, PeerProcess];
    const list = await stream(a.url!, '/events');
    expect((await list.until('hello', (f) => f.event === 'hello')).data.resumed).toBe(false);

    const runId = 'delivery-live-1';
    expect((await deliver(b.url!, '/deploy', { ref: 'main', delay_ms: 1500 }, 'live-1')).status).toBe(202);
    const run = await stream(a.url!, `/runs/${runId}/events`);
    // The build is under way on B, and only there.
    expect(await ownerOf(runId)).toBe(await peerIdOf(b));
    await run.until('the backlog', (f) => f.event === 'journal');
    expect(journalFrames(run).some(has('node.succeeded', 'build'))).toBe(false);
    // What B writes next reaches A's reader live: well before A's 15 s heartbeat would compare journals.
    const started = Date.now();
    await run.until('the approval B asks for', has('approval.requested'), 8000);
    expect(Date.now() - started).toBeLessThan(8000);
    await list.until('A lists the run B started', (f) => f.event === 'run' && f.data.run_id === runId);
    await list.until('A lists it waiting', (f) => f.event === 'run' && f.data.run_id === runId && f.data.status === 'waiting' && f.data.waiting_for?.length === 1);

    // Decided through A: A takes the run, records the decision and hands it back; whoever claims it
    // carries it on. A's reader gets every event once, whoever wrote it.
    expect((await asPrincipal(a.url!, 'alice', 'POST', `/runs/${runId}/nodes/approve/decision`, { decision: 'approve' })).status).toBe(200);
    await run.until('the end', (f) => f.event === 'end', 15_000);
    expect(run.frames.at(-1)!.data).toEqual({ run_id: runId, status: 'succeeded' });
    expect(contiguous(journalFrames(run))).toEqual(await journalOf(runId));
    const finished = await list.until('A lists it succeeded', (f) => f.event === 'run' && f.data.run_id === runId && f.data.status === 'succeeded');
    expect(finished.data.waiting_for).toBeUndefined();
    // A line is sent when it reads differently, not once per peer that saw it change.
    const lines = list.frames.filter((f) => f.event === 'run' && f.data.run_id === runId).map((f) => JSON.stringify(f.data));
    expect(lines.filter((line, i) => line === lines[i - 1])).toEqual([]);
  }, 60_000);

  it('runs B starts and ends at once still show in A\'s list, ended; a position from one peer resumes on the other', async () => {
    const [a, b] = peers as [PeerProcess, PeerProcess];
    const list = await stream(a.url!, '/events');
    await list.until('hello', (f) => f.event === 'hello');
    // Each may start and end between two of A's looks at the store.
    for (const n of [1, 2, 3]) expect((await deliver(b.url!, '/quick', {}, `quick-${n}`)).status).toBe(202);
    for (const n of [1, 2, 3]) await list.until(`quick-${n} listed ended`, (f) => f.event === 'run' && f.data.run_id === `delivery-quick-${n}` && f.data.status === 'succeeded');
    const runId = 'delivery-live-2';
    expect((await deliver(b.url!, '/deploy', { ref: 'main', delay_ms: 0 }, 'live-2')).status).toBe(202);
    await list.until('A lists the run waiting', (f) => f.event === 'run' && f.data.run_id === runId && f.data.status === 'waiting');

    // Read on B up to the approval, then carried on from that position on A after the decision.
    const onB = await stream(b.url!, `/runs/${runId}/events`);
    const asked = await onB.until('the approval', has('approval.requested'));
    onB.close();
    expect((await asPrincipal(b.url!, 'bob', 'POST', `/runs/${runId}/nodes/approve/decision`, { decision: 'approve' })).status).toBe(200);
    const onA = await stream(a.url!, `/runs/${runId}/events`, { 'last-event-id': asked.id! });
    await onA.until('the end', (f) => f.event === 'end', 15_000);
    const seen = contiguous(journalFrames(onB).filter((f) => Number(f.id) <= Number(asked.id)));
    expect([...seen, ...contiguous(journalFrames(onA), Number(asked.id))]).toEqual(await journalOf(runId));
    await list.until('A lists it succeeded', (f) => f.event === 'run' && f.data.run_id === runId && f.data.status === 'succeeded');
  }, 60_000);
});
