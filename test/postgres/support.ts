/**
 * Engines on a Postgres store, in this process: each engine with its own store is one peer of
 * the shared database (DESIGN §9). The built-in executors, plus a `gate` node type whose attempts
 * wait until the test opens them, so that a test knows where each run is.
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { createEngine, type Engine, type EngineOptions, type ExecutorDefinition, type JsonObject, type PrincipalDirectory } from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import type { PostgresStore, PostgresStoreOptions } from '@gantry/store-postgres';
import { open } from '../../packages/store-postgres/src/test-kit.js';

export { freshDatabase, sql, useCluster, row } from '../../packages/store-postgres/src/test-kit.js';

/** Attempts of gate nodes, by `<runId> <nodeId>`: each waits until opened. */
export class Gates {
  readonly calls: { runId: string; nodeId: string; attempt: number; key: string; peer: string }[] = [];
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly open = new Set<string>();

  executor(peer: string): ExecutorDefinition<never> {
    const gates = this;
    const definition: ExecutorDefinition<JsonObject> = {
      type: 'gate',
      async run(ctx) {
        const key = `${ctx.runId} ${ctx.nodeId}`;
        gates.calls.push({ runId: ctx.runId, nodeId: ctx.nodeId, attempt: ctx.attempt, key: ctx.idempotencyKey, peer });
        if (!gates.open.has(key)) {
          await new Promise<void>((resolve, reject) => {
            const list = gates.waiting.get(key) ?? [];
            list.push(resolve);
            gates.waiting.set(key, list);
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
          });
        }
        return { output: { [ctx.nodeId]: peer } };
      },
    };
    return definition as unknown as ExecutorDefinition<never>;
  }

  /** Lets every attempt of this node of this run go, now and later. */
  release(runId: string, nodeId: string): void {
    const key = `${runId} ${nodeId}`;
    this.open.add(key);
    for (const resolve of this.waiting.get(key) ?? []) resolve();
    this.waiting.delete(key);
  }

  /** Attempts started so far of a node. */
  started(runId: string, nodeId: string): number {
    return this.calls.filter((c) => c.runId === runId && c.nodeId === nodeId).length;
  }
}

/** Log lines a peer wrote, as JSON objects. */
export type Lines = { msg: string; level: number; runId?: string }[];

export interface Peer {
  readonly name: string;
  readonly store: PostgresStore;
  readonly engine: Engine;
  readonly logger: Logger;
  readonly lines: Lines;
}

export const PRINCIPALS: PrincipalDirectory = { alice: { roles: ['lead'] }, bob: { roles: ['lead'] }, mallory: { roles: ['intern'] } };

/** An engine on its own store of the database: one peer. */
export async function peer(name: string, url: string, gates: Gates, storeOptions: PostgresStoreOptions = {}, engineOptions: EngineOptions = {}): Promise<Peer> {
  const lines: Lines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Lines[number]);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const store = await open(url, { peerId: name, logger, ...storeOptions });
  const engine = createEngine({ store, logger, principals: PRINCIPALS, executors: [...builtinExecutors, gates.executor(name)], ...engineOptions });
  store.attach(engine);
  return { name, store, engine, logger, lines };
}

/** Waits until `condition` holds (real time), or fails saying what did not happen. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
