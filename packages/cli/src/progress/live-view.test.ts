import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type JsonObject, type RunEvent } from '@gantry/engine';
import { builtinExecutors, moduleAgent } from '@gantry/executors';
import { openSqliteStore } from '@gantry/store-sqlite';
import { styleFor } from '../style.js';
import { LiveView } from './live-view.js';
import { renderTree } from './render.js';
import { RunTree } from './tree.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const ITEMS = 5000;
/** The item that fails once (retried), then waits for the test, then fails for good. */
const BROKEN = 2500;
const ROWS = 20;

/** A terminal at the edge: what the view writes, and its size. */
function terminal(): { out: Writable & { columns: number; rows: number }; frames: string[] } {
  const frames: string[] = [];
  const out = { columns: 120, rows: ROWS, write: (text: string) => frames.push(text.replace(/\r|\u001b\[[0-9;?]*[A-Za-z]/g, '')) > 0 };
  return { out: out as unknown as Writable & { columns: number; rows: number }, frames };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (const started = Date.now(); !check(); ) {
    if (Date.now() - started > 20_000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the live view of a for_each with thousands of items', () => {
  it('builds the lines a frame can show, not one per item: the counts, the running item, then the failed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-live-items-'));
    dirs.push(dir);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let brokenCalls = 0;
    const probe = moduleAgent(async (inputs: JsonObject) => {
      if (inputs.n !== BROKEN) return { n: inputs.n };
      if (++brokenCalls === 1) return { status: 'failed', error: { message: 'flaky the first time', retryable: true } };
      await gate;
      return { status: 'failed', error: { message: 'the disk is full', retryable: false } };
    });
    const store = openSqliteStore(join(dir, 'gantry.db'));
    const engine = createEngine({ executors: builtinExecutors, agents: { probe }, store });
    const flow = {
      name: 'many',
      nodes: [{ id: 'work', type: 'agent', for_each: `{% [0..${ITEMS - 1}] %}`, concurrency: 8, retry: { max_attempts: 2, backoff: 'fixed', initial_seconds: 0.05 }, data: { agent: 'probe', task: 't', inputs: { n: '{% $item %}' } } }],
    };
    try {
      // As `gantry run` watches a run: what happened while it was being started, then each event.
      const history: RunEvent[] = [];
      const early = engine.on('event', (event) => history.push(event));
      const run = await engine.start(flow);
      early();
      const tree = new RunTree(run.id, run.flow, (id) => engine.run(id));
      for (const event of history) tree.apply(event);
      const off = engine.on('event', (event) => tree.apply(event));
      const { out, frames } = terminal();
      const view = new LiveView(tree, out, styleFor({ isTTY: false }), () => engine.options.clock.now());
      const items = () => [...(tree.root.row('work')!.items?.started.values() ?? [])];
      // Every item done but the broken one, which runs its second attempt.
      await until('every other item has succeeded', () => items().filter((i) => i.state === 'succeeded').length === ITEMS - 1 && tree.root.row('work')!.items?.started.get(BROKEN)?.state === 'running');

      const built = renderTree(tree, styleFor({ isTTY: false }), engine.options.clock.now(), 120, 0, ROWS - 1);
      expect(built.length).toBeLessThanOrEqual(ROWS + 2);
      view.draw();
      const frame = frames.at(-1)!.split('\n');
      expect(frame.length).toBeLessThanOrEqual(ROWS);
      expect(frame[0]).toMatch(/^ {2}\S work {2}agent {2}running 4999 of 5000 done/);
      expect(frame[1]).toBe('    5000 items: 4999 succeeded, 1 running');
      expect(frame[2]).toMatch(/^ {4}\S \[2500\] 2500 {2}running attempt 2 \S+$/);

      release();
      const finished = await run.finished;
      expect(finished.status).toBe('failed');
      view.stop();
      off();
      const last = frames.at(-2)!.split('\n');
      expect(last[0]).toMatch(/^ {2}✗ work {2}agent {2}failed \S+ — AGENT_FAILED: item 2500: agent "probe" task "t" failed: the disk is full/);
      expect(last[1]).toBe('    5000 items: 4999 succeeded, 1 failed');
      expect(last[2]).toMatch(/^ {4}✗ \[2500\] 2500 {2}attempt 2 \S+ — item 2500: agent "probe" task "t" failed: the disk is full$/);
      expect(last.slice(3).filter((l) => l !== '')).toEqual([]);
    } finally {
      await engine.close?.();
      store.close();
    }
  }, 60_000);
});
