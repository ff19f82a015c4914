/**
 * What the live streams of a peer cost the shared store (DESIGN §9, §10): nothing while no stream
 * is open; while one is, a poll every `pollMs` that reads no journal while no process writes.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEngine } from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import { createServer, type ClusterView, type HeadsAnswer } from '@gantry/server';
import { freshDatabase, open, useCluster } from '../../packages/store-postgres/src/test-kit.js';
import { readSse } from '../server/sse-reader.js';

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

useCluster();

describe('the live streams on Postgres', () => {
  it('poll the store only while a stream is open, and read journals only after a write', async () => {
    const { url } = await freshDatabase();
    const store = await open(url, { peerId: 'a' });
    const engine = createEngine({ store, executors: builtinExecutors, functions: { identity: (input: unknown) => input } });
    store.attach(engine);
    const a = { store, engine };
    const answers: HeadsAnswer[] = [];
    const cluster: ClusterView = {
      peerId: a.store.peerId,
      peers: () => a.store.peers(),
      stats: a.store.stats,
      onClaim: () => () => {},
      heads: async (query) => {
        const answer = await a.store.heads(query);
        answers.push(answer);
        return answer;
      },
      pollMs: 20,
    };
    const principals = { alice: { roles: ['lead'], token_sha256: createHash('sha256').update('token-alice').digest('hex') } };
    const server = createServer({ engine: a.engine, cluster, resume: false, principals, ui: false });
    const { url: base } = await server.listen(0);
    try {
      const flow = { name: 'one', nodes: [{ id: 'x', type: 'function', data: { function: 'identity' } }], edges: [] };
      await (await a.engine.start(flow)).result;
      await new Promise((r) => setTimeout(r, 200));
      expect(answers).toHaveLength(0);

      const list = await readSse(base, '/events', { authorization: 'Bearer token-alice' });
      await list.until('hello', (f) => f.event === 'hello');
      await until(() => answers.length >= 6, 'polls while the list is open');
      // The first poll reads; then nobody writes, and each poll reads the peers' marks alone.
      expect(answers.slice(2).every((answer) => answer.heads === undefined)).toBe(true);
      const run = await a.engine.start(flow);
      await list.until('the run listed', (f) => f.event === 'run' && f.data.run_id === run.id && f.data.status === 'succeeded');
      await until(() => answers.slice(-3).every((answer) => answer.heads === undefined) && answers.length > 8, 'the polls quiet again');

      list.close();
      await list.ended;
      await new Promise((r) => setTimeout(r, 100));
      const after = answers.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(answers.length).toBe(after);
    } finally {
      await server.close();
    }
  }, 30_000);
});
