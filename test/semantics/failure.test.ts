/**
 * DESIGN §3.4 Failure, error handlers, rollback: error edges as catch routes; the handler of the
 * node's stage (else `*`): block_deployment, rollback (compensations in reverse completion order,
 * then the failed node's own; a failing compensation ends the run failed), notification and
 * escalation; no handler: the run fails and running siblings are aborted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GantryError, type JsonObject } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { checkRow, eventsOf, FINDING, flow, offset, probe, table, type Row } from './harness.js';

/** An agent whose every task records [task, inputs] and succeeds (or fails, for the tasks listed). */
function recordingAgent(log: [string, JsonObject][], failing: string[] = []) {
  return moduleAgent(async (inputs, task) => {
    log.push([task.task, inputs]);
    if (failing.includes(task.task)) return { status: 'failed', error: { message: `${task.task} broke` } };
    return { undone: task.task };
  });
}

const undo = (task: string) => ({ agent: 'ops', task });
const COMPENSATION = ['compensation.started', 'compensation.succeeded', 'compensation.failed'];

function rollbackRows(): Row[] {
  const linear: [string, JsonObject][] = [];
  const parallel: [string, JsonObject][] = [];
  const registered: [string, JsonObject][] = [];
  const failing: [string, JsonObject][] = [];
  const sparse: [string, JsonObject][] = [];
  return [
    {
      name: 'rollback runs the compensations in reverse order of completion, then the failed node’s own; the run ends rolled_back',
      flow: flow(
        [probe('s1', { out: { s1: 'made' } }, { compensate: undo('undo_s1') }), probe('s2', { out: { s2: 'made' } }, { compensate: undo('undo_s2') }), probe('s3', { fail: {} }, { compensate: undo('undo_s3') })],
        [{ from: 's1', to: 's2' }, { from: 's2', to: 's3' }],
        { error_handlers: [{ stage: 's3', action: 'rollback' }] },
      ),
      harness: { agents: { ops: recordingAgent(linear) } },
      status: 'rolled_back',
      nodes: { s1: 'succeeded', s2: 'succeeded', s3: 'failed' },
      trace: {
        types: [...COMPENSATION, 'run.finished'],
        expected: [
          'compensation.started s2',
          'compensation.succeeded s2',
          'compensation.started s1',
          'compensation.succeeded s1',
          'compensation.started s3',
          'compensation.succeeded s3',
          'run.finished',
        ],
      },
      check: ({ result }) => {
        expect(linear.map(([task]) => task)).toEqual(['undo_s2', 'undo_s1', 'undo_s3']);
        // A compensation sees what its node was given and what it produced.
        expect(linear[0]![1]).toEqual({ s1: 'made', s2: 'made' });
        expect(result.error).toMatchObject({ code: 'AGENT_FAILED', nodeId: 's3' });
      },
    },
    {
      name: 'rollback follows completion order, not the order of the node list',
      flow: flow(
        [
          probe('p1', { sleep_ms: 3_000 }, { compensate: undo('undo_p1') }),
          probe('p2', { sleep_ms: 1_000 }, { compensate: undo('undo_p2') }),
          probe('p3', {}, { compensate: undo('undo_p3') }),
          probe('f', { fail: {} }, { join: 'all', compensate: undo('undo_f') }),
        ],
        [{ from: 'p1', to: 'f' }, { from: 'p2', to: 'f' }, { from: 'p3', to: 'f' }],
        { error_handlers: [{ stage: '*', action: 'rollback' }] },
      ),
      harness: { agents: { ops: recordingAgent(parallel) } },
      status: 'rolled_back',
      check: () => expect(parallel.map(([task]) => task)).toEqual(['undo_p1', 'undo_p2', 'undo_p3', 'undo_f']),
    },
    {
      name: "without `compensate`, an agent node is undone by the compensating task its agent's registration declares",
      flow: flow(
        [{ id: 'deploy', type: 'agent', data: { agent: 'deployer', task: 'deploy', inputs: { version: '1.2' } } }, probe('verify', { fail: {} })],
        [{ from: 'deploy', to: 'verify' }],
        { error_handlers: [{ stage: 'verify', action: 'rollback' }] },
      ),
      harness: {
        agents: {
          deployer: {
            transport: moduleAgent({
              deploy: () => ({ deployment_id: 'd-1' }),
              undeploy: (inputs) => {
                registered.push(['undeploy', inputs]);
                return {};
              },
            }),
            compensations: { deploy: 'undeploy' },
          },
        },
      },
      status: 'rolled_back',
      check: () => expect(registered).toEqual([['undeploy', { deployment_id: 'd-1' }]]),
    },
    {
      name: 'a compensation that fails ends the run failed, and every other compensation is still tried',
      flow: flow(
        [probe('s1', {}, { compensate: undo('undo_s1') }), probe('s2', {}, { compensate: undo('undo_s2') }), probe('s3', { fail: {} })],
        [{ from: 's1', to: 's2' }, { from: 's2', to: 's3' }],
        { error_handlers: [{ stage: 's3', action: 'rollback' }] },
      ),
      harness: { agents: { ops: recordingAgent(failing, ['undo_s2']) } },
      status: 'failed',
      trace: {
        types: COMPENSATION,
        expected: ['compensation.started s2', 'compensation.failed s2', 'compensation.started s1', 'compensation.succeeded s1'],
      },
      check: ({ run }) => {
        expect(failing.map(([task]) => task)).toEqual(['undo_s2', 'undo_s1']);
        expect(run.state().nodes.get('s2')?.compensation).toBe('failed');
      },
    },
    {
      name: 'rollback passes over nodes with no compensation, nodes that were skipped and siblings it aborted',
      flow: flow(
        [
          probe('s1', {}, { compensate: undo('undo_s1') }),
          probe('plain'),
          probe('skipped', {}, { when: '{% false %}', compensate: undo('undo_skipped') }),
          probe('running', { hang: true }, { compensate: undo('undo_running') }),
          probe('f', { fail: {} }, { join: 'all' }),
        ],
        [{ from: 's1', to: 'plain' }, { from: 'plain', to: 'f' }, { from: 's1', to: 'skipped' }, { from: 's1', to: 'running' }],
        { error_handlers: [{ stage: 'f', action: 'rollback' }] },
      ),
      harness: { agents: { ops: recordingAgent(sparse) } },
      status: 'rolled_back',
      nodes: { s1: 'succeeded', plain: 'succeeded', skipped: 'skipped', running: 'skipped', f: 'failed' },
      check: (_, h) => {
        expect(sparse.map(([task]) => task)).toEqual(['undo_s1']);
        expect(h.calls.find((c) => c.nodeId === 'running')?.signal.aborted).toBe(true);
      },
    },
    {
      name: 'a compensation can be any node body: a function node',
      flow: flow([probe('s1', { out: { ticket: 'T-1' } }, { compensate: { type: 'function', data: { function: 'close_ticket', reason: 'rollback' } } }), probe('f', { fail: {} })], [{ from: 's1', to: 'f' }], {
        error_handlers: [{ stage: 'f', action: 'rollback' }],
      }),
      harness: {
        functions: {
          close_ticket: (input, params) => {
            if (input.ticket !== 'T-1' || params.reason !== 'rollback') throw new Error(`unexpected ${JSON.stringify({ input, params })}`);
            return { closed: true };
          },
        },
      },
      status: 'rolled_back',
      trace: { types: COMPENSATION, expected: ['compensation.started s1', 'compensation.succeeded s1'] },
    },
  ];
}

const handlerRows: Row[] = [
  {
    name: 'an error edge is a catch route: the run goes on there and ends succeeded; no handler acts',
    flow: flow([probe('a', { fail: {} }, { compensate: undo('undo_a') }), probe('recover', { out: { recovered: true } }), probe('after')], [{ from: 'a', to: 'recover', condition: 'error' }, { from: 'recover', to: 'after' }], {
      error_handlers: [{ stage: 'a', action: 'rollback', notification: true }],
    }),
    harness: { agents: { ops: recordingAgent([]) } },
    status: 'succeeded',
    nodes: { a: 'failed', recover: 'succeeded', after: 'succeeded' },
    inputs: { after: { recovered: true } },
    check: ({ events }, h) => {
      expect(h.notes).toEqual([]);
      expect(eventsOf(events, 'compensation.started')).toEqual([]);
    },
  },
  {
    name: 'block_deployment: the failed node blocks the run, which ends blocked once the running branch has finished',
    flow: flow([probe('a', { fail: {} }), probe('b', { sleep_ms: 10_000 })], [], { error_handlers: [{ stage: 'a', action: 'block_deployment' }] }),
    status: 'blocked',
    nodes: { a: 'failed', b: 'succeeded' },
    check: ({ events }) => expect(offset(events, 'node.succeeded', 'b')).toBe(10_000),
  },
  {
    name: 'notification: true sends one normal-severity notification through the notifier',
    flow: flow([probe('a', { fail: {} })], [], { error_handlers: [{ stage: 'a', notification: true }] }),
    status: 'failed',
    check: ({ run }, h) => {
      expect(h.notes).toHaveLength(1);
      expect(h.notes[0]).toMatchObject({ runId: run.id, flow: run.flow.name, severity: 'normal', nodeId: 'a' });
      expect(h.notes[0]!.message).toContain('a failed on attempt 1');
    },
  },
  {
    name: 'escalation: immediate sends a high-severity notification, with the handler’s message',
    flow: flow([probe('a', { fail: {} })], [], { error_handlers: [{ stage: 'a', action: 'block_deployment', escalation: 'immediate', message: 'deploy blocked, page the lead' }] }),
    status: 'blocked',
    check: (_, h) => expect(h.notes.map((n) => [n.severity, n.message, n.nodeId])).toEqual([['high', 'deploy blocked, page the lead', 'a']]),
  },
  {
    name: 'the `*` handler acts for nodes without their own, and a node’s own handler wins',
    flow: flow([probe('a', { fail: {} }), probe('b', { fail: {} }, { when: '{% $params.b %}' })], [], {
      params: { b: { type: 'boolean', default: false } },
      error_handlers: [
        { stage: '*', action: 'block_deployment', notification: true, message: 'star' },
        { stage: 'b', action: 'fail', escalation: 'immediate', message: 'own' },
      ],
    }),
    status: 'blocked',
    check: (_, h) => expect(h.notes.map((n) => [n.message, n.severity])).toEqual([['star', 'normal']]),
  },
  {
    name: 'a node’s own handler acts instead of `*`',
    flow: flow([probe('a', { fail: {} }, { when: '{% $params.a %}' }), probe('b', { fail: {} })], [], {
      params: { a: { type: 'boolean', default: false } },
      error_handlers: [
        { stage: '*', action: 'block_deployment', notification: true, message: 'star' },
        { stage: 'b', action: 'fail', escalation: 'immediate', message: 'own' },
      ],
    }),
    status: 'failed',
    check: (_, h) => expect(h.notes.map((n) => [n.message, n.severity])).toEqual([['own', 'high']]),
  },
  {
    name: 'no handler: the run ends failed, and running siblings are aborted and end terminal',
    flow: flow([probe('a', { sleep_ms: 1_000, fail: {} }), probe('sibling', { hang: true }), probe('later')], [{ from: 'sibling', to: 'later' }]),
    status: 'failed',
    nodes: { a: 'failed', sibling: 'skipped', later: 'skipped' },
    check: ({ run, result, events }, h) => {
      const sibling = h.calls.find((c) => c.nodeId === 'sibling')!;
      expect(sibling.signal.aborted).toBe(true);
      expect((sibling.signal.reason as GantryError).code).toBe('CANCELLED');
      expect(run.state().nodes.get('sibling')?.skipReason).toBe('aborted');
      expect(result.error).toMatchObject({ code: 'AGENT_FAILED', nodeId: 'a' });
      expect(offset(events, 'node.failed', 'a')).toBe(1_000);
    },
  },
  {
    name: 'a notification is recorded in the journal before the run finishes (an asynchronous notifier)',
    flow: flow([probe('a', { fail: {} })], [], { error_handlers: [{ stage: 'a', notification: true }] }),
    harness: {
      notifier: async () => {
        // A notifier that does I/O: Slack, a webhook.
        await new Promise((resolve) => setImmediate(resolve));
      },
    },
    status: 'failed',
    trace: { types: ['node.failed', 'notification.sent', 'run.finished'], expected: ['node.failed a', 'notification.sent a', 'run.finished'] },
  },
];

describe('DESIGN §3.4 error handlers', () => {
  table(handlerRows, it);
});

describe('DESIGN §3.4 rollback', () => {
  table(rollbackRows(), it);
});

describe('DESIGN §3.4 a failed sub-flow runs its own handlers before its parent’s act', () => {
  it('the child rolls back, then the parent node fails with SUBFLOW_FAILED and the parent handler notifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-semantics-'));
    const child = join(dir, 'child.json');
    writeFileSync(
      child,
      JSON.stringify({
        name: 'child',
        nodes: [
          { id: 'c1', type: 'agent', data: { agent: 'ops', task: 'make' }, compensate: { agent: 'ops', task: 'unmake' } },
          { id: 'c2', type: 'agent', data: { agent: 'ops', task: 'explode' } },
        ],
        edges: [{ from: 'c1', to: 'c2' }],
        error_handlers: [{ stage: 'c2', action: 'rollback' }],
      }),
    );
    const log: [string, JsonObject][] = [];
    const finished = await checkRow({
      name: 'subflow',
      // A flow built in code takes its references from the engine's flows folder.
      flow: flow([{ id: 'sub', type: 'subflow', data: { flow: 'child.json' } }], [], { error_handlers: [{ stage: 'sub', notification: true }] }),
      harness: { agents: { ops: recordingAgent(log, ['explode']) }, flowsFolder: dir },
      status: 'failed',
      nodes: { sub: 'failed' },
      check: ({ run }, h) => {
        const childId = `${run.id}.sub`;
        const at = (pred: (e: (typeof h.events)[number]) => boolean) => h.events.findIndex(pred);
        const childRolledBack = at((e) => e.runId === childId && e.type === 'run.finished');
        const childCompensated = at((e) => e.runId === childId && e.type === 'compensation.succeeded');
        const parentFailed = at((e) => e.runId === run.id && e.type === 'node.failed');
        expect(childCompensated).toBeGreaterThanOrEqual(0);
        expect(childCompensated).toBeLessThan(childRolledBack);
        expect(childRolledBack).toBeLessThan(parentFailed);
        expect(h.notes.map((n) => [n.runId, n.nodeId])).toEqual([[run.id, 'sub']]);
      },
    });
    const error = finished.run.state().nodes.get('sub')?.error;
    expect(error?.code).toBe('SUBFLOW_FAILED');
    expect(error?.details).toMatchObject({ runId: `${finished.run.id}.sub`, status: 'rolled_back' });
    expect(log.map(([task]) => task)).toEqual(['make', 'explode', 'unmake']);
  });
});
