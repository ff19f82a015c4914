import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFile } from './run-tests.js';
import { temporaryFolders } from './test-kit.js';

const folder = temporaryFolders();

const FLOW = {
  name: 'Deploy',
  params: { bake: { type: 'number', default: 300 } },
  nodes: [
    { id: 'start', type: 'webhook', data: {} },
    {
      id: 'deploy',
      type: 'agent',
      timeout: 60,
      retry: { max_attempts: 2, backoff: 'fixed', initial_seconds: 5 },
      data: { agent: 'deployer', task: 'deploy', inputs: { version: '{% $trigger.version %}' } },
      compensate: { agent: 'deployer', task: 'undeploy' },
    },
    { id: 'bake', type: 'wait', data: { seconds: '{% $params.bake %}' } },
    { id: 'approve', type: 'human_approval', data: { approvers: ['lead'], timeout: 3600 } },
    { id: 'notify', type: 'external_api', data: { service: 'slack', action: 'send_notification', channel: '#d', text: 'done' } },
  ],
  edges: [
    { from: 'start', to: 'deploy' },
    { from: 'deploy', to: 'bake' },
    { from: 'bake', to: 'approve' },
    { from: 'approve', to: 'notify' },
  ],
  error_handlers: [{ stage: '*', action: 'rollback' }],
};

const SCRIPTS = {
  flow: 'deploy.json',
  trigger: { version: '2.0' },
  agents: { deployer: { deploy: { result: { id: 'd-1' } }, undeploy: { result: { undone: true } } } },
  connectors: { slack: { send_notification: { result: { ok: true } } } },
  approvals: [{ node: 'approve', principal: 'lead', decision: 'approve', after_seconds: 10 }],
};

async function run(test: object, extra: Record<string, unknown> = {}, options = {}, scripts: object = SCRIPTS) {
  const dir = folder({ 'deploy.json': FLOW, 'deploy.test.json': { ...scripts, tests: [{ name: 't', ...test }] }, ...extra });
  const result = await runTestFile('deploy.test.json', { cwd: dir, ...options });
  return { result, test: result.tests[0]!, dir };
}

describe('a flow test on the fake clock', () => {
  it('takes no real time for a 300 s bake and an approval given 10 s after it was asked for', async () => {
    const started = Date.now();
    const { result, test } = await run({ expect: { status: 'succeeded', elapsed_seconds: 310, output: { ok: true } } });
    expect(result.status).toBe('passed');
    expect(test.run).toEqual({ status: 'succeeded', fakeMs: 310_000 });
    // Generous for a loaded machine; a real bake would take five minutes.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails with each expectation that does not hold, placed in the file, and the history of the node concerned', async () => {
    const { test } = await run({ expect: { status: 'rolled_back', nodes: { deploy: { attempts: 2, output: { id: 'd-2' } } } } });
    expect(test.status).toBe('failed');
    expect(test.failures.map((f) => [f.expectation, f.line, f.message])).toEqual([
      ['expect.status', 41, 'the run ended succeeded, expected rolled_back'],
      ['expect.nodes.deploy.attempts', 44, 'node "deploy" made 1 attempt, expected 2'],
      ['expect.nodes.deploy.output.id', 46, 'node "deploy" output.id: expected "d-2", got "d-1"'],
    ]);
    expect(test.failures[1]!.history).toEqual([
      '+0s       attempt 1 started with input {"version":"2.0"}',
      '            called agent deployer/deploy with inputs {"version":"2.0"}',
      '+0s       attempt 1 succeeded: output {"id":"d-1"}',
    ]);
  });

  it('fails an unscripted agent call with a sentence naming the agent, the task and the inputs, and cancels the run there', async () => {
    const { test } = await run({ agents: { deployer: { deploy: [{ match: { version: '1.0' }, result: {} }] } }, expect: { status: 'succeeded' } });
    expect(test.failures.map((f) => f.message)).toEqual([
      'unscripted call: agent deployer/deploy at deploy with inputs {"version":"2.0"}: none of its replies left matches these inputs (match {"version":"1.0"})',
    ]);
    expect(test.run.status).toBe('cancelled');
    // The run stopped at the call: no compensation was asked for, nothing else was called.
    expect(test.calls.map((c) => `${c.name}/${c.operation}`)).toEqual(['deployer/deploy']);
  });

  it('fails an unscripted connector action with its service, action and params', async () => {
    const { test } = await run({ expect: {} }, {}, {}, { ...SCRIPTS, connectors: {} });
    // Its params are the node's input (the approval's output) under its own data keys.
    expect(test.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^unscripted call: connector slack\/send_notification at notify with params \{"id":"d-1","waited_until":.*: the test scripts no reply for it \(add one under connectors\.slack\.send_notification\)$/),
    ]);
  });

  it('times an attempt out when its reply comes after the node\'s timeout, and retries it', async () => {
    const { test } = await run({
      agents: { deployer: { deploy: [{ after_seconds: 600, result: { id: 'late' } }, { result: { id: 'd-2' } }] } },
      expect: { status: 'succeeded', nodes: { deploy: { attempts: 2, output: { id: 'd-2' } } } },
    });
    expect(test.failures).toEqual([]);
  });

  it('rolls back with the scripted compensation when a failure is final', async () => {
    const { test } = await run({
      agents: { deployer: { deploy: { error: { message: 'disk full' } } } },
      expect: {
        status: 'rolled_back',
        error: { code: 'AGENT_FAILED', node: 'deploy' },
        calls: [{ agent: 'deployer', task: 'deploy' }, { agent: 'deployer', task: 'undeploy' }],
        calls_in_order: true,
        no_other_calls: true,
      },
    });
    expect(test.failures).toEqual([]);
  });

  it('fails the test when the engine refuses a decision (a principal without the role), and the approval then times out', async () => {
    const { test } = await run({
      approvals: [{ node: 'approve', principal: 'mallory', decision: 'approve' }],
      expect: { status: 'rolled_back', error: { code: 'APPROVAL_TIMEOUT' } },
    });
    expect(test.failures.map((f) => f.message)).toEqual([expect.stringMatching(/^approvals\[0\] \(mallory approves approve\) was refused: .*mallory/)]);
    expect(test.run.status).toBe('rolled_back');
  });

  it('drops a decision still pending when its node has ended (the other approver rejected first)', async () => {
    // The rejection is caught by an error edge and the run goes on waiting: bob's decision would come while it runs.
    const flow = {
      name: 'Approve',
      nodes: [
        { id: 'approve', type: 'human_approval', data: { approvers: ['lead'], timeout: 3600 } },
        { id: 'cool_down', type: 'wait', data: { seconds: 600 } },
      ],
      edges: [{ from: 'approve', to: 'cool_down', condition: 'error' }],
    };
    const dir = folder({
      'approve.json': flow,
      'approve.test.json': {
        flow: 'approve.json',
        principals: { alice: { roles: ['lead'] }, bob: { roles: ['lead'] } },
        approvals: [{ node: 'approve', principal: 'alice', decision: 'reject' }, { node: 'approve', principal: 'bob', decision: 'approve', after_seconds: 60 }],
        tests: [{ name: 't', expect: { status: 'succeeded', nodes: { approve: { status: 'failed' } }, elapsed_seconds: 600 } }],
      },
    });
    const result = await runTestFile('approve.test.json', { cwd: dir });
    expect(result.tests[0]!.failures).toEqual([]);
  });

  it('moves time only when no file read is in flight: a sub-flow loaded from disk starts before a timer beside it fires', async () => {
    const child = { name: 'Child', nodes: [{ id: 'work', type: 'agent', data: { agent: 'worker', task: 'work' } }] };
    const parent = {
      name: 'Parent',
      nodes: [
        { id: 'child', type: 'subflow', data: { flow: 'child.json' } },
        { id: 'tick', type: 'wait', data: { seconds: 1 } },
      ],
    };
    const dir = folder({
      'child.json': child,
      'parent.json': parent,
      'parent.test.json': { flow: 'parent.json', agents: { worker: { work: { result: {} } } }, tests: [{ name: 't', expect: { status: 'succeeded', elapsed_seconds: 1 } }] },
    });
    for (let i = 0; i < 5; i++) {
      const result = await runTestFile('parent.test.json', { cwd: dir });
      expect(result.tests[0]!.failures).toEqual([]);
      expect(result.tests[0]!.calls.map((c) => [c.name, c.run, c.at])).toEqual([['worker', 'child', 0]]);
    }
  });

  it('reports a run that cannot start (a param of the wrong type) as a failure, not a crash', async () => {
    const { test } = await run({ params: { bake: 'long' }, expect: {} });
    expect(test.failures.map((f) => f.message)).toEqual([expect.stringMatching(/^the run could not start: .*bake/)]);
  });
});

describe('agents taken from a configuration', () => {
  const agentModule = (marker: string) => `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(marker)}, 'imported');
export default { deploy: (inputs) => ({ id: 'real-' + inputs.version }), undeploy: () => ({}) };
`;

  it('never loads a configured agent the test does not use', async () => {
    const dir = folder({});
    const marker = join(dir, 'imported.txt');
    const { test } = await run({ expect: { status: 'succeeded' } }, {
      'deployer.mjs': agentModule(marker),
      'gantry.config.json': { agents: { deployer: { transport: 'module', module: './deployer.mjs' } } },
    });
    expect(test.failures).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  it('runs a module agent for real when `use` names it', async () => {
    const dir = folder({});
    const marker = join(dir, 'imported.txt');
    const files = {
      'deploy.json': FLOW,
      'deployer.mjs': agentModule(marker),
      'gantry.config.json': { agents: { deployer: { transport: 'module', module: './deployer.mjs' } } },
      'deploy.test.json': { ...SCRIPTS, agents: {}, config: 'gantry.config.json', use: { agents: ['deployer'] }, tests: [{ name: 'uses', expect: { nodes: { deploy: { output: { id: 'real-2.0' } } } } }] },
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    const result = await runTestFile('deploy.test.json', { cwd: dir });
    expect(result.tests[0]!.failures).toEqual([]);
    expect(existsSync(marker)).toBe(true);
  });

  it('runs a task as the flow the configuration maps it to when its script says "flow", with the inner agents scripted', async () => {
    const inner = { name: 'Inner', nodes: [{ id: 'step', type: 'agent', data: { agent: 'worker', task: 'work' } }] };
    const outer = { name: 'Outer', nodes: [{ id: 'phase', type: 'agent', data: { agent: 'deployer', task: 'deploy', inputs: { version: '3' } } }] };
    const dir = folder({
      'outer.json': outer,
      'inner.json': inner,
      'gantry.config.json': { agents: { deployer: { transport: 'flow', flows: { deploy: './inner.json' } }, worker: { transport: 'module', module: './none.mjs' } } },
      'outer.test.json': {
        flow: 'outer.json',
        config: 'gantry.config.json',
        agents: { deployer: { deploy: 'flow' }, worker: { work: { result: { done: 1 } } } },
        tests: [{ name: 'phase as a flow', expect: { status: 'succeeded', output: { done: 1 }, subflows: { phase: { status: 'succeeded', ran: ['step'] } } } }],
      },
    });
    const result = await runTestFile('outer.test.json', { cwd: dir });
    expect(result.tests[0]!.failures).toEqual([]);
    expect(result.tests[0]!.calls.map((c) => [c.name, c.operation, c.run, c.flow])).toEqual([
      ['deployer', 'deploy', '', 'inner.json'],
      ['worker', 'work', 'phase', undefined],
    ]);
  });

  it('declares a run stuck when nothing happens and nothing is scheduled', async () => {
    const dir = folder({
      'deploy.json': FLOW,
      'deployer.mjs': 'export default { deploy: () => new Promise(() => {}) };\n',
      'gantry.config.json': { agents: { deployer: { transport: 'module', module: './deployer.mjs' } } },
      'deploy.test.json': { flow: 'deploy.json', config: 'gantry.config.json', use: { agents: ['deployer'] }, tests: [{ name: 'hangs', expect: {} }] },
    });
    // The deploy node's 60 s timeout would end it: without one, nothing would.
    const flow = { ...FLOW, nodes: FLOW.nodes.map((n) => (n.id === 'deploy' ? { ...n, timeout: undefined } : n)) };
    writeFileSync(join(dir, 'deploy.json'), JSON.stringify(flow));
    const result = await runTestFile('deploy.test.json', { cwd: dir, stallMs: 200 });
    expect(result.tests[0]!.failures.map((f) => f.message)).toEqual(['the run did not finish: nothing happened for 0.2 s and nothing was scheduled on the fake clock (still running: deploy)']);
  });
});
