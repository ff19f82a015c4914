// The SQLite run store on its own, against the physical limit of a durable write: one fdatasync
// on this disk, measured in the same run. Run alone with `node test/bench/sqlite.bench.mjs`
// after `npx tsc -b`.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSqliteStore } from '@gantry/store-sqlite';
import { fmt, table } from './harness.mjs';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds of one fdatasync after a small appended write, median of `times`. */
function fdatasyncMs(dir, times) {
  const fd = openSync(join(dir, 'fdatasync-probe'), 'w');
  const samples = [];
  try {
    for (let i = 0; i < times; i++) {
      writeSync(fd, Buffer.from(`{"type":"node.succeeded","seq":${i}}\n`));
      const start = performance.now();
      fdatasyncSync(fd);
      samples.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
  }
  return median(samples);
}

/** node.started + node.succeeded of node `id`: what a sequential step appends in one tick. */
function step(runId, id, at) {
  return [
    { type: 'node.started', runId, at, nodeId: id, attempt: 1, input: { build: 'b-1042' } },
    { type: 'node.succeeded', runId, at: at + 1, nodeId: id, attempt: 1, output: { ok: true, artifact: `${id}.tar.gz` }, taken: [0] },
  ];
}

/**
 * Median milliseconds of one append of `makeBatch(i)` on a fresh database file (one run, new
 * node ids per batch so that the completion constraint never refuses one).
 */
function appendMs(dir, name, makeBatch, samples, warmup) {
  const store = openSqliteStore(join(dir, `${name}.db`));
  try {
    store.createRun({ runId: 'bench', flowName: 'bench', flowHash: 'h', flowText: '{}', startedAt: 0, status: 'running' });
    const times = [];
    for (let i = 0; i < warmup + samples; i++) {
      const batch = makeBatch(i);
      const start = performance.now();
      store.append(batch);
      const ms = performance.now() - start;
      if (i >= warmup) times.push(ms);
    }
    return median(times);
  } finally {
    store.close();
  }
}

/**
 * One fdatasync, one 2-event append (a sequential step) and one 1,000-event append, each as a
 * ratio to the fdatasync. Returns the figures and a table.
 */
export async function sqliteBench({ fsyncs = 200, steps = 200, bigBatches = 30 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-sqlite-bench-'));
  try {
    const fsync = fdatasyncMs(dir, fsyncs);
    const stepMs = appendMs(dir, 'step', (i) => step('bench', `n${i}`, i * 2), steps, 10);
    const bigMs = appendMs(dir, 'batch', (i) => Array.from({ length: 500 }, (_, k) => step('bench', `b${i}-${k}`, k * 2)).flat(), bigBatches, 3);
    const figures = { fdatasyncMs: fsync, stepAppendMs: stepMs, batchAppendMs: bigMs };
    const rows = [
      [`one fdatasync (median of ${fsyncs})`, fmt(fsync * 1000, 0), '1.00', ''],
      [`append 2 events: one sequential step (median of ${steps})`, fmt(stepMs * 1000, 0), fmt(stepMs / fsync, 2), fmt((stepMs * 1000) / 2, 1)],
      [`append 1,000 events in one batch (median of ${bigBatches})`, fmt(bigMs * 1000, 0), fmt(bigMs / fsync, 2), fmt(bigMs, 2)],
    ];
    return { figures, table: table(['SQLite store, fresh file, WAL + synchronous=FULL', 'µs', 'in fdatasyncs', 'µs per event'], rows) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table: text } = await sqliteBench();
  console.log(text);
}
