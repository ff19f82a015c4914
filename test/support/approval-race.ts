/**
 * The race between a human decision and the approval's deadline (DESIGN §3.5), driven by
 * fc.scheduler: the decision and the fake clock's steps past the deadline are released in an
 * order fast-check chooses, the decision possibly landing in the middle of a clock step.
 */
import fc from 'fast-check';
import { createEngine, FakeClock, GantryError, type RunEvent } from '@gantry/engine';
import { builtinExecutors } from '@gantry/executors';
import { expect } from 'vitest';
import { finishedOrUndefined, probeExecutor } from './run-driver.js';
import { APPROVER } from './run-flow-arbitraries.js';
import { describeJournal } from './run-invariants.js';

export interface RaceSpec {
  /** The approval's timeout, seconds. */
  readonly timeout: number;
  readonly decision: 'approve' | 'reject';
  readonly onTimeout: 'approve' | 'fail' | undefined;
  /** Clock steps (ms) released in sequence; a last step always passes the deadline. */
  readonly steps: readonly number[];
}

export const raceSpec: fc.Arbitrary<RaceSpec> = fc.record({
  timeout: fc.integer({ min: 1, max: 3 }),
  decision: fc.constantFrom<'approve' | 'reject'>('approve', 'reject'),
  onTimeout: fc.constantFrom<'approve' | 'fail' | undefined>(undefined, 'approve', 'fail'),
  // Steps that land just before, on and just after a whole-second deadline are the interesting ones.
  steps: fc.array(fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.constantFrom(999, 1_000, 1_001, 1_999, 2_000, 2_001, 2_999, 3_000)), { maxLength: 4 }),
});

const doc = (r: RaceSpec) => ({
  name: 'approval-race',
  nodes: [
    { id: 'approve', type: 'human_approval', data: { approvers: [APPROVER], timeout: r.timeout, ...(r.onTimeout ? { on_timeout: r.onTimeout } : {}) } },
    { id: 'deploy', type: 'probe', data: { delay_ms: 0, fail_times: 0, retryable: false, ok: true, score: 100 } },
  ],
  edges: [{ from: 'approve', to: 'deploy' }],
});

const codeOf = (error: unknown): string => (error instanceof GantryError ? error.code : `not a GantryError: ${String(error)}`);

/**
 * 9. Exactly one outcome: the decision is accepted iff it came before the deadline, else the
 * deadline acts and the decision is refused with APPROVAL_EXPIRED or APPROVAL_NOT_WAITING; the
 * journal holds one terminal event for the node, and either the decision or the deadline's timer;
 * a decision once the run is over is refused too.
 */
export async function checkApprovalRace(s: fc.Scheduler, r: RaceSpec): Promise<void> {
  const clock = new FakeClock();
  const engine = createEngine({ executors: [...builtinExecutors, probeExecutor], clock, random: () => 0.5 });
  const events: RunEvent[] = [];
  engine.on('event', (e) => events.push(e));
  const run = await engine.start(doc(r), { runId: 'race', trigger: {} });
  const deadline = clock.now() + r.timeout * 1000;
  expect(run.waitingApprovals().map((w) => w.deadline)).toEqual([deadline]);

  let decidedAt: number | undefined;
  let refusal: string | undefined;
  const decided = s.schedule(Promise.resolve(), `decide ${r.decision}`).then(() => {
    decidedAt = clock.now();
    try {
      run.decide('approve', { principal: APPROVER, decision: r.decision });
    } catch (error) {
      refusal = codeOf(error);
    }
  });
  const steps = s.scheduleSequence([
    ...r.steps.map((ms) => ({ label: `advance ${ms} ms`, builder: () => clock.advance(ms) })),
    { label: 'advance past the deadline', builder: () => clock.advance(Math.max(1, deadline + 1 - clock.now())) },
  ]);
  await s.waitFor(Promise.all([decided, steps.task]));
  await clock.runAll();
  const result = await finishedOrUndefined(run, clock);
  let late: string | undefined;
  try {
    run.decide('approve', { principal: APPROVER, decision: 'approve' });
  } catch (error) {
    late = codeOf(error);
  }

  const journal = describeJournal(events);
  const about = (type: string) => events.filter((e) => e.type === type && 'nodeId' in e && e.nodeId === 'approve');
  const decisions = about('approval.decided');
  const expiries = about('timer.fired').filter((e) => (e as { timerId: string }).timerId.includes('approval'));
  const terminals = [...about('node.succeeded'), ...about('node.failed'), ...about('node.skipped')];
  const where = `decided at ${decidedAt! - (deadline - r.timeout * 1000)} ms of a ${r.timeout} s deadline (refusal ${refusal}):\n${journal}`;

  expect(result, `the run finished: ${where}`).toBeDefined();
  expect(decisions.length + expiries.length, `one decision xor one expiry: ${where}`).toBe(1);
  expect(terminals.length, `terminal events of the approval: ${where}`).toBe(1);
  const accepted = refusal === undefined;
  expect(accepted, `accepted iff before the deadline: ${where}`).toBe(decidedAt! < deadline);
  expect(decisions.length === 1, `the journal has the decision iff it was accepted: ${where}`).toBe(accepted);
  if (!accepted) expect(['APPROVAL_EXPIRED', 'APPROVAL_NOT_WAITING'], where).toContain(refusal);
  expect(['APPROVAL_EXPIRED', 'APPROVAL_NOT_WAITING'], `a decision after the run: ${where}`).toContain(late);

  const node = run.state().nodes.get('approve')!;
  const output = node.output as { approved?: boolean; timed_out?: boolean } | undefined;
  if (accepted && r.decision === 'approve') {
    expect(node.status, where).toBe('succeeded');
    expect(output?.timed_out, where).toBe(false);
  } else if (accepted) {
    expect([node.status, node.error?.code], where).toEqual(['failed', 'APPROVAL_REJECTED']);
  } else if (r.onTimeout === 'approve') {
    expect([node.status, output?.timed_out], where).toEqual(['succeeded', true]);
  } else {
    expect([node.status, node.error?.code], where).toEqual(['failed', 'APPROVAL_TIMEOUT']);
  }
  expect(result?.status, where).toBe(node.status === 'succeeded' ? 'succeeded' : 'failed');
}
