/**
 * Property tests of the decision functions of packages/engine/src/run/next.ts over generated
 * flows (test/support/run-flow-arbitraries.ts) with random latencies, failures, retries,
 * approvals, concurrency limits and cancellations:
 *
 * 1. At every point of a live run's journal, the decisions next.ts derives from the journal
 *    alone (replayed, its frontier derived, what it owes) are the ones the live engine took
 *    next: no node started before its join allowed, every skip for the reason the join gives,
 *    and nothing the run did afterwards missing from what was owed.
 * 2. A run whose process dies after a random number of journal writes, resumed by a second
 *    process from the journal alone, ends with every node terminal, the edges and joins of
 *    DESIGN §3, every node in flight at the crash carried on, and every timer fired once.
 */
import fc from 'fast-check';
import { frontierOf, owed, readiness, replay, type CompiledFlow, type RunEvent, type RunState } from '@gantry/engine';
import { describe, expect, it } from 'vitest';
import { runFlow, runFlowWithCrash, runSetup } from './support/run-driver.js';
import { buildFlow, flowSpec, type BuiltFlow } from './support/run-flow-arbitraries.js';
import { checkEdges, checkNoHang, checkReadiness, checkReplay, checkSkips, checkStartOrder, checkTerminal, describeJournal } from './support/run-invariants.js';

const RUNS = Number(process.env.GANTRY_PROP_RUNS ?? 1_000);
const TIME_LIMIT = Number(process.env.GANTRY_PROP_MS ?? 2_500);
const options = { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT, markInterruptAsFailure: false };

const TERMINAL = new Set(['succeeded', 'failed', 'skipped']);
const isNodeDecision = (e: RunEvent): boolean => (e.type === 'node.started' || e.type === 'node.skipped') && e.item === undefined;

/** The state, frontier and debt of the run after the first `k` events of its journal. */
function after(flow: CompiledFlow, journal: readonly RunEvent[], k: number): { state: RunState; owes: ReturnType<typeof owed>; frontier: ReturnType<typeof frontierOf> } {
  const state = replay(journal[0]!.runId, journal.slice(0, k));
  const frontier = frontierOf(flow, state);
  return { state, frontier, owes: owed(flow, state, frontier) };
}

function checkDecisionsAlongJournal(built: BuiltFlow, flow: CompiledFlow, journal: readonly RunEvent[]): void {
  const where = (k: number) => `after #${k - 1}:\n${describeJournal(journal)}`;
  for (let k = 1; k <= journal.length; k++) {
    const { state, frontier, owes } = after(flow, journal, k);
    const event = journal[k];
    // What the live engine did next, against what the journal so far decides.
    if (event !== undefined && isNodeDecision(event) && state.nodes.get((event as { nodeId: string }).nodeId) === undefined) {
      const e = event as Extract<RunEvent, { type: 'node.started' | 'node.skipped' }>;
      const node = flow.nodes.get(e.nodeId)!;
      const ready = readiness(node, frontier);
      if (e.type === 'node.started') expect(ready, `#${k} node.started ${e.nodeId}: readiness ${where(k)}`).toBe('run');
      else if (e.reason === 'join') expect(ready, `#${k} join skip of ${e.nodeId}: readiness ${where(k)}`).toBe('skip');
      else if (e.reason === 'when') expect(ready, `#${k} when skip of ${e.nodeId}: readiness ${where(k)}`).toBe('run');
    }
    if (state.finishedAt !== undefined) {
      expect(owes.kind, `a finished run owes nothing ${where(k)}`).toBe('nothing');
      continue;
    }
    if (owes.kind === 'failure') {
      // A handler was ending the run: nothing new starts after this point.
      const later = journal.slice(k).filter((e) => e.type === 'node.started' && state.nodes.get(e.nodeId) === undefined);
      expect(later.map((e) => (e as { nodeId: string }).nodeId), `nodes started after an owed failure of ${owes.node.id} ${where(k)}`).toEqual([]);
      continue;
    }
    expect(owes.kind, `an unfinished run ${where(k)}`).toBe('carry-on');
    if (owes.kind !== 'carry-on') continue;
    const decidable = new Set(owes.decidable.map((n) => n.id));
    const inFlight = new Set(owes.inFlight.map((f) => f.node.id));
    for (const node of built.nodes) {
      const n = state.nodes.get(node.id);
      const predecessorsEnded = built.incoming.get(node.id)!.every((edge) => TERMINAL.has(state.nodes.get(edge.from)?.status ?? 'pending'));
      if (n === undefined) {
        // Undecided: owed exactly when all its predecessors have ended (and it is ready then).
        expect(decidable.has(node.id), `${node.id} owed a decision ${where(k)}`).toBe(predecessorsEnded);
        if (predecessorsEnded) expect(readiness(flow.nodes.get(node.id)!, frontier), `${node.id} decidable ${where(k)}`).not.toBe('wait');
      } else {
        expect(decidable.has(node.id), `${node.id} (${n.status}) is not undecided ${where(k)}`).toBe(false);
        expect(inFlight.has(node.id), `${node.id} (${n.status}) in flight ${where(k)}`).toBe(!TERMINAL.has(n.status));
      }
    }
  }
}

function checkCarriedOn(built: BuiltFlow, before: readonly RunEvent[], journal: readonly RunEvent[]): void {
  const where = `\nbefore the crash:\n${describeJournal(before)}\nin the end:\n${describeJournal(journal)}`;
  const state = replay(journal[0]!.runId, before);
  for (const node of built.nodes) {
    const n = state.nodes.get(node.id);
    if (n === undefined || TERMINAL.has(n.status)) continue;
    // A node in flight at the crash is carried on: it runs again, or the run's end stops it.
    const later = journal.slice(before.length).filter((e) => 'nodeId' in e && e.nodeId === node.id);
    expect(later.length, `${node.id} was ${n.status} at the crash and nothing happened to it after${where}`).toBeGreaterThan(0);
  }
  const fired = new Map<string, number>();
  for (const e of journal) if (e.type === 'timer.fired') fired.set(e.timerId, (fired.get(e.timerId) ?? 0) + 1);
  for (const [timerId, count] of fired) expect(count, `timer ${timerId} fired${where}`).toBe(1);
}

describe('decisions (next.ts) against the live engine', () => {
  it('1. at every point of a journal, the decisions derived from it are the ones the engine took', async () => {
    await fc.assert(
      fc.asyncProperty(flowSpec(), runSetup(), async (spec, setup) => {
        const built = buildFlow(spec);
        const o = await runFlow(built, setup);
        checkNoHang(o);
        checkDecisionsAlongJournal(built, o.run.flow, o.journal);
      }),
      options,
    );
  });

  it('2. a run whose process died after any write, resumed from its journal, ends as DESIGN §3 says', async () => {
    await fc.assert(
      fc.asyncProperty(flowSpec(), runSetup(), fc.integer({ min: 1, max: 12 }), async (spec, setup, commits) => {
        const built = buildFlow(spec);
        const o = await runFlowWithCrash(built, setup, commits);
        checkNoHang(o);
        checkTerminal(built, o);
        checkStartOrder(built, o);
        checkSkips(built, o);
        checkEdges(built, o);
        checkReadiness(built, o);
        checkReplay(built, o);
        if (o.crashed) checkCarriedOn(built, o.before, o.journal);
        checkDecisionsAlongJournal(built, o.run.flow, o.journal);
      }),
      options,
    );
  });
});
