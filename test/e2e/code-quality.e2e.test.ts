/**
 * flows/code-quality.json end to end: `gantry run` as a child process, a GitHub pull_request
 * webhook body as the trigger, the test agent module as every reviewer, and a loopback GitHub
 * that receives the PR review.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  configFor,
  explain,
  eventsOf,
  finding,
  FLOWS,
  githubStandIn,
  journalProblems,
  nodeStates,
  only,
  readFixture,
  readFlow,
  runIdOf,
  Workspace,
  type AgentCall,
  type GantryResult,
  type JsonObject,
  type StandIn,
} from './harness.js';

const FLOW = `${FLOWS}/code-quality.json`;
const GITHUB_APP_TOKEN = 'ghs_e2eAppInstallationToken0123456789';
const GITHUB_TOKEN = 'ghp_e2eWrongTokenThatMustNotBeUsed0000';

interface PullRequestPayload extends JsonObject {
  number: number;
  repository: { full_name: string } & JsonObject;
  files: ({ filename: string } & JsonObject)[];
}

/** The review areas the test itself expects for a path (its own oracle, not the engine's). */
function areaOf(path: string): 'backend' | 'frontend' | 'test' | 'docs' {
  if (/(^|\/)tests?\//.test(path) || /\.test\.[jt]sx?$/.test(path)) return 'test';
  if (path.endsWith('.md')) return 'docs';
  if (/\.(tsx|jsx|css|scss|html|vue)$/.test(path)) return 'frontend';
  if (/\.(py|go|java|rb|rs)$/.test(path)) return 'backend';
  throw new Error(`the test has no area for ${path}`);
}

const REVIEWER_OF = {
  backend: { agent: 'senior-backend-developer', task: 'backend_review' },
  frontend: { agent: 'senior-frontend-developer', task: 'frontend_review' },
  test: { agent: 'testing-qa-validator', task: 'test_review' },
} as const;

/** Which reviewers (agent.task) a PR's files call for, plus the security scan that always runs. */
function expectedReviewers(payload: PullRequestPayload): string[] {
  const areas = new Set(payload.files.map((f) => areaOf(f.filename)));
  const reviewers = (Object.keys(REVIEWER_OF) as (keyof typeof REVIEWER_OF)[]).filter((a) => areas.has(a)).map((a) => `${REVIEWER_OF[a].agent}.${REVIEWER_OF[a].task}`);
  return [...reviewers, 'semgrep-security-analyzer.comprehensive_security_scan'].sort();
}

/**
 * The score the design document's weights give the agents' replies, computed by the test from
 * the call log: security is the lowest security score, code quality and performance the mean of
 * the reviewers', coverage a percentage (÷10 as a score); the weights are read from the flow, and
 * a dimension nobody reported is left out with the weights renormalised.
 */
function expectedScores(calls: AgentCall[]) {
  const results = (agent: string) => calls.filter((c) => c.agent === agent && c.reply.status === 'succeeded').map((c) => c.reply.result!);
  const nums = (values: (JsonObject[string] | undefined)[]) => values.filter((v): v is number => typeof v === 'number');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const reviewers = [...results('senior-backend-developer'), ...results('senior-frontend-developer')];
  const security = Math.min(...nums(results('semgrep-security-analyzer').map((r) => r.security_score)));
  const codeQuality = mean(nums(reviewers.map((r) => r.code_quality_score)));
  const coverage = mean(nums(results('testing-qa-validator').map((r) => r.test_coverage)));
  const performance = mean(nums(reviewers.map((r) => r.performance_score)));
  const aggregator = (readFlow('code-quality.json').nodes as JsonObject[]).find((n) => n.id === 'result_aggregator')!;
  const w = (aggregator.data as { weight_factors: Record<string, number> }).weight_factors;
  const dims: [number, number][] = [
    [security, w.security!],
    [codeQuality, w.code_quality!],
    [coverage / 10, w.test_coverage!],
    [performance, w.performance!],
  ].filter(([v]) => Number.isFinite(v)) as [number, number][];
  const total = dims.reduce((s, [, wt]) => s + wt, 0);
  const overall = dims.reduce((s, [v, wt]) => s + v * wt, 0) / total;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return { overall_score: r2(overall), security_score: r2(security), test_coverage: r2(coverage) };
}

function succeededOutput(result: GantryResult, nodeId: string): JsonObject {
  return only(result, 'node.succeeded', nodeId).output as JsonObject;
}

/** Every agent call was made once, for this run, under the node's idempotency key. */
function expectIdempotencyKeys(calls: AgentCall[], runId: string): void {
  for (const call of calls) {
    expect(call.run.id).toBe(runId);
    // The router's agents each have their own key: the node's, plus the agent and task.
    const own = call.node === 'agent_router' ? `:${call.agent}.${call.task}` : '';
    expect(call.task_id).toBe(`${runId}:${call.node}${own}`);
    expect(call.attempt).toBe(1);
  }
  const keys = calls.map((c) => `${c.agent} ${c.task_id}`);
  expect(new Set(keys).size, 'no agent was called twice for one node').toBe(keys.length);
}

describe('gantry run flows/code-quality.json (GitHub pull_request webhook)', () => {
  let github: StandIn;
  const workspaces: Workspace[] = [];

  beforeAll(async () => {
    github = await githubStandIn();
  });
  afterAll(async () => {
    await github.close();
  });
  afterEach(() => {
    github.requests.length = 0;
    for (const ws of workspaces.splice(0)) ws.remove();
  });

  async function runReview(payload: PullRequestPayload, profile: 'healthy' | 'poor') {
    const ws = new Workspace();
    workspaces.push(ws);
    ws.write('gantry.config.json', configFor(ws, { githubBaseUrl: github.url }));
    ws.write('pull_request.json', payload);
    // Engine logs on stderr too, to check that no credential reaches them.
    const result = await ws.run(['run', FLOW, '--input', 'pull_request.json', '--json', '--log-level', 'debug'], {
      GANTRY_E2E_PROFILE: profile,
      GITHUB_APP: GITHUB_APP_TOKEN,
      GITHUB_TOKEN,
    });
    // Whatever the outcome, the journal is well formed and nothing ever waited.
    expect(journalProblems(result, readFlow('code-quality.json')), explain(result)).toEqual([]);
    expect(eventsOf(result, 'run.waiting')).toEqual([]);
    // Credentials never enter the run history or the logs (DESIGN §5, §4).
    expect(result.stdout).not.toContain(GITHUB_APP_TOKEN);
    expect(result.stderr).not.toContain(GITHUB_APP_TOKEN);
    return { ws, result, calls: ws.calls() };
  }

  it('passing scores: routes to the reviewers the changed files call for, fans in, passes the gate and posts one PR review', async () => {
    const payload = readFixture<PullRequestPayload>('pull_request.opened.json');
    const { result, calls } = await runReview(payload, 'healthy');
    expect(result.code, explain(result)).toBe(0);
    const runId = runIdOf(result);
    expect(only(result, 'run.finished').status).toBe('succeeded');

    // Who was called: one reviewer per area the files fall in, and the security scan.
    expect(calls.map((c) => `${c.agent}.${c.task}`).sort()).toEqual(expectedReviewers(payload));
    expect(expectedReviewers(payload)).toHaveLength(4); // the fixture really touches backend, frontend and tests
    expectIdempotencyKeys(calls, runId);
    for (const call of calls.filter((c) => c.node === 'agent_router')) {
      // A reviewer sees the analysis of the whole change.
      expect((call.inputs.files as { path: string }[]).map((f) => f.path).sort()).toEqual(payload.files.map((f) => f.filename).sort());
    }
    expect(calls.find((c) => c.agent === 'semgrep-security-analyzer')!.node).toBe('security_scan');

    // The router selected one label per area, and ran in parallel with the security scan.
    const router = only(result, 'node.succeeded', 'agent_router');
    expect([...(router.labels as string[])].sort()).toEqual(['backend_review', 'frontend_review', 'test_review']);

    // Fan-in: result_aggregator ran once, after both branches, with both branches' outputs.
    const aggregatorStart = only(result, 'node.started', 'result_aggregator');
    for (const branch of ['agent_router', 'security_scan']) {
      expect(result.events.indexOf(only(result, 'node.succeeded', branch))).toBeLessThan(result.events.indexOf(aggregatorStart));
    }
    // The router ran beside the security scan: both started before either finished.
    const starts = ['agent_router', 'security_scan'].map((n) => result.events.indexOf(only(result, 'node.started', n)));
    const ends = ['agent_router', 'security_scan'].map((n) => result.events.indexOf(only(result, 'node.succeeded', n)));
    expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
    // Its input is the shallow merge of both outputs, in the order the edges are listed (§3.1).
    const fanIn = aggregatorStart.input as JsonObject;
    expect(fanIn).toEqual({ ...succeededOutput(result, 'agent_router'), ...succeededOutput(result, 'security_scan') });
    expect(Object.keys(fanIn)).toEqual(expect.arrayContaining(['backend_review', 'frontend_review', 'test_review', 'security_score']));

    // The weighted score is the design's weights over what the agents replied.
    const expected = expectedScores(calls);
    expect(succeededOutput(result, 'result_aggregator')).toMatchObject(expected);
    const gate = only(result, 'node.succeeded', 'quality_gate');
    expect(gate.labels).toEqual(['pass']);
    expect(gate.blocked).toBeUndefined();

    // Exactly one review, on the PR of the payload, authenticated with github_app, naming the scores.
    expect(github.requests).toHaveLength(1);
    const [review] = github.requests;
    expect(review!.method).toBe('POST');
    expect(review!.url).toBe(`/repos/${payload.repository.full_name}/pulls/${payload.number}/reviews`);
    expect(review!.headers.authorization).toBe(`Bearer ${GITHUB_APP_TOKEN}`);
    const body = (review!.json as { body: string }).body;
    expect(body).toMatch(/pass/i);
    for (const [metric, value] of Object.entries(expected)) {
      expect(body).toContain(metric);
      expect(body).toContain(String(value));
    }
    expect(succeededOutput(result, 'github_integration')).toMatchObject({ status: 200, state: 'COMMENTED' });
    expect(Object.values(nodeStates(result)).every((s) => s === 'succeeded')).toBe(true);
  });

  // FINDING: DESIGN §4 — "Logs are pino JSON with runId, nodeId, attempt". With --log-level
  // debug the connector's log line ("connector call") carries runId and nodeId but no attempt
  // (and names "service" twice in one JSON object).
  it('engine logs (--log-level debug) carry runId, nodeId and attempt on every node\'s line', async () => {
    const payload = readFixture<PullRequestPayload>('pull_request.opened.json');
    const { result } = await runReview(payload, 'healthy');
    expect(result.code, explain(result)).toBe(0);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length, 'some logs at debug level').toBeGreaterThan(0);
    for (const line of lines.filter((l) => l.nodeId !== undefined)) {
      expect(line, JSON.stringify(line)).toMatchObject({ runId: runIdOf(result), nodeId: expect.any(String), attempt: expect.any(Number) });
    }
  });

  it('failing scores: the gate fails with block_deployment, the review is still posted, and the run ends blocked (exit 3)', async () => {
    // A backend-and-tests change: the frontend reviewer has nothing to review.
    const base = readFixture<PullRequestPayload>('pull_request.opened.json');
    const payload: PullRequestPayload = { ...base, files: base.files.filter((f) => areaOf(f.filename) !== 'frontend') };
    const { result, calls } = await runReview(payload, 'poor');
    expect(result.code, explain(result)).toBe(3);
    const runId = runIdOf(result);

    expect(calls.map((c) => `${c.agent}.${c.task}`).sort()).toEqual(expectedReviewers(payload));
    expect(calls.some((c) => c.agent === 'senior-frontend-developer')).toBe(false);
    expectIdempotencyKeys(calls, runId);
    expect(only(result, 'node.succeeded', 'agent_router').labels).toEqual(['backend_review', 'test_review']);

    // The journal: quality_gate succeeded with the label "fail" and marked the run blocked.
    const gate = only(result, 'node.succeeded', 'quality_gate');
    expect(gate.labels).toEqual(['fail']);
    expect(gate.blocked).toBe(true);
    expect(eventsOf(result, 'node.failed')).toEqual([]);
    const expected = expectedScores(calls);
    const checks = (gate.output as { checks: { metric: string; actual: unknown; passed: boolean }[] }).checks;
    expect(checks.map((c) => [c.metric, c.actual, c.passed])).toEqual([
      ['overall_score', expected.overall_score, expected.overall_score >= 7.5],
      ['security_score', expected.security_score, expected.security_score >= 8],
      ['test_coverage', expected.test_coverage, expected.test_coverage >= 80],
    ]);
    expect(checks.some((c) => !c.passed)).toBe(true);
    expect(only(result, 'run.finished').status).toBe('blocked');

    // The unconditioned edge out of the gate is taken either way: the review reports the failure.
    expect(nodeStates(result).github_integration).toBe('succeeded');
    expect(github.requests).toHaveLength(1);
    expect(github.requests[0]!.url).toBe(`/repos/${payload.repository.full_name}/pulls/${payload.number}/reviews`);
    const body = (github.requests[0]!.json as { body: string }).body;
    expect(body).toMatch(/fail/i);
    expect(body).toContain(String(expected.security_score));
    expect(body).toContain(String(expected.overall_score));
  });
});
