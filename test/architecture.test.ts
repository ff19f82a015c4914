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

  it('the decisions (next.ts), the fold and the helpers of a run never reach the execution, even through another module', () => {
    const graph = importGraph(root('engine'));
    const reached = (from: string): Set<string> => {
      const seen = new Set<string>();
      const visit = (file: string): void => {
        for (const next of graph.get(file) ?? []) {
          if (seen.has(next)) continue;
          seen.add(next);
          visit(next);
        }
      };
      visit(from);
      return seen;
    };
    const pure = ['next.ts', 'state.ts', 'rules.ts', 'run-scope.ts', 'attempts.ts', 'approval-waits.ts', 'durable-sleep.ts', 'compensation.ts', 'context.ts'];
    for (const file of pure) expect([...reached(`run/${file}`)], `run/${file} reaches the execution`).not.toContain('run/execution.ts');
    // The check itself: the engine does reach it.
    expect(reached('run/engine.ts')).toContain('run/execution.ts');
  });
});
