// Issue 15, item 8: run ids of different origins cannot collide. A signed delivery `zz9.child`
// once created the run that a later delivery `zz9`'s sub-flow node `child` adopted as its own
// child. Now a delivery's run id never holds a "." (it is hashed), and a sub-flow adopts an
// existing run only if that run's stored parent is the adopting run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type RunEvent } from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import { createServer, type GantryServer } from '@gantry/server';
import { openSqliteStore, type SqliteStore } from '@gantry/store-sqlite';
import { SECRET, deliver, sha256, stopRuns } from './harness.js';

const PARENT = {
  name: 'Parent',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/hook', authentication: 'github_webhook_secret' } },
    { id: 'child', type: 'subflow', data: { flow: './child.json' } },
  ],
  edges: [{ from: 'hook', to: 'child' }],
};
const CHILD = { name: 'Child', nodes: [{ id: 'pause', type: 'wait', data: { seconds: 0 } }], edges: [] };

interface World {
  readonly url: string;
  readonly engine: Engine;
  readonly store: SqliteStore;
  readonly server: GantryServer;
  readonly dir: string;
}
let world: World | undefined;

afterEach(async () => {
  if (world === undefined) return;
  await world.server.close();
  await stopRuns(world.engine, world.store);
  world.store.close();
  rmSync(world.dir, { recursive: true, force: true });
  world = undefined;
});

/** Serves the parent flow (loaded from its file, beside the child's) on a fresh SQLite store; `plant` writes to the store first. */
async function serveParent(plant?: (store: SqliteStore) => void): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-run-ids-'));
  writeFileSync(join(dir, 'parent.json'), JSON.stringify(PARENT));
  writeFileSync(join(dir, 'child.json'), JSON.stringify(CHILD));
  const store = openSqliteStore(join(dir, 'gantry.db'));
  plant?.(store);
  const engine = createEngine({ executors: builtinExecutors, store, credentials: (name) => (name === 'github_webhook_secret' ? SECRET : undefined) });
  const server = createServer({ engine, flows: [await engine.loadFlow(join(dir, 'parent.json'))], resume: false });
  const { url } = await server.listen(0);
  world = { url, engine, store, server, dir };
  return world;
}

async function finished(w: World, runId: string) {
  for (let i = 0; i < 400; i++) {
    const record = w.store.getRun(runId);
    if (record && record.status !== 'running' && record.status !== 'waiting') return record;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`run ${runId} did not finish`);
}

describe('run ids of different origins', () => {
  it('a delivery "zz9.child" gets a hashed run id, so the later delivery "zz9" makes its own child run', async () => {
    const w = await serveParent();
    const planted = await deliver(w.url, '/hook', JSON.stringify({ who: 'attacker' }), { delivery: 'zz9.child' });
    expect(planted.status).toBe(202);
    expect(planted.body.run_id).toBe(`delivery-h${sha256('zz9.child').slice(0, 32)}`);
    const real = await deliver(w.url, '/hook', JSON.stringify({ who: 'github' }), { delivery: 'zz9' });
    expect(real.status).toBe(202);
    expect(real.body.run_id).toBe('delivery-zz9');
    expect((await finished(w, 'delivery-zz9')).status).toBe('succeeded');
    await finished(w, planted.body.run_id);
    const child = w.store.getRun('delivery-zz9.child');
    expect(child?.parentRunId).toBe('delivery-zz9');
    const started = w.store.events('delivery-zz9.child')[0] as Extract<RunEvent, { type: 'run.started' }>;
    expect(started.trigger).toEqual({ who: 'github' });
    // Every top-level run id is free of ".", and every other run is a child of the run its id names.
    for (const run of w.store.listRuns()) {
      if (run.parentRunId === undefined) expect(run.runId).not.toContain('.');
      else expect(run.runId.startsWith(`${run.parentRunId}.`)).toBe(true);
    }
  });

  it('a run already under a child\'s id that is not this run\'s child is not adopted: the sub-flow node fails, the run is left as it was', async () => {
    // As an older Gantry could have stored it: a top-level run named as delivery zz9's child.
    const w = await serveParent((store) => {
      store.createRun({ runId: 'delivery-zz9.child', flowName: 'Child', flowHash: 'h', flowText: JSON.stringify(CHILD), startedAt: 1, status: 'running' }, [
        { type: 'run.started', runId: 'delivery-zz9.child', at: 1, flow: { name: 'Child', hash: 'h' }, params: {}, trigger: { who: 'attacker' } },
      ]);
    });
    const before = w.store.events('delivery-zz9.child');
    const real = await deliver(w.url, '/hook', JSON.stringify({ who: 'github' }), { delivery: 'zz9' });
    expect(real.status).toBe(202);
    expect((await finished(w, 'delivery-zz9')).status).toBe('failed');
    const failed = w.store.events('delivery-zz9').find((e) => e.type === 'node.failed') as Extract<RunEvent, { type: 'node.failed' }>;
    expect(failed.nodeId).toBe('child');
    expect(failed.error.code).toBe('STORE_CONFLICT');
    expect(failed.error.message).toMatch(/a run delivery-zz9\.child exists already and is not a sub-flow run of delivery-zz9 \(it is a top-level run\)/);
    expect(w.store.events('delivery-zz9.child')).toEqual(before);
    expect(w.store.getRun('delivery-zz9.child')?.status).toBe('running');
  });
});
