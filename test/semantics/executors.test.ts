/**
 * DESIGN §2.2 Node types: one table per built-in executor (webhook, function, conditional,
 * parallel, agent, human_approval, external_api, wait, subflow), each row a small flow and what
 * its run shows.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GantryError, type AgentTask, type JsonObject } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { declare, eventsOf, expectInvariants, expectRunInvariants, finish, FINDING, flow, harness, offset, outputOf, probe, table, turns, until, untilAborted, type Row } from './harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'gantry-semantics-executors-'));
function flowFile(name: string, document: object): string {
  const path = join(DIR, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, ...document }));
  return path;
}

/** Refuses before anything runs: engine.start throws with `code`. */
async function refusedAtStart(document: object, code: string, options: Parameters<typeof harness>[0] = {}): Promise<void> {
  const h = harness(options);
  await expect(h.start(document)).rejects.toMatchObject({ code });
  expect(h.events).toEqual([]);
}

// ── webhook ──────────────────────────────────────────────────────────────────────────────────
const webhookRows: Row[] = [
  {
    name: 'its output is the trigger payload, which its successor gets as input',
    flow: flow([{ id: 'hook', type: 'webhook', data: { endpoint: '/deploy', method: 'POST' } }, probe('next')], [{ from: 'hook', to: 'next' }]),
    start: { trigger: { ref: 'refs/heads/main', sender: { login: 'alice' } } },
    status: 'succeeded',
    outputs: { hook: { ref: 'refs/heads/main', sender: { login: 'alice' } } },
    inputs: { next: { ref: 'refs/heads/main', sender: { login: 'alice' } } },
  },
  {
    name: 'a payload that is not an object arrives as { body }',
    flow: flow([{ id: 'hook', type: 'webhook', data: { endpoint: '/ping' } }]),
    start: { trigger: 'ping' },
    status: 'succeeded',
    outputs: { hook: { body: 'ping' } },
  },
  {
    name: 'with no trigger given the output is empty',
    flow: flow([{ id: 'hook', type: 'webhook', data: { endpoint: '/ping' } }]),
    status: 'succeeded',
    outputs: { hook: {} },
  },
];

// ── function ─────────────────────────────────────────────────────────────────────────────────
const seen: { input: JsonObject; params: JsonObject; runId: string; nodeId: string }[] = [];
const functions = {
  record: (input: JsonObject, params: JsonObject, ctx: { runId: string; nodeId: string }) => {
    seen.push({ input, params, runId: ctx.runId, nodeId: ctx.nodeId });
    return { got: input, with: params };
  },
  double: async (input: JsonObject) => ({ x: Number(input.x) * 2 }),
  boom: () => {
    throw new Error('disk full');
  },
  flaky: (() => {
    let calls = 0;
    return () => {
      calls++;
      if (calls % 2 === 1) throw new GantryError('FUNCTION_FAILED', 'try again', { retryable: true });
      return { calls };
    };
  })(),
  five: () => 5 as unknown as JsonObject,
};

const functionRows: Row[] = [
  {
    name: '`inputs` picks fields from the input; the other data keys are params, expressions resolved',
    flow: flow([probe('src', { out: { a: 1, b: 2, c: 3 } }), { id: 'fn', type: 'function', data: { function: 'record', inputs: ['a', 'c', 'missing'], mode: 'fast', limit: '{% b * 10 %}' } }], [{ from: 'src', to: 'fn' }]),
    harness: { functions },
    status: 'succeeded',
    outputs: { fn: { got: { a: 1, c: 3 }, with: { mode: 'fast', limit: 20 } } },
    check: ({ run }) => expect(seen.at(-1)).toMatchObject({ runId: run.id, nodeId: 'fn' }),
  },
  {
    name: 'without `inputs` the function gets the whole input',
    flow: flow([probe('src', { out: { x: 21 } }), { id: 'fn', type: 'function', data: { function: 'double' } }], [{ from: 'src', to: 'fn' }]),
    harness: { functions },
    status: 'succeeded',
    outputs: { fn: { x: 42 } },
  },
  {
    name: 'a function that throws fails its node with FUNCTION_FAILED and its message',
    flow: flow([{ id: 'fn', type: 'function', data: { function: 'boom' } }], [], {}),
    harness: { functions },
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('fn')?.error).toMatchObject({ code: 'FUNCTION_FAILED', retryable: false, message: expect.stringContaining('disk full') }),
  },
  {
    name: 'a retryable GantryError from a function is retried by the engine',
    flow: flow([{ id: 'fn', type: 'function', data: { function: 'flaky' }, retry: { max_attempts: 2, jitter: false } }]),
    harness: { functions },
    status: 'succeeded',
    check: ({ events }) => expect(eventsOf(events, 'node.retrying', 'fn')).toHaveLength(1),
  },
  {
    name: 'a function that returns something other than an object fails its node with OUTPUT_INVALID',
    flow: flow([{ id: 'fn', type: 'function', data: { function: 'five' } }]),
    harness: { functions },
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('fn')?.error?.code).toBe('OUTPUT_INVALID'),
  },
];

// ── conditional ──────────────────────────────────────────────────────────────────────────────
const conditionalRows: Row[] = [
  {
    name: 'gate form: the output has the input, the outcome and every check',
    flow: flow(
      [probe('src', { out: { cov: 85, vulns: 1 } }), { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'cov', operator: '>', value: 80 }, { metric: 'vulns', operator: '=', value: 0 }], fail_action: 'block_deployment' } }],
      [{ from: 'src', to: 'gate' }],
    ),
    status: 'blocked',
    outputs: {
      gate: {
        cov: 85,
        vulns: 1,
        outcome: 'fail',
        passed: false,
        action: 'block_deployment',
        checks: [
          { metric: 'cov', operator: '>', expected: 80, actual: 85, passed: true },
          { metric: 'vulns', operator: '=', expected: 0, actual: 1, passed: false },
        ],
      },
    },
  },
  {
    name: 'router form: the output has the input and the selected routes',
    flow: flow([probe('src', { out: { kind: 'docs' } }), { id: 'route', type: 'conditional', data: { conditions: [{ if: '{% kind = "docs" %}', then: 'docs' }, { if: '{% kind = "code" %}', then: 'code' }] } }, probe('after')], [
      { from: 'src', to: 'route' },
      { from: 'route', to: 'after' },
    ]),
    status: 'succeeded',
    outputs: { route: { kind: 'docs', routes: ['docs'] } },
  },
  {
    name: 'router form: a failing routed agent fails the conditional',
    flow: flow([probe('src', { out: { kind: 'code' } }), { id: 'route', type: 'conditional', data: { conditions: [{ if: '{% kind = "code" %}', then: 'review', agents: ['reviewer'] }] } }], [{ from: 'src', to: 'route' }]),
    harness: { agents: { reviewer: moduleAgent(() => ({ status: 'failed', error: { message: 'no reviewers' } })) } },
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('route')?.error?.code).toBe('AGENT_FAILED'),
  },
];

// ── parallel ─────────────────────────────────────────────────────────────────────────────────
/** One agent under three names: a parallel node lists each agent once (DUPLICATE_AGENT). */
function parallelAgents(log: { task: string; inputs: JsonObject; signal: AbortSignal }[], behaviour: Record<string, (signal: AbortSignal) => Promise<unknown> | unknown>) {
  const team = moduleAgent(async (inputs, task: AgentTask, signal) => {
    log.push({ task: task.task, inputs, signal });
    return behaviour[task.task]?.(signal) ?? { [task.task]: 'done' };
  });
  return { team, team2: team, team3: team };
}

function parallelRows(): Row[] {
  const picked: { task: string; inputs: JsonObject; signal: AbortSignal }[] = [];
  const failFast: typeof picked = [];
  const waitAll: typeof picked = [];
  const cont: typeof picked = [];
  const failing = () => ({ status: 'failed', error: { message: 'scan crashed' } });
  let slowFinished = false;
  const later = async () => {
    await turns(3);
    slowFinished = true;
    return { slow: 'finished' };
  };
  return [
    {
      name: 'each agent gets its own `inputs` (a pick list or an object of expressions)',
      flow: flow(
        [
          probe('src', { out: { repo: 'acme/api', sha: 'abc', secret_ish: 'x' } }),
          {
            id: 'par',
            type: 'parallel',
            data: {
              agents: [
                { agent: 'team', task: 'lint', inputs: ['repo'] },
                { agent: 'team2', task: 'scan', inputs: { target: '{% repo & "@" & sha %}' } },
                { agent: 'team3', task: 'all' },
              ],
            },
          },
        ],
        [{ from: 'src', to: 'par' }],
      ),
      harness: { agents: parallelAgents(picked, {}) },
      status: 'succeeded',
      check: () => {
        expect(picked.map((p) => [p.task, p.inputs])).toEqual([
          ['lint', { repo: 'acme/api' }],
          ['scan', { target: 'acme/api@abc' }],
          ['all', { repo: 'acme/api', sha: 'abc', secret_ish: 'x' }],
        ]);
      },
    },
    {
      name: 'fail_fast (the default): the first failure aborts the siblings and fails the node',
      flow: flow([{ id: 'par', type: 'parallel', data: { agents: [{ agent: 'team', task: 'slow' }, { agent: 'team2', task: 'broken' }] } }]),
      harness: { agents: parallelAgents(failFast, { slow: (signal) => untilAborted(signal), broken: failing }) },
      status: 'failed',
      check: ({ run }) => {
        expect(run.state().nodes.get('par')?.error).toMatchObject({ code: 'AGENT_FAILED', message: expect.stringContaining('scan crashed') });
        expect(failFast.find((c) => c.task === 'slow')?.signal.aborted).toBe(true);
      },
    },
    {
      name: 'wait_all: the siblings finish, then the node fails',
      flow: flow([{ id: 'par', type: 'parallel', data: { on_failure: 'wait_all', agents: [{ agent: 'team', task: 'slow' }, { agent: 'team2', task: 'broken' }] } }]),
      harness: { agents: parallelAgents(waitAll, { slow: later, broken: failing }) },
      status: 'failed',
      check: ({ run }) => {
        expect(waitAll.find((c) => c.task === 'slow')?.signal.aborted).toBe(false);
        expect(slowFinished).toBe(true);
        expect(run.state().nodes.get('par')?.error?.message).toContain('scan crashed');
      },
    },
    {
      name: 'continue: failures are recorded under results and the node succeeds',
      flow: flow([{ id: 'par', type: 'parallel', data: { on_failure: 'continue', agents: [{ agent: 'team', task: 'ok' }, { agent: 'other', task: 'broken' }] } }]),
      harness: { agents: { ...parallelAgents(cont, {}), other: moduleAgent(failing) } },
      status: 'succeeded',
      outputs: {
        par: {
          ok: 'done',
          results: { team: { ok: 'done' }, other: { status: 'failed', error: { code: 'AGENT_FAILED', message: expect.stringContaining('scan crashed') } } },
        },
      },
    },
  ];
}

// ── agent ────────────────────────────────────────────────────────────────────────────────────
function agentRows(): Row[] {
  const tasks: AgentTask[] = [];
  const recorder = moduleAgent(async (_inputs, task) => {
    tasks.push(task);
    return { status: 'succeeded', result: { ok: true }, metrics: { duration_ms: 3 } };
  });
  let flakyCalls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  return [
    {
      name: 'the task envelope: idempotency key, run, node, attempt and the deadline of the node’s timeout',
      flow: flow([probe('src', { out: { repo: 'r', sha: 's' } }), { id: 'review', type: 'agent', timeout: 30, data: { agent: 'rec', task: 'review', inputs: ['repo'] } }], [{ from: 'src', to: 'review' }]),
      harness: { agents: { rec: recorder } },
      status: 'succeeded',
      outputs: { review: { ok: true, duration_ms: 3 } },
      check: ({ run }) => {
        expect(tasks.at(-1)).toEqual({
          task_id: `${run.id}:review`,
          agent: 'rec',
          task: 'review',
          inputs: { repo: 'r' },
          run: { id: run.id, flow: run.flow.name },
          node: 'review',
          attempt: 1,
          deadline: new Date(run.state().startedAt + 30_000).toISOString(),
        });
      },
    },
    {
      name: '`inputs` as an object of expressions; `parallel: true` is accepted and ignored',
      flow: flow([probe('src', { out: { n: 2 } }), { id: 'review', type: 'agent', data: { agent: 'rec', task: 'calc', parallel: true, inputs: { doubled: '{% n * 2 %}', env: '{% $params.env %}' } } }], [{ from: 'src', to: 'review' }], {
        params: { env: { type: 'string', default: 'prod' } },
      }),
      harness: { agents: { rec: recorder } },
      status: 'succeeded',
      check: () => expect(tasks.at(-1)?.inputs).toEqual({ doubled: 4, env: 'prod' }),
    },
    {
      name: 'a reply with status failed fails the node with AGENT_FAILED and is not retried',
      flow: flow([{ id: 'a', type: 'agent', retry: { max_attempts: 3 }, data: { agent: 'no', task: 'x' } }]),
      harness: { agents: { no: moduleAgent(() => ({ status: 'failed', error: { message: 'refused' } })) } },
      status: 'failed',
      check: ({ run, events }) => {
        expect(run.state().nodes.get('a')?.error).toMatchObject({ code: 'AGENT_FAILED', retryable: false });
        expect(eventsOf(events, 'node.retrying')).toEqual([]);
      },
    },
    {
      name: 'a failed reply marked retryable (a 5xx, a timeout) is retried',
      flow: flow([{ id: 'a', type: 'agent', retry: { max_attempts: 3, jitter: false }, data: { agent: 'flaky', task: 'x' } }]),
      harness: {
        agents: {
          flaky: moduleAgent(() => (++flakyCalls === 1 ? { status: 'failed', error: { message: '503', retryable: true } } : { status: 'succeeded', result: { second: true } })),
        },
      },
      status: 'succeeded',
      outputs: { a: { second: true } },
    },
    {
      name: 'a transport that throws a plain error fails the node with AGENT_FAILED, not retryable',
      flow: flow([{ id: 'a', type: 'agent', retry: { max_attempts: 3 }, data: { agent: 'crash', task: 'x' } }]),
      harness: {
        agents: {
          crash: {
            call: async () => {
              throw new Error('ECONNRESET');
            },
          },
        },
      },
      status: 'failed',
      check: ({ run, events }) => {
        expect(run.state().nodes.get('a')?.error).toMatchObject({ code: 'AGENT_FAILED', retryable: false, message: expect.stringContaining('ECONNRESET') });
        expect(eventsOf(events, 'node.retrying')).toEqual([]);
      },
    },
    {
      name: 'a module agent with no handler for the task fails the node',
      flow: flow([{ id: 'a', type: 'agent', data: { agent: 'partial', task: 'missing' } }]),
      harness: { agents: { partial: moduleAgent({ text: () => 'just text' }) } },
      status: 'failed',
      check: ({ run }) => expect(run.state().nodes.get('a')?.error).toMatchObject({ code: 'AGENT_FAILED', message: expect.stringContaining('no task "missing"') }),
    },
    {
      name: 'a module agent that returns no object fails the node',
      flow: flow([{ id: 'b', type: 'agent', data: { agent: 'partial', task: 'text' } }]),
      harness: { agents: { partial: moduleAgent({ text: () => 'just text' }) } },
      status: 'failed',
      check: ({ run }) => expect(run.state().nodes.get('b')?.error).toMatchObject({ code: 'AGENT_FAILED', message: expect.stringContaining('returned string') }),
    },
    {
      name: 'an agent registered with concurrency 1 runs one task at a time across nodes',
      flow: flow([1, 2, 3].map((i) => ({ id: `n${i}`, type: 'agent', data: { agent: 'single', task: 't' } }))),
      harness: {
        agents: {
          single: {
            concurrency: 1,
            transport: moduleAgent(async () => {
              maxInFlight = Math.max(maxInFlight, ++inFlight);
              await turns(2);
              inFlight--;
              return {};
            }),
          },
        },
      },
      status: 'succeeded',
      check: () => expect(maxInFlight).toBe(1),
    },
  ];
}

// ── human_approval ───────────────────────────────────────────────────────────────────────────
describe('executor human_approval', () => {
  it('requests every listed role by default, passes the message on, and outputs its input with the decisions', async () => {
    const h = harness();
    const run = await h.start(
      flow([probe('src', { out: { version: '1.2' } }), { id: 'ok', type: 'human_approval', data: { approvers: ['lead', 'pm'], timeout: 600, message: 'ship 1.2?' } }], [{ from: 'src', to: 'ok' }]),
    );
    await h.clock.advance(0);
    expect(eventsOf(h.events, 'approval.requested').map((e) => [e.required, e.message])).toEqual([[2, 'ship 1.2?']]);
    run.decide('ok', { principal: 'lead', decision: 'approve' });
    run.decide('ok', { principal: 'pm', decision: 'approve', comment: 'go' });
    const result = await finish(h.clock, run);
    expect(result.status).toBe('succeeded');
    expect(outputOf(run, 'ok')).toMatchObject({ version: '1.2', approved: true, timed_out: false, decisions: [{ principal: 'lead' }, { principal: 'pm', comment: 'go' }] });
    await expectRunInvariants(h, run, result);
  });

  it('cannot iterate with for_each', async () => {
    const h = harness();
    const done = await h.run(flow([{ id: 'ok', type: 'human_approval', for_each: [1, 2], data: { approvers: ['lead'], timeout: 60 } }]));
    expect(done.result.status).toBe('failed');
    expect(done.run.state().nodes.get('ok')?.error?.code).toBe('USAGE');
    expectInvariants(done);
  });
});

// ── external_api ─────────────────────────────────────────────────────────────────────────────
function externalRows(): Row[] {
  const calls: { action: string; params: JsonObject; authentication?: string; credential?: string; key: string }[] = [];
  const svc = {
    service: 'svc',
    call: async (action: string, params: JsonObject, ctx: { authentication?: string; idempotencyKey: string; credential(name: string): string | undefined }) => {
      calls.push({ action, params, authentication: ctx.authentication, credential: ctx.authentication ? ctx.credential(ctx.authentication) : undefined, key: ctx.idempotencyKey });
      if (action === 'flaky' && calls.filter((c) => c.action === 'flaky').length === 1) throw new GantryError('CONNECTOR_FAILED', '502 from upstream', { retryable: true });
      if (action === 'deny') throw new GantryError('CONNECTOR_FAILED', '403 forbidden');
      return { sent: action };
    },
  };
  return [
    {
      name: 'params are the input overlaid with the node’s own data keys; the output is the connector’s reply',
      flow: flow(
        [probe('src', { out: { channel: '#old', score: 9 } }), { id: 'note', type: 'external_api', data: { service: 'svc', action: 'send', channel: '#eng', text: '{% "score " & $string(score) %}', 'x-note': 'ignored' } }],
        [{ from: 'src', to: 'note' }],
      ),
      harness: { connectors: [svc] },
      status: 'succeeded',
      outputs: { note: { sent: 'send' } },
      check: ({ run }) => expect(calls.at(-1)).toEqual({ action: 'send', params: { channel: '#eng', score: 9, text: 'score 9' }, authentication: undefined, credential: undefined, key: `${run.id}:note` }),
    },
    {
      name: 'authentication names a credential the connector resolves; its value never enters the journal',
      flow: flow([{ id: 'gh', type: 'external_api', data: { service: 'svc', action: 'comment', authentication: 'github_app' } }]),
      harness: { connectors: [svc], credentials: (name) => (name === 'github_app' ? 's3cr3t-token' : undefined) },
      status: 'succeeded',
      check: ({ journal }) => {
        expect(calls.at(-1)).toMatchObject({ authentication: 'github_app', credential: 's3cr3t-token' });
        expect(JSON.stringify(journal)).not.toContain('s3cr3t-token');
      },
    },
    {
      name: 'a retryable connector failure is retried',
      flow: flow([{ id: 'again', type: 'external_api', retry: { max_attempts: 2, jitter: false }, data: { service: 'svc', action: 'flaky' } }]),
      harness: { connectors: [svc] },
      status: 'succeeded',
      outputs: { again: { sent: 'flaky' } },
      check: ({ run }) => expect(calls.filter((c) => c.action === 'flaky').map((c) => c.key)).toEqual([`${run.id}:again`, `${run.id}:again`]),
    },
    {
      name: 'a non-retryable connector failure fails the node at once',
      flow: flow([{ id: 'denied', type: 'external_api', retry: { max_attempts: 2 }, data: { service: 'svc', action: 'deny' } }]),
      harness: { connectors: [svc] },
      status: 'failed',
      check: ({ run }) => {
        expect(run.state().nodes.get('denied')?.error).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
        expect(calls.filter((c) => c.action === 'deny')).toHaveLength(1);
      },
    },
  ];
}

// ── wait ─────────────────────────────────────────────────────────────────────────────────────
const T0 = Date.UTC(2026, 0, 1);
const waitRows: Row[] = [
  {
    name: '`seconds` waits that long on the clock; the output is the input with waited_until',
    flow: flow([probe('src', { out: { v: 1 } }), { id: 'bake', type: 'wait', data: { seconds: 300 } }, probe('after')], [{ from: 'src', to: 'bake' }, { from: 'bake', to: 'after' }]),
    status: 'succeeded',
    outputs: { bake: { v: 1, waited_until: new Date(T0 + 300_000).toISOString() } },
    check: ({ events }) => {
      expect(offset(events, 'node.started', 'after')).toBe(300_000);
      expect(eventsOf(events, 'timer.set', 'bake').map((e) => [e.purpose, e.fireAt - T0])).toEqual([['wait', 300_000]]);
      expect(eventsOf(events, 'timer.fired', 'bake')).toHaveLength(1);
    },
  },
  {
    name: '`seconds` can be an expression',
    flow: flow([{ id: 'bake', type: 'wait', data: { seconds: '{% $params.bake %}' } }], [], { params: { bake: { type: 'number', default: 5 } } }),
    start: { params: { bake: 42 } },
    status: 'succeeded',
    check: ({ events }) => expect(offset(events, 'node.succeeded', 'bake')).toBe(42_000),
  },
  {
    name: '`until` waits for an absolute time',
    flow: flow([{ id: 'window', type: 'wait', data: { until: new Date(T0 + 3_600_000).toISOString() } }]),
    status: 'succeeded',
    check: ({ events }) => expect(offset(events, 'node.succeeded', 'window')).toBe(3_600_000),
  },
  {
    name: 'an `until` in the past goes on at once',
    flow: flow([{ id: 'window', type: 'wait', data: { until: '2020-01-01T00:00:00Z' } }]),
    status: 'succeeded',
    check: ({ events }) => expect(offset(events, 'node.succeeded', 'window')).toBe(0),
  },
  {
    name: 'a negative `seconds` from an expression fails the node',
    flow: flow([{ id: 'bake', type: 'wait', data: { seconds: '{% -1 %}' } }]),
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('bake')?.error?.code).toBe('EXPRESSION_FAILED'),
  },
];

// ── subflow ──────────────────────────────────────────────────────────────────────────────────
// A flow built in code takes its references from the engine's flows folder (absolute paths are refused).
const inDir = { flowsFolder: DIR };
flowFile('child-ok', {
  params: { pct: { type: 'number', default: 1 } },
  nodes: [{ id: 'step', type: 'probe', data: { out: { pct: '{% $params.pct %}', from_trigger: '{% $trigger.version %}' } } }],
});
flowFile('child-fails', { nodes: [{ id: 'bad', type: 'probe', data: { fail: { code: 'CONNECTOR_FAILED' } } }] });
flowFile('child-blocks', {
  nodes: [{ id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'x', operator: '=', value: 1 }], fail_action: 'block_deployment' } }],
});

const subflowRows: Row[] = [
  {
    name: 'the child’s output is the node’s output; params are resolved in the parent; the trigger defaults to the input',
    flow: flow([probe('src', { out: { version: '2.0', pct: 25 } }), { id: 'sub', type: 'subflow', data: { flow: 'child-ok.json', params: { pct: '{% pct * 2 %}' } } }], [{ from: 'src', to: 'sub' }]),
    harness: inDir,
    status: 'succeeded',
    outputs: { sub: { pct: 50, from_trigger: '2.0' } },
    check: async ({ run }, h) => {
      const record = await h.engine.options.store.getRun(`${run.id}.sub`);
      expect(record).toMatchObject({ parentRunId: run.id, status: 'succeeded', flowName: 'child-ok' });
    },
  },
  {
    name: 'an explicit trigger replaces the input as the child’s trigger',
    flow: flow([probe('src', { out: { version: '2.0' } }), { id: 'sub', type: 'subflow', data: { flow: 'child-ok.json', trigger: { version: '{% version & "-rc" %}' } } }], [{ from: 'src', to: 'sub' }]),
    harness: inDir,
    status: 'succeeded',
    outputs: { sub: { pct: 1, from_trigger: '2.0-rc' } },
  },
  {
    name: 'a failed child fails the node with SUBFLOW_FAILED, its status and error in the details',
    flow: flow([{ id: 'sub', type: 'subflow', data: { flow: 'child-fails.json' } }]),
    harness: inDir,
    status: 'failed',
    check: ({ run }) => {
      const error = run.state().nodes.get('sub')?.error;
      expect(error?.code).toBe('SUBFLOW_FAILED');
      expect(error?.details).toMatchObject({ runId: `${run.id}.sub`, status: 'failed', error: { code: 'CONNECTOR_FAILED', nodeId: 'bad' } });
    },
  },
  {
    name: 'a blocked child fails the node too',
    flow: flow([{ id: 'sub', type: 'subflow', data: { flow: 'child-blocks.json' } }]),
    harness: inDir,
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('sub')?.error?.details).toMatchObject({ status: 'blocked' }),
  },
];

describe('executor webhook', () => table(webhookRows, it));
describe('executor function', () => {
  table(functionRows, it);
  it('a flow naming an unregistered function is refused before anything runs', () =>
    refusedAtStart(flow([{ id: 'fn', type: 'function', data: { function: 'nope' } }]), 'FUNCTION_NOT_FOUND', { functions }));
});
describe('executor conditional', () => table(conditionalRows, it));
describe('executor parallel', () => {
  table(parallelRows(), it);
  it('a flow naming an unregistered agent in a parallel node is refused before anything runs', () =>
    refusedAtStart(flow([{ id: 'par', type: 'parallel', data: { agents: [{ agent: 'ghost', task: 't' }] } }]), 'AGENT_NOT_FOUND'));
});
describe('executor agent', () => {
  table(agentRows(), it);
  it('a flow naming an unregistered agent is refused before anything runs', () => refusedAtStart(flow([{ id: 'a', type: 'agent', data: { agent: 'ghost', task: 't' } }]), 'AGENT_NOT_FOUND'));
});
describe('executor external_api', () => {
  table(externalRows(), it);
  it('a flow naming a service with no connector is refused before anything runs', () =>
    refusedAtStart(flow([{ id: 'x', type: 'external_api', data: { service: 'nowhere', action: 'a' } }]), 'CONNECTOR_NOT_FOUND'));
  declare(it, 'a connector that returns something other than an object fails its node with OUTPUT_INVALID', undefined, async () => {
    const h = harness({ connectors: [{ service: 'num', call: async () => 7 as unknown as JsonObject }] });
    const done = await h.run(flow([{ id: 'x', type: 'external_api', data: { service: 'num', action: 'a' } }]));
    expect(done.result.status).toBe('failed');
    expect(done.run.state().nodes.get('x')?.error?.code).toBe('OUTPUT_INVALID');
  });
});
describe('executor wait', () => table(waitRows, it));

// ── agent tasks performed by flows (DESIGN §5, the flow transport) ──────────────────────────
const phase = flowFile('phase', {
  params: { bake_seconds: { type: 'number', default: 300 }, service: { type: 'string', default: 'app' } },
  nodes: [{ id: 'work', type: 'probe', data: { out: { bake: '{% $params.bake_seconds %}', service: '{% $params.service %}' } } }],
});
const phaseFails = flowFile('phase-fails', { nodes: [{ id: 'bad', type: 'probe', data: { fail: { code: 'CONNECTOR_FAILED', retryable: true } } }] });
const modular = moduleAgent({ direct: () => ({ via: 'transport' }) });
const flowAgentRows: Row[] = [
  {
    name: 'the task runs its flow as a child run; declared params come from the caller’s params and the task’s inputs, others are dropped',
    flow: flow(
      [probe('src', { out: { service: 'shop', unrelated: 1 } }), { id: 'deploy', type: 'agent', data: { agent: 'ops', task: 'deploy', inputs: ['service', 'unrelated'] } }],
      [{ from: 'src', to: 'deploy' }],
      { params: { bake_seconds: { type: 'number', default: 5 } } },
    ),
    harness: { agents: { ops: { flows: { deploy: phase } } } },
    status: 'succeeded',
    outputs: { deploy: { bake: 5, service: 'shop', run_id: expect.stringMatching(/\.deploy$/) } },
    check: async ({ run }, h) => expect(await h.engine.options.store.getRun(`${run.id}.deploy`)).toMatchObject({ parentRunId: run.id, status: 'succeeded', flowName: 'phase' }),
  },
  {
    name: 'tasks that no flow lists go to the agent’s transport',
    flow: flow([{ id: 'a', type: 'agent', data: { agent: 'ops', task: 'direct' } }]),
    harness: { agents: { ops: { transport: modular, flows: { deploy: phase } } } },
    status: 'succeeded',
    outputs: { a: { via: 'transport' } },
  },
  {
    name: 'a task with neither a flow nor a transport fails with AGENT_NOT_FOUND naming what the agent can do',
    flow: flow([{ id: 'a', type: 'agent', data: { agent: 'ops', task: 'other' } }]),
    harness: { agents: { ops: { flows: { deploy: phase } } } },
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('a')?.error).toMatchObject({ code: 'AGENT_NOT_FOUND', message: expect.stringContaining('its flows perform deploy') }),
  },
  {
    name: 'a failed flow fails the task with AGENT_FAILED, not retried on top of the flow’s own retries, the child run in the details',
    flow: flow([{ id: 'a', type: 'agent', retry: { max_attempts: 3 }, data: { agent: 'ops', task: 'deploy' } }]),
    harness: { agents: { ops: { flows: { deploy: phaseFails } } } },
    status: 'failed',
    check: ({ run, events }) => {
      expect(run.state().nodes.get('a')?.error).toMatchObject({ code: 'AGENT_FAILED', retryable: false, details: { runId: `${run.id}.a`, status: 'failed' } });
      expect(eventsOf(events, 'node.retrying')).toEqual([]);
    },
  },
  {
    name: 'each agent of a parallel node runs its own child run, named by its call key',
    flow: flow([{ id: 'par', type: 'parallel', data: { agents: [{ agent: 'ops', task: 'deploy' }, { agent: 'ops2', task: 'deploy' }] } }]),
    harness: { agents: { ops: { flows: { deploy: phase } }, ops2: { flows: { deploy: phase } } } },
    status: 'succeeded',
    check: async ({ run }, h) => {
      const children = (await h.engine.options.store.listRuns({ parentRunId: run.id })).map((r) => r.runId).sort();
      expect(children).toEqual([`${run.id}.par:ops.deploy`, `${run.id}.par:ops2.deploy`]);
    },
  },
];
describe('engine.onAgentTask: every agent task as it ends, for metrics', () => {
  it('hears an agent node, each agent of a parallel node and a failed task, with durations on the engine clock', async () => {
    const h = harness({
      agents: {
        slow: moduleAgent(async (_inputs, task) => ({ done: task.task })),
        broken: moduleAgent(() => ({ status: 'failed', error: { message: 'no' } })),
      },
    });
    const samples: unknown[] = [];
    const off = h.engine.onAgentTask((s) => samples.push(s));
    await h.run(flow([{ id: 'one', type: 'agent', data: { agent: 'slow', task: 'build' } }, { id: 'many', type: 'parallel', data: { agents: [{ agent: 'slow', task: 'lint' }, { agent: 'broken', task: 'scan' }] } }], [{ from: 'one', to: 'many' }]));
    expect(samples).toEqual([
      { agent: 'slow', task: 'build', runId: expect.any(String), nodeId: 'one', attempt: 1, status: 'succeeded', durationMs: 0 },
      { agent: 'slow', task: 'lint', runId: expect.any(String), nodeId: 'many', attempt: 1, status: 'succeeded', durationMs: 0 },
      { agent: 'broken', task: 'scan', runId: expect.any(String), nodeId: 'many', attempt: 1, status: 'failed', durationMs: 0 },
    ]);
    off();
    await h.run(flow([{ id: 'one', type: 'agent', data: { agent: 'slow', task: 'build' } }]));
    expect(samples).toHaveLength(3);
  });
});

describe('agent tasks performed by flows', () => {
  table(flowAgentRows, it);
  it('registerAgent refuses a registration with neither a transport nor flows, and a flow that is not a path', () => {
    const h = harness();
    expect(() => h.engine.registerAgent('none', {} as never)).toThrow(/transport with call\(task, signal\), or flows/);
    expect(() => h.engine.registerAgent('bad', { flows: { deploy: '' } })).toThrow(/agent "bad" task "deploy" to be a file path/);
  });
});
describe('executor subflow', () => {
  table(subflowRows, it);

  it('a relative flow path resolves against the parent flow file’s folder', async () => {
    const parent = flowFile('parent-relative', { nodes: [{ id: 'sub', type: 'subflow', data: { flow: './child-ok.json', params: { pct: 7 }, trigger: '{% $trigger %}' } }] });
    const h = harness();
    const compiled = await h.engine.loadFlow(parent);
    const run = await h.engine.start(compiled, { trigger: { version: 'v' } });
    const result = await finish(h.clock, run);
    expect(result.status).toBe('succeeded');
    expect(outputOf(run, 'sub')).toEqual({ pct: 7, from_trigger: 'v' });
    await expectRunInvariants(h, run, result);
  });

  declare(it, 'the parent waits while its sub-flow waits for an approval', undefined, async () => {
    flowFile('child-approval', { nodes: [{ id: 'ok', type: 'human_approval', data: { approvers: ['lead'], timeout: 60 } }] });
    const h = harness(inDir);
    const run = await h.start(flow([{ id: 'sub', type: 'subflow', data: { flow: 'child-approval.json' } }]));
    await until(h.clock, () => h.events.some((e) => e.type === 'approval.requested'), 'the child asking for approval');
    const childRun = h.engine.run(`${run.id}.sub`);
    expect(childRun?.status()).toBe('waiting');
    try {
      expect(run.status()).toBe('waiting');
    } finally {
      await h.engine.decide(`${run.id}.sub`, 'ok', { principal: 'lead', decision: 'approve' });
      expect((await finish(h.clock, run)).status).toBe('succeeded');
    }
  });
});
