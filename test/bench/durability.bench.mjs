// The cost of durability: Gantry on the SQLite store against the physical limit of a durable
// step, one fdatasync on this disk, measured in the same run.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFlow, createEngine, MemoryStore } from '@gantry/engine';
import { openSqliteStore } from '@gantry/store-sqlite';
import { chain, fanOutIn, noopExecutor } from './graphs.mjs';
import { fmt, table } from './harness.mjs';

const NOOP_TYPES = { nodeTypes: new Map([['noop', undefined]]) };

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds of one fdatasync of a small write, median of many. */
function fdatasyncMs(dir, times = 200) {
  const fd = openSync(join(dir, 'fsync-probe'), 'w');
  const samples = [];
  try {
    for (let i = 0; i < times; i++) {
      writeSync(fd, Buffer.from(`step ${i}\n`));
      const start = performance.now();
      fdatasyncSync(fd);
      samples.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
  }
  return median(samples);
}

/** A store that counts its commits (one commit, createRun or append = one transaction = one fsync of the log). */
function counting(store) {
  let appends = 0;
  return {
    wrapped: new Proxy(store, {
      get(target, key) {
        if (key === 'commit' || key === 'append' || key === 'createRun') return (...args) => (appends++, target[key](...args));
        const value = target[key];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
    get appends() {
      return appends;
    },
  };
}

/**
 * Milliseconds of each of `times` runs of the flow, one after the other on one engine: the first is
 * cold (the store's file, its log and the code all new), the others are what a running server pays.
 */
async function timedRuns(store, flow, times) {
  const engine = createEngine({ executors: [noopExecutor], store });
  const compiled = compileFlow(flow, NOOP_TYPES);
  const samples = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    const run = await engine.start(compiled);
    const result = await run.finished;
    if (result.status !== 'succeeded') throw new Error(`benchmark run ended ${result.status}`);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Fills a store with `count` finished runs in one transaction, as a long-lived installation has. */
function prefill(path, count) {
  const store = openSqliteStore(path);
  store.close();
  const require = createRequire(new URL('../../packages/store-sqlite/package.json', import.meta.url));
  const Database = require('better-sqlite3');
  const db = new Database(path);
  const insertRun = db.prepare('INSERT INTO runs (run_id, flow_name, flow_hash, flow_text, started_at, status, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertEvent = db.prepare('INSERT INTO events (run_id, seq, type, node_id, json) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = `old-${String(i).padStart(7, '0')}`;
      insertRun.run(id, 'history', 'h', '{}', i, 'succeeded', i + 1);
      insertEvent.run(id, 1, 'run.started', null, JSON.stringify({ type: 'run.started', runId: id, at: i }));
      insertEvent.run(id, 2, 'run.finished', null, JSON.stringify({ type: 'run.finished', runId: id, at: i + 1, status: 'succeeded' }));
    }
  })();
  db.close();
}

export async function durabilityBench({ histories = [1, 1_000, 100_000] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-bench-'));
  try {
    const fsync = fdatasyncMs(dir);
    const rows = [];
    const steps = 200;
    const times = 7;
    {
      const sqlite = counting(openSqliteStore(join(dir, 'chain.db')));
      const [cold, ...warm] = await timedRuns(sqlite.wrapped, chain(steps).flow, times);
      sqlite.wrapped.close();
      const perStep = (ms) => (ms * 1000) / steps;
      rows.push([`sequential step (chain of ${steps}, median of ${times - 1} runs)`, fmt(perStep(median(warm)), 0), fmt(median(warm) / steps / fsync, 2), fmt(sqlite.appends / times / steps, 2)]);
      rows.push([`  the first run (a new store, cold code)`, fmt(perStep(cold), 0), fmt(cold / steps / fsync, 2), '']);
    }
    {
      const sqlite = counting(openSqliteStore(join(dir, 'fan.db')));
      const [, ...warm] = await timedRuns(sqlite.wrapped, fanOutIn(1_002).flow, times);
      sqlite.wrapped.close();
      rows.push([`fan-out of 1,000 (per node, median of ${times - 1} runs)`, fmt((median(warm) * 1000) / 1_002, 0), fmt(median(warm) / 1_002 / fsync, 2), `${sqlite.appends / times} for 1,002 nodes`]);
    }
    const cost = table(['durable work', 'µs', 'in fsyncs', 'commits per node'], rows);

    const flow = chain(10).flow;
    const throughput = [];
    const memory = await runsPerSecond(() => new MemoryStore({ keepFinished: 16 }), flow);
    throughput.push(['in memory (no store)', Math.round(memory), '']);
    for (const history of histories) {
      const path = join(dir, `history-${history}.db`);
      prefill(path, history);
      const store = openSqliteStore(path);
      const perSecond = await runsPerSecond(() => store, flow, 300);
      store.close();
      throughput.push([`SQLite, ${history.toLocaleString('en')} runs stored`, Math.round(perSecond), fmt(1000 / perSecond / fsync, 1)]);
    }
    return {
      fsync: `one fdatasync on this disk: ${fmt(fsync * 1000, 0)} µs (median of 200)`,
      cost,
      throughput: table(['10-node chain, one run at a time', 'runs/s', 'fsyncs per run'], throughput),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runsPerSecond(storeOf, flow, runs = 2_000) {
  const engine = createEngine({ executors: [noopExecutor], store: storeOf() });
  const compiled = compileFlow(flow, NOOP_TYPES);
  for (let i = 0; i < 20; i++) await (await engine.start(compiled)).finished;
  const start = performance.now();
  for (let i = 0; i < runs; i++) await (await engine.start(compiled)).finished;
  return (runs * 1000) / (performance.now() - start);
}
