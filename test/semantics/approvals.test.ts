/**
 * DESIGN §3.5 Human approval: the node waits and emits approval.requested; only holders of a
 * listed role decide; every role by default, `required` lowers that; one rejection fails the node;
 * the deadline fails it unless on_timeout approve; no self-approval for the initiator; decisions
 * recorded; decisions for nodes that are not waiting refused; principals configured or name-as-role.
 */
import { describe, expect, it } from 'vitest';
import { GantryError, type JsonObject, type JsonValue, type PrincipalDirectory, type RunEvent } from '@gantry/engine';
import { declare, eventsOf, expectInvariants, FINDING, finish, flow, harness, outputOf, probe, statuses, tick } from './harness.js';

const HOUR = 3_600_000;

const PRINCIPALS: PrincipalDirectory = {
  alice: { roles: ['tech-lead'] },
  bob: { roles: ['product-manager'] },
  carol: { roles: ['tech-lead', 'product-manager'] },
  dave: { roles: ['sre'] },
};

interface Step {
  /** Milliseconds after the run started at which the decision is given. @default 0 */
  readonly at?: number;
  readonly node?: string;
  readonly as: string;
  readonly decision?: 'approve' | 'reject';
  readonly comment?: string;
  readonly channel?: string;
  /** The error code the decision is refused with; absent: it is accepted. */
  readonly refused?: string;
  /** The node's status right after the decision. */
  readonly then?: string;
  /** Call engine.decide(runId, …) rather than run.decide(…). */
  readonly viaEngine?: boolean;
}

interface ApprovalRow {
  readonly name: string;
  /** The human_approval node's data. */
  readonly data: JsonObject;
  readonly principals?: PrincipalDirectory;
  readonly trigger?: JsonValue;
  /** Route a failed approval to an `escalate` node that keeps the run alive for a day (instead of `deploy`). */
  readonly errorRoute?: boolean;
  readonly steps: readonly Step[];
  readonly status: string;
  /** The approval node's final status, and its error code when it failed. */
  readonly node: 'succeeded' | 'failed';
  readonly code?: string;
  readonly check?: (ctx: { events: RunEvent[]; output: JsonObject | undefined; runId: string; t0: number; error: { code: string; message: string; details?: JsonValue } | undefined }) => void;
  readonly finding?: string;
}

function approvalFlow(data: JsonObject, errorRoute: boolean): object {
  const nodes = [probe('build', { out: { sha: 'abc' } }), { id: 'approve', type: 'human_approval', data }];
  const edges: object[] = [{ from: 'build', to: 'approve' }];
  if (errorRoute) {
    nodes.push(probe('escalate', { sleep_ms: 24 * HOUR }));
    edges.push({ from: 'approve', to: 'escalate', condition: 'error' });
  } else {
    nodes.push(probe('deploy'));
    edges.push({ from: 'approve', to: 'deploy' });
  }
  return flow(nodes, edges);
}

async function checkApproval(row: ApprovalRow): Promise<void> {
  const h = harness(row.principals === undefined ? {} : { principals: row.principals });
  const run = await h.start(approvalFlow(row.data, row.errorRoute ?? false), row.trigger === undefined ? {} : { trigger: row.trigger });
  const t0 = run.state().startedAt;
  await tick(h.clock);
  // The node waits, the run waits, and approval.requested names the approvers and the deadline.
  const deadline = t0 + Number(row.data.timeout) * 1000;
  expect(run.state().nodes.get('approve')?.status).toBe('waiting');
  expect(run.status()).toBe('waiting');
  expect(run.waitingApprovals()).toEqual([{ nodeId: 'approve', approvers: row.data.approvers, deadline }]);
  const requested = eventsOf(h.events, 'approval.requested', 'approve');
  expect(requested.map((e) => [e.approvers, e.deadline])).toEqual([[row.data.approvers, deadline]]);
  expect(eventsOf(h.events, 'run.waiting').at(-1)?.on).toEqual([{ nodeId: 'approve', kind: 'approval', until: deadline }]);

  for (const step of row.steps) {
    const target = t0 + (step.at ?? 0);
    if (target > h.clock.now()) await h.clock.advance(target - h.clock.now());
    const decision = {
      principal: step.as,
      decision: step.decision ?? 'approve',
      ...(step.comment === undefined ? {} : { comment: step.comment }),
      ...(step.channel === undefined ? {} : { channel: step.channel }),
    } as const;
    let refused: unknown;
    try {
      if (step.viaEngine) await h.engine.decide(run.id, step.node ?? 'approve', decision);
      else run.decide(step.node ?? 'approve', decision);
    } catch (error) {
      refused = error;
    }
    const what = `${step.as} ${decision.decision} ${step.node ?? 'approve'} at +${step.at ?? 0} ms`;
    if (step.refused === undefined) expect(refused, `${what} is accepted`).toBeUndefined();
    else {
      expect(refused, `${what} is refused`).toBeInstanceOf(GantryError);
      expect((refused as GantryError).code, `${what} is refused with`).toBe(step.refused);
    }
    await tick(h.clock);
    if (step.then !== undefined) expect(run.state().nodes.get('approve')?.status, `after ${what}`).toBe(step.then);
  }

  const result = await finish(h.clock, run);
  const events = h.events.filter((e) => e.runId === run.id);
  expect(result.status, JSON.stringify(result.error)).toBe(row.status);
  const node = run.state().nodes.get('approve');
  expect(node?.status).toBe(row.node);
  if (row.code !== undefined) expect(node?.error?.code).toBe(row.code);
  if (row.node === 'succeeded' && !row.errorRoute) expect(statuses(run).deploy).toBe('succeeded');
  if (row.node === 'failed') expect(statuses(run).deploy).not.toBe('succeeded');
  row.check?.({ events, output: outputOf(run, 'approve') as JsonObject | undefined, runId: run.id, t0, error: node?.error });
  expectInvariants({ run, result, events, journal: await h.engine.options.store.events(run.id) });
}

const TWO_ROLES = { approvers: ['tech-lead', 'product-manager'], timeout: 3600 };

const rows: ApprovalRow[] = [
  {
    name: 'with no principals configured, a principal’s name is its only role',
    data: { approvers: ['tech-lead'], timeout: 3600 },
    steps: [{ as: 'alice', refused: 'APPROVAL_FORBIDDEN', then: 'waiting' }, { as: 'tech-lead', at: 60_000, then: 'succeeded' }],
    status: 'succeeded',
    node: 'succeeded',
    check: ({ output, t0 }) => {
      expect(output).toMatchObject({ sha: 'abc', approved: true, timed_out: false });
      expect(output?.decisions).toEqual([{ principal: 'tech-lead', decision: 'approve', channel: 'api', at: new Date(t0 + 60_000).toISOString() }]);
    },
  },
  {
    name: 'with principals configured, only holders of a listed role may decide, and a bare role name is no principal',
    data: { approvers: ['tech-lead'], timeout: 3600 },
    principals: PRINCIPALS,
    steps: [
      { as: 'dave', refused: 'APPROVAL_FORBIDDEN' },
      { as: 'tech-lead', refused: 'APPROVAL_FORBIDDEN' },
      { as: 'mallory', refused: 'APPROVAL_FORBIDDEN', then: 'waiting' },
      { as: 'alice', then: 'succeeded' },
    ],
    status: 'succeeded',
    node: 'succeeded',
  },
  {
    name: 'by default every listed role must approve',
    data: TWO_ROLES,
    principals: PRINCIPALS,
    steps: [{ as: 'alice', then: 'waiting' }, { as: 'bob', at: 1_000, then: 'succeeded' }],
    status: 'succeeded',
    node: 'succeeded',
    check: ({ output }) => expect((output?.decisions as JsonObject[]).map((d) => d.principal)).toEqual(['alice', 'bob']),
  },
  {
    name: 'one principal holding two listed roles covers only one of them',
    data: TWO_ROLES,
    principals: PRINCIPALS,
    steps: [{ as: 'carol', then: 'waiting' }, { as: 'alice', then: 'succeeded' }],
    status: 'succeeded',
    node: 'succeeded',
  },
  {
    name: '`required` lowers how many roles must approve',
    data: { ...TWO_ROLES, required: 1 },
    principals: PRINCIPALS,
    steps: [{ as: 'bob', then: 'succeeded' }],
    status: 'succeeded',
    node: 'succeeded',
  },
  {
    name: 'one rejection fails the node with APPROVAL_REJECTED, even after an approval',
    data: TWO_ROLES,
    principals: PRINCIPALS,
    steps: [{ as: 'alice', then: 'waiting' }, { as: 'bob', decision: 'reject', comment: 'not on a Friday', then: 'failed' }],
    status: 'failed',
    node: 'failed',
    code: 'APPROVAL_REJECTED',
    check: ({ error }) => {
      expect(error?.message).toContain('not on a Friday');
      expect((error?.details as JsonObject).decisions).toMatchObject([
        { principal: 'alice', decision: 'approve' },
        { principal: 'bob', decision: 'reject', comment: 'not on a Friday' },
      ]);
    },
  },
  {
    name: 'at the deadline an undecided approval fails with APPROVAL_TIMEOUT',
    data: { approvers: ['tech-lead'], timeout: 3600 },
    steps: [],
    status: 'failed',
    node: 'failed',
    code: 'APPROVAL_TIMEOUT',
    check: ({ events }) => {
      const failed = eventsOf(events, 'node.failed', 'approve')[0]!;
      const requested = eventsOf(events, 'approval.requested', 'approve')[0]!;
      expect(failed.at - requested.at).toBe(HOUR);
      expect(eventsOf(events, 'timer.set', 'approve').map((e) => [e.purpose, e.fireAt])).toEqual([['approval', requested.deadline]]);
    },
  },
  {
    name: 'a partial approval at the deadline still fails with APPROVAL_TIMEOUT',
    data: TWO_ROLES,
    principals: PRINCIPALS,
    steps: [{ as: 'alice', at: HOUR - 1, then: 'waiting' }],
    status: 'failed',
    node: 'failed',
    code: 'APPROVAL_TIMEOUT',
  },
  {
    name: 'on_timeout approve: at the deadline the node succeeds, marked timed out',
    data: { approvers: ['tech-lead'], timeout: 60, on_timeout: 'approve' },
    steps: [],
    status: 'succeeded',
    node: 'succeeded',
    check: ({ output, events }) => {
      expect(output).toMatchObject({ approved: true, timed_out: true, decisions: [] });
      const succeeded = eventsOf(events, 'node.succeeded', 'approve')[0]!;
      expect(succeeded.at - eventsOf(events, 'run.started')[0]!.at).toBe(60_000);
    },
  },
  {
    name: 'the initiator (the trigger’s sender.login) may not approve',
    data: { ...TWO_ROLES, required: 1 },
    principals: PRINCIPALS,
    trigger: { sender: { login: 'alice' } },
    steps: [{ as: 'alice', refused: 'APPROVAL_FORBIDDEN', then: 'waiting' }, { as: 'bob', then: 'succeeded' }],
    status: 'succeeded',
    node: 'succeeded',
  },
  {
    name: 'a principal whose aliases name the initiator (its GitHub login) may not approve either',
    data: { ...TWO_ROLES, required: 1 },
    principals: { ...PRINCIPALS, alice: { roles: ['tech-lead'], aliases: ['alice-gh'] } },
    trigger: { sender: { login: 'alice-gh' } },
    steps: [{ as: 'alice', refused: 'APPROVAL_FORBIDDEN', then: 'waiting' }, { as: 'bob', then: 'succeeded' }],
    status: 'succeeded',
    node: 'succeeded',
  },
  {
    name: 'allow_self_approval lets the initiator approve',
    data: { approvers: ['tech-lead'], timeout: 3600, allow_self_approval: true },
    principals: PRINCIPALS,
    trigger: { sender: { login: 'alice' } },
    steps: [{ as: 'alice', then: 'succeeded' }],
    status: 'succeeded',
    node: 'succeeded',
  },
  {
    name: 'the initiator may still reject (only approving is forbidden)',
    data: { approvers: ['tech-lead'], timeout: 3600 },
    principals: PRINCIPALS,
    trigger: { sender: { login: 'alice' } },
    steps: [{ as: 'alice', decision: 'reject', comment: 'I broke it', then: 'failed' }],
    status: 'failed',
    node: 'failed',
    code: 'APPROVAL_REJECTED',
  },
  {
    name: 'a second decision by the same principal is refused with APPROVAL_ALREADY_DECIDED',
    data: TWO_ROLES,
    principals: PRINCIPALS,
    steps: [
      { as: 'alice', then: 'waiting' },
      { as: 'alice', refused: 'APPROVAL_ALREADY_DECIDED', then: 'waiting' },
      { as: 'alice', decision: 'reject', refused: 'APPROVAL_ALREADY_DECIDED', then: 'waiting' },
      { as: 'bob', then: 'succeeded' },
    ],
    status: 'succeeded',
    node: 'succeeded',
    check: ({ events }) => expect(eventsOf(events, 'approval.decided').map((e) => e.principal)).toEqual(['alice', 'bob']),
  },
  {
    name: 'a decision for a node that is not waiting is refused with APPROVAL_NOT_WAITING',
    data: { approvers: ['tech-lead'], timeout: 3600 },
    steps: [
      { node: 'build', as: 'tech-lead', refused: 'APPROVAL_NOT_WAITING' },
      { node: 'deploy', as: 'tech-lead', refused: 'APPROVAL_NOT_WAITING' },
      { node: 'deploy', as: 'tech-lead', viaEngine: true, refused: 'APPROVAL_NOT_WAITING' },
      { node: 'nope', as: 'tech-lead', refused: 'APPROVAL_NOT_WAITING' },
      { as: 'tech-lead', then: 'succeeded' },
      { as: 'tech-lead', at: 1, refused: 'APPROVAL_NOT_WAITING' },
    ],
    status: 'succeeded',
    node: 'succeeded',
  },
  {
    // DESIGN §3.5 says 409 after the deadline; issue [4/6] and the error table say 410 past the
    // deadline. Gantry answers APPROVAL_EXPIRED (410): it tells the approver why.
    name: 'a decision after the deadline is refused with APPROVAL_EXPIRED',
    data: { approvers: ['tech-lead'], timeout: 60 },
    errorRoute: true,
    steps: [{ as: 'tech-lead', at: 61_000, refused: 'APPROVAL_EXPIRED', then: 'failed' }],
    status: 'succeeded',
    node: 'failed',
    code: 'APPROVAL_TIMEOUT',
  },
  {
    name: 'every decision is recorded with who, when, the channel and the comment',
    data: TWO_ROLES,
    principals: PRINCIPALS,
    steps: [
      { as: 'alice', at: 5_000, comment: 'looks good', channel: 'cli' },
      { as: 'bob', at: 7_000, viaEngine: true },
    ],
    status: 'succeeded',
    node: 'succeeded',
    check: ({ events, t0 }) => {
      expect(eventsOf(events, 'approval.decided').map((e) => ({ principal: e.principal, decision: e.decision, at: e.at - t0, channel: e.channel, comment: e.comment }))).toEqual([
        { principal: 'alice', decision: 'approve', at: 5_000, channel: 'cli', comment: 'looks good' },
        { principal: 'bob', decision: 'approve', at: 7_000, channel: 'api', comment: undefined },
      ]);
    },
  },
];

describe('DESIGN §3.5 human approval', () => {
  for (const row of rows) declare(it, row.name, row.finding, () => checkApproval(row));
});
