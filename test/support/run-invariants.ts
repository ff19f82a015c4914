/**
 * The invariants of every run of a generated flow (STYLE §10), one checker per property of
 * test/engine.prop.test.ts. Each throws (vitest `expect`) with a message naming the node and the
 * journal position, so that fast-check's counterexample reads on its own.
 */
import { replay, type RunEvent } from '@gantry/engine';
import { expect } from 'vitest';
import type { Outcome } from './run-driver.js';
import type { BuiltFlow } from './run-flow-arbitraries.js';
import {
  errorOf,
  expectedFinalStatus,
  expectedInput,
  expectedLabels,
  expectedTaken,
  gatePasses,
  joinHolds,
  recordedTaken,
  scriptedOutcome,
  terminalOf,
  viewOf,
  whenHolds,
  type JournalView,
} from './run-oracle.js';

const FINAL = ['succeeded', 'failed', 'blocked', 'rolled_back', 'cancelled'];
const TERMINAL = ['succeeded', 'failed', 'skipped'];

/** A compact journal for failure messages: `#i type node[item] attempt`. */
export function describeJournal(events: readonly RunEvent[]): string {
  return events
    .map((e, i) => {
      const n = e as { nodeId?: string; item?: number; attempt?: number; reason?: string; status?: string; taken?: number[]; error?: { code: string } };
      const item = n.item === undefined ? '' : `[${n.item}]`;
      const extra = [n.reason, n.status, n.error?.code, n.taken ? `taken=${JSON.stringify(n.taken)}` : undefined].filter(Boolean).join(' ');
      return `#${i} @${e.at % 100_000} ${e.type}${n.nodeId ? ` ${n.nodeId}${item}` : ''}${n.attempt ? ` a${n.attempt}` : ''}${extra ? ` ${extra}` : ''}`;
    })
    .join('\n');
}

function finished(o: Outcome): void {
  expect(o.result, `the run never finished (status ${o.run.status()}):\n${describeJournal(o.events)}`).toBeDefined();
}

/** 8. No run hangs, and nothing escapes the engine. */
export function checkNoHang(o: Outcome): void {
  expect(o.escaped, 'errors thrown out of the engine').toEqual([]);
  finished(o);
}

/** 1. Every node ends terminal, with exactly one terminal event; the run ends in a final status. */
export function checkTerminal(flow: BuiltFlow, o: Outcome): void {
  finished(o);
  const view = viewOf(o.journal);
  for (const node of flow.nodes) {
    const status = o.run.state().nodes.get(node.id)?.status ?? 'pending';
    expect(TERMINAL, `node ${node.id} ends ${status}:\n${describeJournal(o.events)}`).toContain(status);
    const count = view.terminals.get(node.id)?.length ?? 0;
    expect(count, `terminal events of ${node.id}:\n${describeJournal(o.events)}`).toBe(1);
  }
  const ends = o.journal.filter((e) => e.type === 'run.finished');
  expect(ends.length, 'run.finished events').toBe(1);
  expect(FINAL).toContain(o.result!.status);
  expect(o.run.status()).toBe(o.result!.status);
  const last = o.journal.findIndex((e) => e.type === 'run.finished');
  const after = o.journal.slice(last + 1).filter((e) => e.type.startsWith('node.'));
  expect(after.map((e) => e.type), `node events after run.finished:\n${describeJournal(o.events)}`).toEqual([]);
}

/**
 * 2. No node.started (any attempt, any item) before every predecessor's terminal event, and no
 * executor call for a node before then either.
 */
export function checkStartOrder(flow: BuiltFlow, o: Outcome): void {
  const view = viewOf(o.journal);
  for (const call of o.calls) {
    if (call.compensation) continue;
    for (const edge of flow.incoming.get(call.nodeId)!) {
      const at = view.terminals.get(edge.from)?.[0]?.at;
      expect(at !== undefined && at < call.after, `the executor of ${call.nodeId} ran (after #${call.after - 1}) before its predecessor ${edge.from} was terminal:\n${describeJournal(o.events)}`).toBe(true);
    }
  }
  o.journal.forEach((e, i) => {
    if (e.type !== 'node.started') return;
    for (const edge of flow.incoming.get(e.nodeId)!) {
      const at = view.terminals.get(edge.from)?.[0]?.at;
      expect(at !== undefined && at < i, `#${i} node.started ${e.nodeId} before its predecessor ${edge.from} is terminal (#${at}):\n${describeJournal(o.events)}`).toBe(true);
    }
  });
}

/**
 * 3. A node skipped by its join or its `when` never runs (no node.started, no executor call);
 * no node's executor is called once the node is terminal (skipped because the run stopped
 * included); no skipped node takes an edge; a node skipped because the run stopped ("aborted")
 * is only seen in a run that ends failed, rolled back or cancelled.
 */
export function checkSkips(flow: BuiltFlow, o: Outcome): void {
  const view = viewOf(o.journal);
  const state = o.run.state();
  for (const call of o.calls) {
    const t = view.terminals.get(call.nodeId)?.[0];
    if (t === undefined || call.after <= t.at || call.compensation) continue;
    const what = `${call.nodeId}${call.item === undefined ? '' : `[${call.item}]`} attempt ${call.attempt}`;
    expect.fail(`the executor of ${what} ran after #${call.after - 1}, once the node was ${t.event.type} (#${t.at}):\n${describeJournal(o.events)}`);
  }
  for (const node of flow.nodes) {
    const t = terminalOf(view, node.id);
    if (t?.type !== 'node.skipped') continue;
    const where = `${node.id} (skipped: ${t.reason}):\n${describeJournal(o.events)}`;
    if (t.reason !== 'aborted') {
      const starts = o.journal.filter((e) => e.type === 'node.started' && e.nodeId === node.id);
      expect(starts.length, `node.started of skipped ${where}`).toBe(0);
      expect(o.calls.filter((c) => c.nodeId === node.id).length, `executor calls of skipped ${where}`).toBe(0);
    } else {
      expect(['failed', 'rolled_back', 'cancelled'], `a run with an aborted node ends ${o.result?.status}: ${where}`).toContain(o.result?.status);
    }
    expect(state.nodes.get(node.id)?.taken ?? [], `edges taken by skipped ${where}`).toEqual([]);
    for (const edge of flow.outgoing.get(node.id)!) expect(state.takenEdges.has(edge.index), `edge #${edge.index} out of skipped ${where}`).toBe(false);
  }
}

/** 4. The edges each terminal node took are those DESIGN §3.3 gives, and conditionals chose the labels it gives. */
export function checkEdges(flow: BuiltFlow, o: Outcome): void {
  const view = viewOf(o.journal);
  for (const node of flow.nodes) {
    const t = terminalOf(view, node.id);
    if (t === undefined) continue;
    const where = `${node.id} (${t.type}):\n${describeJournal(o.events)}`;
    if (t.type === 'node.succeeded') {
      const labels = expectedLabels(node, expectedInput(flow, view, node.id));
      if (labels !== undefined) expect([...(t.labels ?? [])].sort(), `labels of ${where}`).toEqual([...labels].sort());
    }
    expect([...recordedTaken(view, node.id)].sort((a, b) => a - b), `edges taken by ${where}`).toEqual(expectedTaken(flow, view, node.id));
  }
  const union = new Set(flow.nodes.flatMap((n) => recordedTaken(view, n.id)));
  expect([...o.run.state().takenEdges].sort((a, b) => a - b)).toEqual([...union].sort((a, b) => a - b));
}

/**
 * 5. Readiness (§3.2): a node runs iff its join holds (any: ≥1 incoming edge taken; all: every
 * one) and its `when` holds; a join skip means the join did not hold, a `when` skip that it did.
 */
export function checkReadiness(flow: BuiltFlow, o: Outcome): void {
  finished(o);
  const view = viewOf(o.journal);
  for (const node of flow.nodes) {
    const t = terminalOf(view, node.id);
    const aborted = t?.type === 'node.skipped' && t.reason === 'aborted';
    if (aborted && !view.starts.has(node.id)) continue; // the run stopped before it was decided
    const preds = flow.incoming.get(node.id)!.map((e) => e.from);
    if (preds.some((p) => terminalOf(view, p) === undefined)) continue; // checked by property 1
    const join = joinHolds(flow, view, node);
    const when = join && whenHolds(node, expectedInput(flow, view, node.id));
    const ran = view.starts.has(node.id);
    const where = `${node.id} (join ${node.spec.join ?? 'any'}, ${join ? 'join holds' : 'join fails'}, when ${JSON.stringify(node.spec.when)}):\n${describeJournal(o.events)}`;
    expect(ran, `whether ${where} ran`).toBe(join && when);
    if (t?.type === 'node.skipped' && !aborted) expect(t.reason, `skip reason of ${where}`).toBe(join ? 'when' : 'join');
  }
}

/** 6. The same flow, clock start and randomness give the same history. */
export function checkSameHistory(a: Outcome, b: Outcome): void {
  expect(b.events, `second run:\n${describeJournal(b.events)}\nfirst run:\n${describeJournal(a.events)}`).toEqual(a.events);
  expect(b.refusals).toEqual(a.refusals);
  expect(b.result).toEqual(a.result);
}

/** 7. The journal (as stored and as heard) rebuilds the live state: statuses, outputs, taken edges. */
export function checkReplay(flow: BuiltFlow, o: Outcome): void {
  expect(o.journal, 'the stored journal is what the listeners heard').toEqual(o.events);
  const live = o.run.state();
  const rebuilt = replay(o.run.id, o.journal);
  expect(rebuilt.status).toBe(live.status);
  for (const node of flow.nodes) {
    const a = live.nodes.get(node.id);
    const b = rebuilt.nodes.get(node.id);
    expect(b?.status, `replayed status of ${node.id}`).toBe(a?.status);
    expect(b?.output, `replayed output of ${node.id}`).toEqual(a?.output);
    expect(b?.taken, `replayed taken edges of ${node.id}`).toEqual(a?.taken);
  }
  expect(rebuilt.outputs).toEqual(live.outputs);
  // `$nodes` lists outputs in the order the nodes ended, whether it was first read mid-run (live,
  // by an expression) or after the end (rebuilt): a resumed run's expressions see the same object.
  const ended = o.journal.flatMap((e) => ((e.type === 'node.succeeded' || (e.type === 'node.failed' && (e.taken?.length ?? 0) > 0)) && e.item === undefined ? [e.nodeId] : []));
  expect(Object.keys(live.outputs)).toEqual(ended);
  expect(Object.keys(rebuilt.outputs)).toEqual(Object.keys(live.outputs));
  expect([...rebuilt.takenEdges].sort()).toEqual([...live.takenEdges].sort());
  expect(rebuilt.blocked).toBe(live.blocked);
  expect(rebuilt.output).toEqual(live.output);
}

/**
 * 10. Each node that ran ends as its script says (status, error code, attempts), and was given
 * the input §3.1 says; the run ends in the status §3.3/§3.4 give.
 */
export function checkOutcomes(flow: BuiltFlow, o: Outcome): void {
  finished(o);
  const view: JournalView = viewOf(o.journal);
  for (const node of flow.nodes) {
    const t = terminalOf(view, node.id);
    const starts = view.starts.get(node.id) ?? [];
    if (t === undefined || starts.length === 0 || (t.type === 'node.skipped' && t.reason === 'aborted')) continue;
    const where = `${node.id} (${node.spec.kind}):\n${describeJournal(o.events)}`;
    expect(starts[0]!.event.input, `input of ${where}`).toEqual(expectedInput(flow, view, node.id));
    const script = scriptedOutcome(flow, view, node);
    expect(t.type, `outcome of ${where}`).toBe(`node.${script.status}`);
    if (script.code !== undefined) expect(errorOf(t)?.code, `error of ${where}`).toBe(script.code);
    if (script.attempts !== undefined) expect(starts.length, `attempts of ${where}`).toBe(script.attempts);
    if (t.type === 'node.succeeded' && node.spec.kind === 'gate') {
      const blocks = node.spec.failAction === 'block_deployment' && !gatePasses(node, expectedInput(flow, view, node.id));
      expect(t.blocked === true, `blocked flag of ${where}`).toBe(blocks);
    }
  }
  const expected = o.cancelled ? 'cancelled' : expectedFinalStatus(flow, o.journal);
  expect(o.result!.status, `final status (error ${JSON.stringify(o.result!.error)}):\n${describeJournal(o.events)}`).toBe(expected);
}
