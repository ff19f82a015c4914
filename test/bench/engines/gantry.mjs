// Gantry as the comparison runs it: in memory (a MemoryStore that forgets a run once it has
// finished, as the peers keep nothing of a finished run) or durable on a SQLite file, with the
// no-op executor and the built-in conditional for the gates.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSqliteStore } from '@gantry/store-sqlite';
import { noopExecutor } from '../graphs.mjs';

const NODE_TYPES = { nodeTypes: new Map([['noop', undefined]]) };

/**
 * The engine module: @gantry/engine, or another build of it (`entry`: its dist/index.js), to
 * compare an engine change against the build before it in the same run (run.mjs --before=…).
 */
async function engineModule(entry) {
  return entry === undefined ? import('@gantry/engine') : import(pathToFileURL(resolve(entry)).href);
}

/** The executors built beside that engine (`…/packages/executors/dist`), if there are: the gate is one of them. */
async function executorsModule(entry) {
  const beside = entry === undefined ? undefined : resolve(dirname(entry), '../../executors/dist/index.js');
  return beside !== undefined && existsSync(beside) ? import(pathToFileURL(beside).href) : import('@gantry/executors');
}

/** A store that counts its commits: one commit (the engine's batch), createRun or append is one transaction, one fsync of the WAL. */
function counting(store) {
  const counter = { commits: 0 };
  const wrapped = new Proxy(store, {
    get(target, key) {
      if (key === 'commit' || key === 'append' || key === 'createRun') {
        return (...args) => {
          counter.commits++;
          return target[key](...args);
        };
      }
      const value = target[key];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { wrapped, counter };
}

/**
 * @param {{ durable?: boolean, dir?: string, entry?: string, keepFinished?: number }} options
 *   durable: on SQLite in `dir`; keepFinished: finished runs the in-memory store keeps (their
 *   journals then outlive the run: see BENCHMARKS.md §3 for what that costs)
 */
export async function openGantry({ durable = false, dir, entry, keepFinished = 0 } = {}) {
  const { compileFlow, createEngine, MemoryStore } = await engineModule(entry);
  const { conditionalExecutor } = await executorsModule(entry);
  const sqlite = durable ? counting(openSqliteStore(join(dir, 'gantry.db'))) : undefined;
  const store = sqlite?.wrapped ?? new MemoryStore({ keepFinished });
  const engine = createEngine({ executors: [noopExecutor, conditionalExecutor], store });
  const runOnce = async (compiled) => {
    const run = await engine.start(compiled);
    const result = await run.finished;
    if (result.status !== 'succeeded') throw new Error(`Gantry run ended ${result.status}: ${JSON.stringify(result.error)}`);
    return run;
  };
  return {
    name: durable ? 'Gantry SQLite' : 'Gantry memory',
    prepare: (flow) => compileFlow(flow, NODE_TYPES),
    run: runOnce,
    async runMany(compiled, n) {
      await Promise.all(Array.from({ length: n }, () => runOnce(compiled)));
    },
    /** Commits so far (SQLite only). */
    commits: () => sqlite?.counter.commits,
    close() {
      store.close?.();
    },
  };
}
