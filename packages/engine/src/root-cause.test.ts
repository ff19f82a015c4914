import { describe, expect, it } from 'vitest';
import type { JsonValue } from './flow-types.js';
import { failurePath, rootCause } from './root-cause.js';
import type { ErrorInfo } from './run/events.js';

const gate: ErrorInfo & { nodeId: string } = {
  code: 'GATE_FAILED',
  message: 'gate "metrics_gate" failed: p95_latency_ms <= 500 (was 875)',
  retryable: false,
  details: { checks: [{ metric: 'p95_latency_ms', operator: '<=', expected: 500, actual: 875, passed: false }] },
  nodeId: 'metrics_gate',
};

/** The faulty release's chain as the journal keeps it: agent → sub-flow → for_each item → gate. */
const chain: ErrorInfo & { nodeId: string } = {
  code: 'AGENT_FAILED',
  message: 'agent "deployment-automation-master" task "blue_green_deployment": sub-flow … ended rolled_back: item 0: sub-flow … ended rolled_back: gate "metrics_gate" failed: …',
  retryable: false,
  nodeId: 'production_deployment',
  details: {
    runId: 'r1.production_deployment',
    status: 'rolled_back',
    error: {
      code: 'SUBFLOW_FAILED',
      message: 'item 0: sub-flow traffic-step.json (run r1.production_deployment.gradual_traffic_switch[0]) ended rolled_back: gate …',
      retryable: false,
      nodeId: 'gradual_traffic_switch',
      details: { runId: 'r1.production_deployment.gradual_traffic_switch[0]', status: 'rolled_back', error: gate as unknown as JsonValue },
    },
  },
};

describe('rootCause', () => {
  it('walks a failure down the sub-flows and agents it crossed to the error at the bottom, and says where', () => {
    const cause = rootCause(chain, 'r1');
    expect(cause.error).toEqual(gate);
    expect(cause.runId).toBe('r1.production_deployment.gradual_traffic_switch[0]');
    expect(cause.path).toEqual([
      { runId: 'r1', nodeId: 'production_deployment' },
      { runId: 'r1.production_deployment', nodeId: 'gradual_traffic_switch', item: 0 },
      { runId: 'r1.production_deployment.gradual_traffic_switch[0]', nodeId: 'metrics_gate' },
    ]);
    expect(failurePath(cause.path)).toBe('production_deployment › gradual_traffic_switch[0] › metrics_gate');
  });

  it('is the error itself when it crossed nothing', () => {
    const cause = rootCause(gate, 'r1');
    expect(cause).toEqual({ error: gate, path: [{ runId: 'r1', nodeId: 'metrics_gate' }], runId: 'r1' });
    expect(failurePath(rootCause({ code: 'CANCELLED', message: 'cancelled', retryable: false }).path)).toBe('');
  });

  it('finds the item from the message when the child run is not named', () => {
    const error = { code: 'SUBFLOW_FAILED', message: 'item 3: sub-flow x.json ended failed: boom', retryable: false, nodeId: 'steps', details: { error: { code: 'TIMEOUT', message: 'boom', retryable: true, nodeId: 'call' } } } as const;
    expect(failurePath(rootCause(error as unknown as ErrorInfo).path)).toBe('steps[3] › call');
  });

  it('stops where the details are not a chain: a gate\'s output, an agent failure with data of its own, a chain deeper than any flow nests', () => {
    const agent = { code: 'AGENT_FAILED', message: 'agent "a" task "t" failed: no', retryable: false, details: { error: 'not an error object' } } as const;
    expect(rootCause(agent as unknown as ErrorInfo).error).toBe(agent);
    const gateWithError = { ...gate, details: { error: { code: 'X', message: 'inside a gate output' } } };
    expect(rootCause(gateWithError).error).toBe(gateWithError);
    // A chain deeper than any flow nests ends: the walk is bounded.
    let deep: ErrorInfo = { code: 'TIMEOUT', message: 'bottom', retryable: false };
    for (let i = 0; i < 1000; i++) deep = { code: 'SUBFLOW_FAILED', message: `level ${i}`, retryable: false, details: { error: deep as unknown as JsonValue } };
    expect(rootCause(deep).path.length).toBe(65);
  });
});
