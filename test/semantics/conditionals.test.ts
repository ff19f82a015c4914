/**
 * DESIGN §3.3 Conditionals and edge conditions: the gate form (operators, missing metrics,
 * pass/fail labels, unconditioned edges, fail_action, GATE_FAILED), the router form (labels,
 * edges selected by label or by target id, default, agents), and error edges as catch routes.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { eventsOf, FINDING, flow, offset, outputOf, probe, table, type Row } from './harness.js';

const gate = (id: string, conditions: object[], extra: object = {}) => ({ id, type: 'conditional', data: { conditions, ...extra } });
const router = (id: string, conditions: object[]) => ({ id, type: 'conditional', data: { conditions } });

/**
 * One check per row: a source outputs `{ m: actual }` (or nothing when `actual` is undefined),
 * a lone gate with fail_action block_deployment tests `m`, so a pass ends the run succeeded and
 * a fail ends it blocked, with no edge to skip.
 */
const operatorCases: [actual: JsonValue | undefined, operator: string, value: JsonValue, passes: boolean][] = [
  [5, '=', 5, true],
  ['5', '=', 5, true],
  [5, '==', 6, false],
  ['main', '==', 'main', true],
  [{ x: 1 }, '=', { x: 1 }, true],
  [1, '!=', 2, true],
  [2, '!=', 2, false],
  [8, '>', 7.5, true],
  [7.5, '>', 7.5, false],
  ['10', '>', 9, true],
  [7.5, '>=', 7.5, true],
  [7, '>=', 7.5, false],
  [1, '<', 2, true],
  [2, '<', 2, false],
  [2, '<=', 2, true],
  [3, '<=', 2, false],
  ['b', 'in', ['a', 'b'], true],
  ['c', 'in', ['a', 'b'], false],
  ['c', 'not_in', ['a', 'b'], true],
  ['a', 'not_in', ['a', 'b'], false],
  ['hello world', 'contains', 'world', true],
  [['x', 'y'], 'contains', 'y', true],
  [['x'], 'contains', 'z', false],
  ['release-1.2', 'matches', '^release-\\d', true],
  ['hotfix-1', 'matches', '^release-\\d', false],
  [undefined, '>', 1, false],
  [undefined, '!=', 1, false],
  [undefined, 'not_in', [1], false],
];

const operatorRows: Row[] = operatorCases.map(([actual, operator, value, passes]) => ({
  name: `${JSON.stringify(actual) ?? 'a missing metric'} ${operator} ${JSON.stringify(value)} ${passes ? 'passes' : 'fails'}`,
  flow: flow(
    [probe('src', { out: actual === undefined ? { other: 1 } : { m: actual } }), gate('gate', [{ metric: 'm', operator, value }], { fail_action: 'block_deployment' })],
    [{ from: 'src', to: 'gate' }],
  ),
  status: passes ? 'succeeded' : 'blocked',
  nodes: { gate: 'succeeded' },
  check: ({ run }) => {
    const out = outputOf(run, 'gate') as JsonObject;
    expect(out.outcome).toBe(passes ? 'pass' : 'fail');
    expect(out.checks).toEqual([
      { metric: 'm', operator, expected: value, actual: actual === undefined ? null : actual, passed: passes, ...(actual === undefined ? { missing: true } : {}) },
    ]);
    expect(run.state().nodes.get('gate')?.labels).toEqual([passes ? 'pass' : 'fail']);
  },
}));

const gateRows: Row[] = [
  {
    name: 'a passing gate takes its pass edge and not its fail edge',
    flow: flow([probe('src', { out: { score: 9 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }]), probe('deploy'), probe('fix')], [
      { from: 'src', to: 'gate' },
      { from: 'gate', to: 'deploy', condition: 'pass' },
      { from: 'gate', to: 'fix', condition: 'fail' },
    ]),
    status: 'succeeded',
    nodes: { gate: 'succeeded', deploy: 'succeeded', fix: 'skipped' },
    taken: { gate: ['deploy'] },
  },
  {
    name: 'a failing gate with a fail edge succeeds and takes the fail edge',
    flow: flow([probe('src', { out: { score: 2 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }]), probe('deploy'), probe('fix')], [
      { from: 'src', to: 'gate' },
      { from: 'gate', to: 'deploy', condition: 'pass' },
      { from: 'gate', to: 'fix', condition: 'fail' },
    ]),
    status: 'succeeded',
    nodes: { gate: 'succeeded', deploy: 'skipped', fix: 'succeeded' },
    taken: { gate: ['fix'] },
  },
  {
    name: 'unconditioned edges out of a gate are taken on a pass',
    flow: flow([probe('src', { out: { score: 9 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }], { fail_action: 'block_deployment' }), probe('deploy'), probe('report')], [
      { from: 'src', to: 'gate' },
      { from: 'gate', to: 'deploy', condition: 'pass' },
      { from: 'gate', to: 'report' },
    ]),
    status: 'succeeded',
    nodes: { deploy: 'succeeded', report: 'succeeded' },
    taken: { gate: ['deploy', 'report'] },
  },
  {
    name: 'block_deployment: nothing behind the pass edge runs, the report does, and the run ends blocked after it',
    flow: flow(
      [probe('src', { out: { score: 2 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }], { fail_action: 'block_deployment' }), probe('deploy'), probe('report', { sleep_ms: 10_000 })],
      [{ from: 'src', to: 'gate' }, { from: 'gate', to: 'deploy', condition: 'pass' }, { from: 'gate', to: 'report' }],
    ),
    status: 'blocked',
    nodes: { gate: 'succeeded', deploy: 'skipped', report: 'succeeded' },
    taken: { gate: ['report'] },
    check: ({ events }) => expect(offset(events, 'node.succeeded', 'report')).toBe(10_000),
  },
  {
    name: 'a failing gate with neither a fail edge nor a fail_action fails with GATE_FAILED, listing the checks',
    flow: flow([probe('src', { out: { score: 2, vulns: 0 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }, { metric: 'vulns', operator: '=', value: 0 }])], [{ from: 'src', to: 'gate' }]),
    status: 'failed',
    nodes: { gate: 'failed' },
    check: ({ run, result }) => {
      const error = run.state().nodes.get('gate')?.error;
      expect(error?.code).toBe('GATE_FAILED');
      expect(error?.message).toContain('score > 5');
      expect((error?.details as JsonObject).checks).toEqual([
        { metric: 'score', operator: '>', expected: 5, actual: 2, passed: false },
        { metric: 'vulns', operator: '=', expected: 0, actual: 0, passed: true },
      ]);
      expect(result.error).toMatchObject({ code: 'GATE_FAILED', nodeId: 'gate' });
    },
  },
  {
    name: 'GATE_FAILED names the failing checks with their values even when the gate maps its output elsewhere',
    flow: flow(
      [probe('src', { out: { p95: 862.5 } }), { ...gate('gate', [{ metric: 'p95', operator: '<=', value: 500 }]), output: { verdict: '{% $ %}' } }],
      [{ from: 'src', to: 'gate' }],
    ),
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('gate')?.error?.message).toBe('gate "gate" failed: p95 <= 500 (was 862.5)'),
  },
  {
    name: 'fail_action "fail" fails the gate with GATE_FAILED as well',
    flow: flow([probe('src', { out: { score: 2 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }], { fail_action: 'fail' })], [{ from: 'src', to: 'gate' }]),
    status: 'failed',
    check: ({ run }) => expect(run.state().nodes.get('gate')?.error?.code).toBe('GATE_FAILED'),
  },
  {
    name: "GATE_FAILED reaches the gate's error handler (the design document's complete pipeline blocks this way)",
    flow: flow([probe('src', { out: { score: 2 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }]), probe('build')], [{ from: 'src', to: 'gate' }, { from: 'gate', to: 'build', condition: 'pass' }], {
      error_handlers: [{ stage: 'gate', action: 'block_deployment', notification: true }],
    }),
    status: 'blocked',
    nodes: { gate: 'failed', build: 'skipped' },
    check: (_, h) => expect(h.notes.map((n) => [n.nodeId, n.severity])).toEqual([['gate', 'normal']]),
  },
  {
    name: 'a failing gate passes the run on through an error edge (a catch route)',
    flow: flow([probe('src', { out: { score: 2 } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }]), probe('handle')], [{ from: 'src', to: 'gate' }, { from: 'gate', to: 'handle', condition: 'error' }]),
    status: 'succeeded',
    nodes: { gate: 'failed', handle: 'succeeded' },
    check: ({ run }) => expect((run.state().nodes.get('handle')?.input as { error: { code: string } }).error.code).toBe('GATE_FAILED'),
  },
  {
    name: 'a metric is a dotted path into the input, or an expression; a value can be an expression',
    flow: flow(
      [
        probe('src', { out: { scan: { high: 0, items: [{ sev: 'low' }] }, a: 2, b: 3 } }),
        gate(
          'gate',
          [
            { metric: 'scan.high', operator: '=', value: 0 },
            { metric: 'scan.items.0.sev', operator: '=', value: 'low' },
            { metric: '{% a + b %}', operator: '>=', value: '{% $params.min %}' },
          ],
          { fail_action: 'block_deployment' },
        ),
      ],
      [{ from: 'src', to: 'gate' }],
      { params: { min: { type: 'number', default: 5 } } },
    ),
    status: 'succeeded',
    check: ({ run }) => {
      const checks = (outputOf(run, 'gate') as JsonObject).checks as JsonObject[];
      expect(checks.map((c) => [c.actual, c.expected, c.passed])).toEqual([
        [0, 0, true],
        ['low', 'low', true],
        [5, 5, true],
      ]);
    },
  },
  {
    name: 'the same gate blocks when a param raises the bar',
    flow: flow(
      [probe('src', { out: { a: 2, b: 3 } }), gate('gate', [{ metric: '{% a + b %}', operator: '>=', value: '{% $params.min %}' }], { fail_action: 'block_deployment' })],
      [{ from: 'src', to: 'gate' }],
      { params: { min: { type: 'number', default: 5 } } },
    ),
    start: { params: { min: 6 } },
    status: 'blocked',
  },
  {
    name: "a gate's output passes its input on, with the outcome and the pass_action",
    flow: flow([probe('src', { out: { score: 9, sha: 'abc' } }), gate('gate', [{ metric: 'score', operator: '>', value: 5 }], { pass_action: 'proceed', fail_action: 'block_deployment' })], [{ from: 'src', to: 'gate' }]),
    status: 'succeeded',
    check: ({ run }) => expect(outputOf(run, 'gate')).toMatchObject({ score: 9, sha: 'abc', outcome: 'pass', passed: true, action: 'proceed' }),
  },
];

const routerAgents = {
  canary: moduleAgent({ canary: (inputs) => ({ started: true, saw: inputs.env ?? null }) }),
  pager: moduleAgent({ notify: () => ({ paged: 'oncall' }) }),
};

const routerRows: Row[] = [
  {
    name: 'every if that holds selects its label: edges by label and unconditioned edges to the named node are taken',
    flow: flow(
      [
        probe('src', { out: { risk: 8, notify: true, env: 'prod' } }),
        router('route', [
          { if: '{% risk > 5 %}', then: 'canary' },
          { if: 'notify', then: 'notify' },
          { if: '{% risk > 100 %}', then: 'never' },
        ]),
        probe('canary_deploy'),
        probe('notify'),
        probe('audit'),
      ],
      [
        { from: 'src', to: 'route' },
        { from: 'route', to: 'canary_deploy', condition: 'canary' },
        { from: 'route', to: 'notify' },
        { from: 'route', to: 'audit' },
      ],
    ),
    status: 'succeeded',
    nodes: { canary_deploy: 'succeeded', notify: 'succeeded', audit: 'succeeded' },
    taken: { route: ['canary_deploy', 'notify', 'audit'] },
    check: ({ run }) => {
      expect(run.state().nodes.get('route')?.labels).toEqual(['canary', 'notify']);
      expect(outputOf(run, 'route')).toMatchObject({ risk: 8, env: 'prod', routes: ['canary', 'notify'] });
    },
  },
  {
    name: 'an unselected label: its edges and its unconditioned edge to the named node are not taken',
    flow: flow(
      [probe('src', { out: { risk: 1, notify: false } }), router('route', [{ if: '{% risk > 5 %}', then: 'canary' }, { if: 'notify', then: 'notify' }, { if: '{% risk < 5 %}', then: 'direct' }]), probe('canary_deploy'), probe('notify'), probe('direct_deploy'), probe('audit')],
      [
        { from: 'src', to: 'route' },
        { from: 'route', to: 'canary_deploy', condition: 'canary' },
        { from: 'route', to: 'notify' },
        { from: 'route', to: 'direct_deploy', condition: 'direct' },
        { from: 'route', to: 'audit' },
      ],
    ),
    status: 'succeeded',
    nodes: { canary_deploy: 'skipped', notify: 'skipped', direct_deploy: 'succeeded', audit: 'succeeded' },
    taken: { route: ['direct_deploy', 'audit'] },
  },
  {
    name: 'default is taken when nothing matched',
    flow: flow(
      [probe('src', { out: { risk: 1 } }), router('route', [{ if: '{% risk > 5 %}', then: 'canary' }]), probe('canary_deploy'), probe('fallback')],
      [{ from: 'src', to: 'route' }, { from: 'route', to: 'canary_deploy', condition: 'canary' }, { from: 'route', to: 'fallback', condition: 'default' }],
    ),
    status: 'succeeded',
    nodes: { canary_deploy: 'skipped', fallback: 'succeeded' },
    taken: { route: ['fallback'] },
  },
  {
    name: 'default is not taken when a label matched',
    flow: flow(
      [probe('src', { out: { risk: 9 } }), router('route', [{ if: '{% risk > 5 %}', then: 'canary' }]), probe('canary_deploy'), probe('fallback')],
      [{ from: 'src', to: 'route' }, { from: 'route', to: 'canary_deploy', condition: 'canary' }, { from: 'route', to: 'fallback', condition: 'default' }],
    ),
    status: 'succeeded',
    nodes: { canary_deploy: 'succeeded', fallback: 'skipped' },
    taken: { route: ['canary_deploy'] },
  },
  {
    name: "a selected label's agents are called with task `then`; their results are in the output under the label",
    flow: flow(
      [probe('src', { out: { risk: 9, env: 'prod' } }), router('route', [{ if: '{% risk > 5 %}', then: 'canary', agents: ['canary'] }, { if: '{% risk > 0 %}', then: 'notify', agents: ['pager'] }]), probe('next')],
      [{ from: 'src', to: 'route' }, { from: 'route', to: 'next' }],
    ),
    harness: { agents: routerAgents },
    status: 'succeeded',
    check: ({ run }) => {
      expect(outputOf(run, 'route')).toMatchObject({
        routes: ['canary', 'notify'],
        canary: { started: true, saw: 'prod', results: { canary: { started: true, saw: 'prod' } } },
        notify: { paged: 'oncall', results: { pager: { paged: 'oncall' } } },
      });
    },
  },
  {
    name: "an unselected label's agents are not called",
    flow: flow(
      [probe('src', { out: { risk: 1 } }), router('route', [{ if: '{% risk > 5 %}', then: 'canary', agents: ['canary'] }, { if: '{% risk > 0 %}', then: 'low' }]), probe('next')],
      [{ from: 'src', to: 'route' }, { from: 'route', to: 'next' }],
    ),
    harness: {
      agents: {
        canary: moduleAgent(() => {
          throw new Error('must not be called');
        }),
      },
    },
    status: 'succeeded',
    check: ({ run }) => {
      expect(outputOf(run, 'route')).toEqual({ risk: 1, routes: ['low'] });
    },
  },
];

const errorEdgeRows: Row[] = [
  {
    name: 'an error edge is taken once the source failed after its retries',
    flow: flow(
      [probe('flaky', { fail: { retryable: true } }, { retry: { max_attempts: 3, backoff: 'fixed', initial_seconds: 1, jitter: false } }), probe('recover')],
      [{ from: 'flaky', to: 'recover', condition: 'error' }],
    ),
    status: 'succeeded',
    nodes: { flaky: 'failed', recover: 'succeeded' },
    check: ({ events, run }) => {
      expect(eventsOf(events, 'node.retrying', 'flaky')).toHaveLength(2);
      expect(offset(events, 'node.started', 'recover')).toBe(2_000);
      expect(run.state().nodes.get('recover')?.input).toMatchObject({ error: { code: 'AGENT_FAILED', retryable: true } });
    },
  },
  {
    name: 'an error edge is not taken when the source succeeds',
    flow: flow([probe('ok'), probe('recover'), probe('next')], [{ from: 'ok', to: 'recover', condition: 'error' }, { from: 'ok', to: 'next' }]),
    status: 'succeeded',
    nodes: { ok: 'succeeded', recover: 'skipped', next: 'succeeded' },
    taken: { ok: ['next'] },
  },
  {
    name: 'a failure routed by an error edge is handled: the error handler does not act',
    flow: flow([probe('bad', { fail: {} }), probe('recover')], [{ from: 'bad', to: 'recover', condition: 'error' }], { error_handlers: [{ stage: '*', action: 'block_deployment', notification: true }] }),
    status: 'succeeded',
    check: (_, h) => expect(h.notes).toEqual([]),
  },
];

describe('DESIGN §3.3 gate operators', () => {
  table(operatorRows, it);
});

describe('DESIGN §3.3 gate form', () => {
  table(gateRows, it);
});

describe('DESIGN §3.3 router form', () => {
  table(routerRows, it);
});

describe('DESIGN §3.3 error edges', () => {
  table(errorEdgeRows, it);
});
