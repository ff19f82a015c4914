/**
 * What `append` acknowledged survives the process: a child appends and kills itself with SIGKILL
 * the moment append returns (no exit handler, no close, no checkpoint), and a new process finds
 * every event. A process kill leaves the kernel's page cache alone, so this proves that nothing
 * waits in the process; that the sync reaches the disk is SQLite's part (synchronous=FULL).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@gantry/engine';
import { openSqliteStore } from './open.js';
import { runChild, tempDir } from './test-kit.js';

/** Appends `count` node pairs to run `runId` (created if `create`), prints `appended`, then dies. */
const APPEND_AND_DIE = `
const [file, runId, create, from, count] = args;
const store = openSqliteStore(file);
if (create === 'yes') store.createRun({ runId, flowName: 'f', flowHash: 'h', flowText: '{}', startedAt: 1, status: 'running' });
for (let i = Number(from); i < Number(from) + Number(count); i++) {
  store.append([
    { type: 'node.started', runId, at: i, nodeId: 'n' + i, attempt: 1 },
    { type: 'node.succeeded', runId, at: i, nodeId: 'n' + i, attempt: 1, output: { i } },
  ]);
}
out({ appended: true });
process.kill(process.pid, 'SIGKILL');`;

function nodeIds(events: readonly RunEvent[]): string[] {
  return events.filter((e) => e.type === 'node.succeeded').map((e) => (e as { nodeId: string }).nodeId);
}

describe('durability', () => {
  it('keeps every event appended before a SIGKILL, across several killed writers', async () => {
    const file = join(tempDir(), '.gantry', 'gantry.db');
    const first = await runChild(APPEND_AND_DIE, [file, 'r1', 'yes', '0', '5']);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(first.stdout).toBe('{"appended":true}\n');
    // Killed before any checkpoint: the events are in the write-ahead log, and the lock is stale.
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8'))).toMatchObject({ pid: first.pid });

    // A reader needs no lock and sees the log's commits.
    const reader = openSqliteStore(file, { mode: 'read' });
    expect(nodeIds(reader.events('r1'))).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    reader.close();

    // The next writers take the dead writer's lock over and continue the journal.
    const second = await runChild(APPEND_AND_DIE, [file, 'r1', 'no', '5', '3']);
    expect(second.signal, second.stderr).toBe('SIGKILL');
    const third = await runChild(APPEND_AND_DIE, [file, 'r1', 'no', '8', '1']);
    expect(third.signal, third.stderr).toBe('SIGKILL');

    const store = openSqliteStore(file);
    const events = store.events('r1');
    expect(nodeIds(events)).toEqual(Array.from({ length: 9 }, (_, i) => `n${i}`));
    expect(events).toHaveLength(18);
    expect(events[17]).toEqual({ type: 'node.succeeded', runId: 'r1', at: 8, nodeId: 'n8', attempt: 1, output: { i: 8 } });
    // The completion table survived with the journal: a node completed before the crash stays completed.
    expect(() => store.append([{ type: 'node.succeeded', runId: 'r1', at: 9, nodeId: 'n3', attempt: 1, output: {} }])).toThrow(
      expect.objectContaining({ code: 'STORE_CONFLICT' }),
    );
    store.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
