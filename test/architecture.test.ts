/**
 * The shape of the code, checked: the engine's modules import one another without cycles, so
 * that a helper (attempts, approvals, timers, compensation) depends on the narrow RunScope it is
 * given, never on the execution that drives it, and the decisions of next.ts depend on neither.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from './support/import-graph.js';

const root = (pkg: string) => join(import.meta.dirname, '..', 'packages', pkg, 'src');

describe('architecture', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(importCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('the engine has no import cycle', () => {
    expect(importCycles(importGraph(root('engine')))).toEqual([]);
  });

  it('the decisions (next.ts) and the helpers of a run never import the execution', () => {
    const graph = importGraph(root('engine'));
    const importers = [...graph].filter(([, imports]) => imports.includes('run/execution.ts')).map(([file]) => file);
    expect(importers.sort()).toEqual(['index.ts', 'run/engine.ts', 'run/run-handle.ts']);
  });
});
