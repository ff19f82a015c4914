import { describe, expect, it } from 'vitest';
import { iterationsIn, plannedItems } from './iterations';
import { applyBatch, emptyFold } from './run-fold';
import type { RunEvent, RunGraph } from './wire';

const P = 'root.production_deployment';
const step = (i: number) => `${P}.gradual_traffic_switch[${i}]`;
const checks = (p95: number) => [
  { metric: 'error_rate_percent', operator: '<=', expected: 1, actual: 0, passed: true },
  { metric: 'p95_latency_ms', operator: '<=', expected: 500, actual: p95, passed: p95 <= 500 },
];

function fold(runId: string, events: Omit<RunEvent, 'runId'>[]) {
  const f = emptyFold(runId);
  applyBatch(f, 0, events.map((e) => ({ ...e, runId })));
  return f;
}

const graph: RunGraph = {
  name: 'Production Blue-Green Deployment',
  hash: 'h',
  nodes: [{ id: 'gradual_traffic_switch', type: 'subflow', join: 'any', for_each: '{% $params.traffic_steps %}', max_attempts: 1, detail: { flow: 'traffic-step.json' } }],
  edges: [],
  error_handlers: [],
};

describe('for_each iterations (the traffic steps)', () => {
  it('lists every planned step, each with its gate\'s readings against their limits, where it stopped, and the rollback', () => {
    const parent = fold(P, [
      { type: 'run.started', at: 0, params: { traffic_steps: [10, 25, 50, 75, 100] }, parent: { runId: 'root', path: 'production_deployment' } },
      { type: 'node.failed', at: 50, nodeId: 'gradual_traffic_switch', attempt: 1, error: { code: 'SUBFLOW_FAILED', message: 'item 1' } },
      { type: 'compensation.started', at: 51, nodeId: 'gradual_traffic_switch', attempt: 1 },
      { type: 'compensation.succeeded', at: 52, nodeId: 'gradual_traffic_switch', attempt: 1 },
    ]);
    const first = fold(step(0), [
      { type: 'run.started', at: 1, params: { percentage: 10 }, parent: { runId: P, path: 'gradual_traffic_switch[0]' } },
      // The shipped gate's output mapping nests its checks: { percentage, metrics, checks: { …, checks: [...] } }.
      { type: 'node.succeeded', at: 20, nodeId: 'metrics_gate', attempt: 1, output: { percentage: 10, checks: { outcome: 'pass', checks: checks(4.75) } } },
      { type: 'run.finished', at: 21, status: 'succeeded' },
    ]);
    const second = fold(step(1), [
      { type: 'run.started', at: 22, params: { percentage: 25 }, parent: { runId: P, path: 'gradual_traffic_switch[1]' } },
      { type: 'node.failed', at: 40, nodeId: 'metrics_gate', attempt: 1, error: { code: 'GATE_FAILED', message: 'p95', details: { checks: { checks: checks(862.5) } } } },
      { type: 'run.finished', at: 45, status: 'rolled_back', error: { code: 'GATE_FAILED', message: 'gate "metrics_gate" failed' } },
    ]);
    const [shift] = iterationsIn([{ fold: parent, graph }, { fold: first }, { fold: second }]);
    expect(shift).toMatchObject({ runId: P, nodeId: 'gradual_traffic_switch', percent: true, stoppedAt: 1, rollback: 'succeeded', rollbackAt: 51 });
    expect(shift!.steps.map((s) => [s.item, s.status])).toEqual([
      [10, 'succeeded'],
      [25, 'rolled_back'],
      [50, 'pending'],
      [75, 'pending'],
      [100, 'pending'],
    ]);
    expect(shift!.steps[1]!.readings).toEqual([
      { metric: 'error_rate_percent', operator: '<=', limit: 1, actual: 0, passed: true },
      { metric: 'p95_latency_ms', operator: '<=', limit: 500, actual: 862.5, passed: false },
    ]);
    expect(shift!.steps[1]!.error).toBe('gate "metrics_gate" failed');
  });

  it('reads the planned items from a literal list or a $params path, and nothing else', () => {
    expect(plannedItems([1, 2], {})).toEqual([1, 2]);
    expect(plannedItems('{% $params.steps %}', { steps: [5] })).toEqual([5]);
    expect(plannedItems('{% $params.steps[0] %}', { steps: [5] })).toBeUndefined();
  });
});

describe('for_each iterations of a large run tree', () => {
  it('groups the item runs once: 20,000 items with a retried one, not a scan of every run per parent and per item (43 s before)', () => {
    const items = 20_000;
    const parent = fold(P, [{ type: 'run.started', at: 0, params: { traffic_steps: Array.from({ length: items }, (_, i) => i % 101) }, parent: { runId: 'root', path: 'production_deployment' } }]);
    const children = [];
    for (let i = 0; i < items; i++) {
      children.push({ fold: fold(step(i), [{ type: 'run.started', at: i + 1, params: { percentage: i % 101 }, parent: { runId: P, path: `gradual_traffic_switch[${i}]` } }, { type: 'run.finished', at: i + 2, status: 'succeeded' }]) });
    }
    // Item 7's second attempt, started later, is the one that tells.
    children.push({ fold: fold(`${step(7)}#2`, [{ type: 'run.started', at: 30_000, params: { percentage: 7 }, parent: { runId: P, path: 'gradual_traffic_switch[7]' } }]) });
    const started = performance.now();
    const [shift] = iterationsIn([{ fold: parent, graph }, ...children]);
    const took = performance.now() - started;
    expect(shift!.steps).toHaveLength(items);
    expect(shift!.steps[7]).toMatchObject({ runId: `${step(7)}#2`, status: 'running' });
    expect(shift!.steps[items - 1]).toMatchObject({ item: (items - 1) % 101, status: 'succeeded' });
    expect(shift!.percent).toBe(true);
    // The old scan took tens of seconds here; this bound only catches a return of it.
    expect(took).toBeLessThan(3_000);
  });
});
