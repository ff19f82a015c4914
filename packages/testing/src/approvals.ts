import type { Engine, FakeClock, RunEvent } from '@gantry/engine';
import type { Observer } from './observe.js';
import type { Approval } from './test-file.js';
import type { Problem } from './world.js';

/**
 * Gives the test's decisions: each to the first request of its node for which its principal
 * has not decided yet, `after_seconds` after the request. A decision the engine refuses (a
 * principal without the role, the initiator) fails the test; one that would come after the
 * node has ended is moot and dropped.
 */
export function giveApprovals(engine: Engine, clock: FakeClock, observer: Observer, approvals: readonly Approval[], problems: Problem[]): void {
  const given = new Set<number>();
  const pending = new Map<string, (() => void)[]>();
  engine.on('approval.requested', (request) => {
    const principals = new Set<string>();
    const key = `${request.runId} ${request.nodeId}`;
    approvals.forEach((approval, i) => {
      if (given.has(i) || approval.node !== request.nodeId || principals.has(approval.principal)) return;
      given.add(i);
      principals.add(approval.principal);
      const cancel = clock.at(request.at + (approval.after_seconds ?? 0) * 1000, () => {
        const decision = { principal: approval.principal, decision: approval.decision, ...(approval.comment ? { comment: approval.comment } : {}), channel: 'test' };
        engine.decide(request.runId, request.nodeId, decision).catch((error: unknown) => {
          const what = `approvals[${i}] (${approval.principal} ${approval.decision}s ${approval.node})`;
          problems.push({ kind: 'refused', message: `${what} was refused: ${(error as Error).message}`, run: observer.pathOf(request.runId), node: request.nodeId });
        });
      });
      pending.set(key, [...(pending.get(key) ?? []), cancel]);
    });
  });
  const settle = (event: RunEvent) => {
    if (!('nodeId' in event) || event.nodeId === undefined || ('item' in event && event.item !== undefined)) return;
    const key = `${event.runId} ${event.nodeId}`;
    for (const cancel of pending.get(key) ?? []) cancel();
    pending.delete(key);
  };
  for (const type of ['node.succeeded', 'node.failed', 'node.skipped'] as const) engine.on(type, settle);
}
