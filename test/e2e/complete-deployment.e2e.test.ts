/**
 * flows/complete-deployment.json end to end: `gantry run` as a child process, a GitHub push
 * webhook body as the trigger, the test agent module as every agent, approvals from
 * --approve-as (or nobody), and a loopback Slack incoming webhook for the notification node and
 * for the error handlers' notifications.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  configFor,
  explain,
  eventsOf,
  finding,
  FLOWS,
  journalProblems,
  nodeStates,
  only,
  readFixture,
  readFlow,
  runIdOf,
  slackStandIn,
  Workspace,
  type AgentCall,
  type ConfigOptions,
  type GantryResult,
  type JsonObject,
  type RunEvent,
} from './harness.js';

const FLOW = `${FLOWS}/complete-deployment.json`;
const APPROVERS = ['tech-lead', 'product-manager'];

/** The agent tasks of the flow's nodes, in the flow's order (read from the flow, not restated). */
function flowTasks(): { node: string; agent: string; task: string }[] {
  const tasks: { node: string; agent: string; task: string }[] = [];
  for (const node of readFlow('complete-deployment.json').nodes as { id: string; type: string; data: JsonObject }[]) {
    if (node.type === 'agent') tasks.push({ node: node.id, agent: String(node.data.agent), task: String(node.data.task) });
    if (node.type === 'parallel') for (const a of node.data.agents as { agent: string; task: string }[]) tasks.push({ node: node.id, agent: a.agent, task: a.task });
  }
  return tasks;
}

/** Rollback for real: what undoes each task of the deployment agents. */
const COMPENSATIONS: Record<string, Record<string, string>> = {
  'deployment-automation-master': { deploy_staging: 'rollback_staging', blue_green_deployment: 'rollback_production' },
  'infrastructure-devops-manager': { build_and_test: 'discard_build' },
};

function expectIdempotencyKeys(calls: AgentCall[], runId: string): void {
  for (const call of calls) {
    expect(call.run.id).toBe(runId);
    expect(call.attempt).toBe(1);
    const compensation = Object.values(COMPENSATIONS).some((tasks) => Object.values(tasks).includes(call.task));
    // A parallel node's agents each have their own key: the node's, plus the agent and task.
    const own = call.node === 'validation_orchestrator' ? `:${call.agent}.${call.task}` : '';
    expect(call.task_id).toBe(`${runId}:${call.node}${compensation ? ':compensate' : ''}${own}`);
  }
  const keys = calls.map((c) => `${c.agent} ${c.task} ${c.task_id}`);
  expect(new Set(keys).size, 'no task was called twice').toBe(keys.length);
}

function indexOf(result: GantryResult, event: RunEvent): number {
  return result.events.indexOf(event);
}

describe('gantry run flows/complete-deployment.json', () => {
  let slack: Awaited<ReturnType<typeof slackStandIn>>;
  const workspaces: Workspace[] = [];

  beforeAll(async () => {
    slack = await slackStandIn();
  });
  afterAll(async () => {
    await slack.close();
  });
  afterEach(() => {
    slack.requests.length = 0;
    for (const ws of workspaces.splice(0)) ws.remove();
  });

  async function deploy(args: string[], env: Record<string, string>, config: ConfigOptions = {}) {
    const ws = new Workspace();
    workspaces.push(ws);
    ws.write('gantry.config.json', configFor(ws, config));
    ws.write('push.json', readFixture('push.main.json'));
    const result = await ws.run(['run', FLOW, '--input', 'push.json', ...args], { SLACK_TOKEN: slack.webhookUrl, ...env });
    if (args.includes('--json')) expect(journalProblems(result, readFlow('complete-deployment.json')), explain(result)).toEqual([]);
    return { ws, result, calls: ws.calls() };
  }

  it('all passing, approved by --approve-as tech-lead --approve-as product-manager: every stage runs in order, Slack is notified, exit 0', async () => {
    const { result, calls } = await deploy(['--json', ...APPROVERS.flatMap((a) => ['--approve-as', a])], {});
    expect(result.code, explain(result)).toBe(0);
    const runId = runIdOf(result);
    expect(only(result, 'run.finished').status).toBe('succeeded');

    // Every agent task of the flow ran exactly once, on its node, and nothing else (no compensation).
    const expected = flowTasks();
    expect(calls.map((c) => `${c.node} ${c.agent}.${c.task}`).sort()).toEqual(expected.map((t) => `${t.node} ${t.agent}.${t.task}`).sort());
    expectIdempotencyKeys(calls, runId);
    // The chain after the gate runs in edge order.
    const chain = calls.filter((c) => c.node !== 'validation_orchestrator').map((c) => c.node);
    expect(chain).toEqual(['build_pipeline', 'staging_deployment', 'staging_validation', 'production_deployment', 'monitoring_setup']);
    // The validation agents saw the push payload.
    for (const call of calls.filter((c) => c.node === 'validation_orchestrator')) expect(call.inputs.after).toBe(readFixture<{ after: string }>('push.main.json').after);

    // Outputs (§3.1): a parallel node's is its agents' results merged in list order plus
    // `results` by agent; an agent node's is its reply's result with its metrics merged in.
    const validation = calls.filter((c) => c.node === 'validation_orchestrator');
    const listed = flowTasks().filter((t) => t.node === 'validation_orchestrator').map((t) => validation.find((c) => c.agent === t.agent)!);
    expect(only(result, 'node.succeeded', 'validation_orchestrator').output).toEqual({
      ...Object.assign({}, ...listed.map((c) => c.reply.result)),
      results: Object.fromEntries(listed.map((c) => [c.agent, c.reply.result])),
    });
    const build = calls.find((c) => c.node === 'build_pipeline')! as AgentCall & { reply: { metrics?: JsonObject } };
    expect(build.reply.metrics).toBeDefined();
    expect(only(result, 'node.succeeded', 'build_pipeline').output).toEqual({ ...build.reply.result, ...build.reply.metrics });

    // Approval: requested of both roles, decided by both through the CLI, before production.
    const requested = only(result, 'approval.requested', 'production_approval');
    expect(requested.approvers).toEqual(APPROVERS);
    const timeout = (readFlow('complete-deployment.json').nodes as { id: string; data: { timeout?: number } }[]).find((n) => n.id === 'production_approval')!.data.timeout!;
    expect(requested.deadline).toBe(requested.at + timeout * 1000);
    const decided = eventsOf(result, 'approval.decided', 'production_approval');
    expect(decided.map((d) => [d.principal, d.decision, d.channel])).toEqual(APPROVERS.map((a) => [a, 'approve', 'cli']));
    const production = only(result, 'node.started', 'production_deployment');
    for (const d of decided) expect(indexOf(result, d)).toBeLessThan(indexOf(result, production));
    expect(only(result, 'node.succeeded', 'quality_gate').labels).toEqual(['pass']);

    // The notification node posted one message to the Slack incoming webhook, naming the run.
    expect(slack.messages()).toHaveLength(1);
    expect(slack.messages()[0]!.text).toContain(runId);
    expect(slack.messages()[0]!.text).not.toContain(':rotating_light:');
    // The credential (the webhook URL) never enters the run history.
    expect(result.stdout).not.toContain(slack.webhookUrl);
    expect(result.stdout).not.toContain(new URL(slack.webhookUrl).pathname);
    expect(Object.values(nodeStates(result)).every((s) => s === 'succeeded'), JSON.stringify(nodeStates(result))).toBe(true);
    expect(eventsOf(result, 'notification.sent')).toEqual([]);
  });

  it('with a Slack bot token, the notification node posts to #engineering through chat.postMessage at connectors.slack.base_url', async () => {
    const { result } = await deploy(['--json', ...APPROVERS.flatMap((a) => ['--approve-as', a])], { SLACK_TOKEN: 'xoxb-2024-e2e-bot-token' }, { slackBaseUrl: slack.apiUrl });
    expect(result.code, explain(result)).toBe(0);
    const channel = (readFlow('complete-deployment.json').nodes as { id: string; data: JsonObject }[]).find((n) => n.id === 'notification')!.data.channel;
    expect(slack.messages(), 'not the webhook').toEqual([]);
    expect(slack.posted()).toHaveLength(1);
    const [post] = slack.posted();
    expect(post!.headers.authorization).toBe('Bearer xoxb-2024-e2e-bot-token');
    expect(post!.json).toMatchObject({ channel, text: expect.stringContaining(runIdOf(result)) });
    expect(only(result, 'node.succeeded', 'notification').output).toMatchObject({ ok: true, channel: 'C05ENGINEER' });
    expect(result.stdout).not.toContain('xoxb-2024-e2e-bot-token');
  });

  it('no --approve-as and no terminal: exits 4 and says which approval it waits for, without deploying to production', async () => {
    const { result, calls } = await deploy([], {});
    expect(result.code, explain(result)).toBe(4);
    expect(result.stdout).toMatch(/waiting for a human decision: production_approval \(by tech-lead, product-manager\)/);
    expect(result.stdout).toContain('--approve-as');
    // Everything before the approval ran; nothing after it.
    expect(calls.map((c) => c.node)).toContain('staging_validation');
    expect(calls.filter((c) => ['production_deployment', 'monitoring_setup'].includes(c.node))).toEqual([]);
    expect(slack.requests).toEqual([]);
  });

  it('the run\'s initiator (the push\'s sender) may not approve it, even holding an approver role: still waiting, exit 4', async () => {
    const sender = readFixture<{ sender: { login: string } }>('push.main.json').sender.login;
    const ws = new Workspace();
    workspaces.push(ws);
    ws.write('gantry.config.json', { ...configFor(ws), principals: { [sender]: { roles: ['tech-lead'] }, priya: { roles: ['product-manager'] } } });
    ws.write('push.json', readFixture('push.main.json'));
    const result = await ws.run(['run', FLOW, '--input', 'push.json', '--approve-as', sender, '--approve-as', 'priya'], { SLACK_TOKEN: slack.webhookUrl });
    expect(result.code, explain(result)).toBe(4);
    expect(result.stderr).toContain(sender);
    expect(result.stderr).toMatch(/may not approve/);
    expect(result.stdout).toMatch(/waiting for a human decision: production_approval/);
    expect(ws.calls().some((c) => c.node === 'production_deployment')).toBe(false);
  });

  // FINDING: DESIGN §7 — when nothing is left but a human decision and no terminal is there to
  // ask, `gantry run` "exits 4 and the run stays stored, to be decided with `approve` and
  // continued with `resume`". Today the run is kept in memory only ("This run was kept in memory
  // only and ends with this process") and the CLI has no `approve`, `resume` or `runs` command
  // (`gantry approve …` → exit 2, unknown command).
  it('exit 4 leaves the run stored: `gantry approve` decides it and `gantry resume` finishes it (DESIGN §7)', async () => {
    const { ws, result } = await deploy(['--json'], {});
    expect(result.code, explain(result)).toBe(4);
    const runId = runIdOf(result);
    for (const approver of APPROVERS) {
      const approve = await ws.run(['approve', runId, 'production_approval', '--as', approver], { SLACK_TOKEN: slack.webhookUrl });
      expect(approve.code, explain(approve)).toBe(0);
    }
    const resumed = await ws.run(['resume', runId], { SLACK_TOKEN: slack.webhookUrl });
    expect(resumed.code, explain(resumed)).toBe(0);
    const production = ws.calls().filter((c) => c.node === 'production_deployment');
    expect(production).toHaveLength(1);
    expect(production[0]!.task_id).toBe(`${runId}:production_deployment`);
  });

  it('`gantry resume` of several runs exits with the most urgent of their codes: one finishes, one still waits → 4', async () => {
    const first = await deploy(['--json'], {});
    const ws = first.ws;
    expect(first.result.code, explain(first.result)).toBe(4);
    const second = await ws.run(['run', FLOW, '--input', 'push.json', '--json'], { SLACK_TOKEN: slack.webhookUrl });
    expect(second.code, explain(second)).toBe(4);
    const decided = runIdOf(first.result);
    for (const approver of APPROVERS) {
      expect((await ws.run(['approve', decided, 'production_approval', '--as', approver])).code).toBe(0);
    }
    for (const order of ['first', 'again']) {
      const resumed = await ws.run(['resume', '--json'], { SLACK_TOKEN: slack.webhookUrl });
      expect(resumed.code, `${order}: ${explain(resumed)}`).toBe(4);
      // Each run's journal is shown once: what it held before, then what resuming added.
      const lines = resumed.events.map((e) => JSON.stringify(e));
      expect(lines.filter((l, i) => lines.indexOf(l) !== i), 'events shown twice').toEqual([]);
    }
    const statuses = JSON.parse((await ws.run(['runs', '--json'])).stdout) as { runId: string; status: string }[];
    expect(Object.fromEntries(statuses.map((r) => [r.runId, r.status]))).toEqual({ [decided]: 'succeeded', [runIdOf(second)]: 'waiting' });
  });

  it('one approver of two: by default every listed role must approve, so it still waits (exit 4) for the other', async () => {
    const { result, calls } = await deploy(['--json', '--approve-as', 'tech-lead'], {});
    expect(result.code, explain(result)).toBe(4);
    expect(eventsOf(result, 'approval.decided').map((d) => d.principal)).toEqual(['tech-lead']);
    expect(eventsOf(result, 'run.finished')).toEqual([]);
    const waiting = eventsOf(result, 'run.waiting').at(-1)!;
    expect(waiting.on).toEqual([expect.objectContaining({ nodeId: 'production_approval', kind: 'approval' })]);
    expect(calls.some((c) => c.node === 'production_deployment')).toBe(false);
  });

  it('blue_green_deployment fails: rollback compensates in reverse completion order, escalates to Slack at high severity, ends rolled_back (exit 1)', async () => {
    const { result, calls } = await deploy(
      ['--json', ...APPROVERS.flatMap((a) => ['--approve-as', a])],
      { GANTRY_E2E_FAIL: 'blue_green_deployment', E2E_SLACK_WEBHOOK: slack.webhookUrl, SLACK_TOKEN: '' },
      {
        compensations: COMPENSATIONS,
        notifications: { service: 'slack', action: 'send_notification', params: { channel: '#incidents' } },
        // The credential from a variable of our choosing, not the default SLACK_TOKEN.
        credentials: { slack_token: { env: 'E2E_SLACK_WEBHOOK' } },
      },
    );
    expect(result.code, explain(result)).toBe(1);
    const runId = runIdOf(result);
    const finished = only(result, 'run.finished');
    expect(finished.status).toBe('rolled_back');
    expect(finished.error).toMatchObject({ nodeId: 'production_deployment', code: 'AGENT_FAILED' });
    expect(only(result, 'node.failed', 'production_deployment')).toBeTruthy();
    expectIdempotencyKeys(calls, runId);

    // The expected order, from the journal: every succeeded node with a compensation, latest
    // completion first, then the failed node's own.
    const tasksOfNode = new Map(flowTasks().map((t) => [t.node, t]));
    const compensable = (node: string) => {
      const t = tasksOfNode.get(node);
      return t !== undefined && COMPENSATIONS[t.agent]?.[t.task] !== undefined;
    };
    const completed = eventsOf(result, 'node.succeeded').map((e) => e.nodeId!);
    const expectedOrder = [...completed.reverse().filter(compensable), 'production_deployment'].map((node) => {
      const t = tasksOfNode.get(node)!;
      return `${node} ${t.agent}.${COMPENSATIONS[t.agent]![t.task]}`;
    });
    expect(expectedOrder.length).toBeGreaterThanOrEqual(3);

    // What the agents were actually asked to do, after the failure.
    const failedAt = calls.findIndex((c) => c.task === 'blue_green_deployment');
    expect(calls[failedAt]!.reply.status).toBe('failed');
    const after = calls.slice(failedAt + 1);
    expect(after.map((c) => `${c.node} ${c.agent}.${c.task}`)).toEqual(expectedOrder);
    expect(after.every((c) => c.reply.status === 'succeeded')).toBe(true);
    // The journal agrees, and every compensation succeeded.
    expect(eventsOf(result, 'compensation.succeeded').map((e) => e.nodeId)).toEqual(expectedOrder.map((o) => o.split(' ')[0]));
    expect(eventsOf(result, 'compensation.failed')).toEqual([]);
    // A compensation sees what its node was given and produced: the staging release to undo.
    const staging = calls.find((c) => c.task === 'deploy_staging')!;
    const undoStaging = calls.find((c) => c.task === 'rollback_staging')!;
    expect(undoStaging.inputs.release).toBe(staging.reply.result!.release);
    // Nothing after the failed stage ran.
    expect(calls.some((c) => c.node === 'monitoring_setup')).toBe(false);
    expect(nodeStates(result).notification).toBe('skipped');

    // Escalation "immediate": a high-severity notification reached Slack, about the failed stage.
    const notice = only(result, 'notification.sent');
    expect(notice).toMatchObject({ severity: 'high', nodeId: 'production_deployment' });
    const messages = slack.messages();
    expect(messages, 'only the escalation: the notification node never ran').toHaveLength(1);
    expect(messages[0]!.text).toMatch(/^:rotating_light: /);
    expect(messages[0]!.text).toContain('production_deployment');
    expect(messages[0]!.text).toContain(String(calls[failedAt]!.reply.error!.message));
  });

  it('a compensation that fails: the others are still tried, and the run ends failed rather than rolled_back (exit 1)', async () => {
    const { result, calls } = await deploy(
      ['--json', ...APPROVERS.flatMap((a) => ['--approve-as', a])],
      { GANTRY_E2E_FAIL: 'blue_green_deployment,rollback_staging' },
      { compensations: COMPENSATIONS, notifications: { service: 'slack', action: 'send_notification' } },
    );
    expect(result.code, explain(result)).toBe(1);
    expect(only(result, 'run.finished')).toMatchObject({ status: 'failed', error: { nodeId: 'production_deployment' } });
    expect(eventsOf(result, 'compensation.failed').map((e) => e.nodeId)).toEqual(['staging_deployment']);
    // The compensations after the failed one still ran.
    const undo = calls.slice(calls.findIndex((c) => c.task === 'blue_green_deployment') + 1).map((c) => `${c.task}:${c.reply.status}`);
    expect(undo).toEqual(['rollback_staging:failed', 'discard_build:succeeded', 'rollback_production:succeeded']);
    expect(slack.messages().filter((m) => m.text.startsWith(':rotating_light:'))).toHaveLength(1);
  });

  it('quality gate fails (no fail edge, no fail_action): GATE_FAILED reaches block_deployment with a notification, exit 3', async () => {
    const { result, calls } = await deploy(['--json', ...APPROVERS.flatMap((a) => ['--approve-as', a])], { GANTRY_E2E_PROFILE: 'poor' }, {
      compensations: COMPENSATIONS,
      notifications: { service: 'slack', action: 'send_notification', params: { channel: '#deploys' } },
    });
    expect(result.code, explain(result)).toBe(3);
    expect(only(result, 'run.finished').status).toBe('blocked');

    // Only the validation agents ran; the gate failed on their scores.
    expect(new Set(calls.map((c) => c.node))).toEqual(new Set(['validation_orchestrator']));
    const failed = only(result, 'node.failed', 'quality_gate');
    expect((failed.error as { code: string }).code).toBe('GATE_FAILED');
    const scores = Object.assign({}, ...calls.map((c) => c.reply.result)) as Record<string, number>;
    const checks = ((failed.error as { details: { checks: { metric: string; actual: unknown; passed: boolean }[] } }).details).checks;
    expect(checks.map((c) => [c.metric, c.actual])).toEqual([
      ['code_quality_score', scores.code_quality_score],
      ['security_vulnerabilities', scores.security_vulnerabilities],
      ['test_coverage', scores.test_coverage],
    ]);
    expect(checks.some((c) => !c.passed)).toBe(true);
    const states = nodeStates(result);
    for (const node of ['build_pipeline', 'staging_deployment', 'production_approval', 'production_deployment', 'notification']) expect(states[node], node).toBe('skipped');
    expect(eventsOf(result, 'approval.requested')).toEqual([]);
    expect(eventsOf(result, 'run.waiting'), 'nothing waits for a human or a timer').toEqual([]);
    expect(eventsOf(result, 'compensation.started')).toEqual([]);

    // notification: true → one normal-severity notification through the configured notifier.
    expect(only(result, 'notification.sent')).toMatchObject({ severity: 'normal', nodeId: 'quality_gate' });
    const messages = slack.messages();
    expect(messages).toHaveLength(1);
    expect(messages[0]!.text).toContain('quality_gate');
    expect(messages[0]!.text).not.toContain(':rotating_light:');
  });
});
