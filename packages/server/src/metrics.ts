import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CompiledFlow, Engine, RunEvent } from '@gantry/engine';

/** The metrics of DESIGN §4, by name: the names the shipped Grafana dashboard queries. */
export const METRIC_NAMES = [
  'gantry_runs_total',
  'gantry_runs_active',
  'gantry_node_duration_seconds',
  'agent_task_duration_seconds',
  'http_requests_total',
  'http_request_duration_seconds',
] as const;

export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts one answered request; `endpoint` is the route's pattern (`/runs/:id`), never the raw path. */
  observeHttp(method: string, endpoint: string, status: number, seconds: number): void;
  /** Counts runs resumed at start-up among the active ones (their run.started was in an earlier process). */
  track(runIds: readonly string[]): void;
  /** Stops listening to the engine. */
  dispose(): void;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Nodes and agent tasks take from milliseconds (a gate) to hours (an approval, a bake time). */
const TASK_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400];

/**
 * The server's Prometheus registry (its own, so that several servers in one process do not share
 * one) with Node's process metrics, and listeners that turn the engine's events into run, node
 * and agent-task metrics:
 * - `gantry_runs_total{flow,status}`: runs that ended, by final status;
 * - `gantry_runs_active{flow,status}`: runs of this process running or waiting, read at scrape;
 * - `gantry_node_duration_seconds{flow,node,type,status}`: node.started → succeeded, failed or
 *   retrying (one observation per attempt; a waiting approval counts its wait);
 * - `agent_task_duration_seconds{agent_name,task,status}`: every agent task as the engine calls
 *   it — an agent node's (each item of a for_each, each attempt), each agent of a parallel or
 *   router node, a compensation, a task performed by a flow.
 */
export function createMetrics(engine: Engine): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route pattern and status.', labelNames: ['method', 'endpoint', 'status'], registers: [registry] });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request to its answer, by method, route pattern and status.',
    labelNames: ['method', 'endpoint', 'status'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const runsTotal = new Counter({ name: 'gantry_runs_total', help: 'Runs that ended, by flow and final status.', labelNames: ['flow', 'status'], registers: [registry] });
  const nodeDuration = new Histogram({
    name: 'gantry_node_duration_seconds',
    help: "A node attempt's time from node.started to its outcome, by flow, node, type and status (succeeded, failed, retrying).",
    labelNames: ['flow', 'node', 'type', 'status'],
    buckets: TASK_BUCKETS,
    registers: [registry],
  });
  const agentDuration = new Histogram({
    name: 'agent_task_duration_seconds',
    help: 'Agent task time as the engine called the agent, by agent, task and outcome.',
    labelNames: ['agent_name', 'task', 'status'],
    buckets: TASK_BUCKETS,
    registers: [registry],
  });

  /** Runs this process runs: their flow, and when each node (or for_each item) started. */
  const runs = new Map<string, { flow: CompiledFlow | undefined; starts: Map<string, number> }>();
  const runOf = (runId: string) => {
    let run = runs.get(runId);
    if (run === undefined) {
      run = { flow: engine.run(runId)?.flow, starts: new Map() };
      runs.set(runId, run);
    }
    return run;
  };

  new Gauge({
    name: 'gantry_runs_active',
    help: 'Runs of this process that are running or waiting (for an approval or a timer), by flow.',
    labelNames: ['flow', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const runId of runs.keys()) {
        const run = engine.run(runId);
        if (run === undefined) {
          // Not live here any more without a run.finished heard: handed to another process, or stopped.
          runs.delete(runId);
          continue;
        }
        const status = run.status();
        if (status === 'running' || status === 'waiting') this.inc({ flow: run.flow.name, status });
      }
    },
  });

  const key = (e: { nodeId: string; item?: number }) => (e.item === undefined ? e.nodeId : `${e.nodeId}[${e.item}]`);

  const observeNode = (e: RunEvent & { nodeId: string; item?: number }, status: 'succeeded' | 'failed' | 'retrying') => {
    const run = runs.get(e.runId);
    const started = run?.starts.get(key(e));
    if (run === undefined || started === undefined) return;
    run.starts.delete(key(e));
    const node = run.flow?.nodes.get(e.nodeId);
    if (run.flow === undefined || node === undefined) return;
    const seconds = Math.max(0, (e.at - started) / 1000);
    if (e.item === undefined) nodeDuration.observe({ flow: run.flow.name, node: node.id, type: node.type, status }, seconds);
  };

  const offAgents = engine.onAgentTask((s) => agentDuration.observe({ agent_name: s.agent, task: s.task, status: s.status }, s.durationMs / 1000));
  const off = engine.on('event', (e) => {
    switch (e.type) {
      case 'node.started':
        runOf(e.runId).starts.set(key(e), e.at);
        break;
      case 'node.retrying':
        observeNode(e, 'retrying');
        break;
      case 'node.succeeded':
        observeNode(e, 'succeeded');
        break;
      case 'node.failed':
        observeNode(e, 'failed');
        break;
      case 'run.finished': {
        const flow = runs.get(e.runId)?.flow ?? engine.run(e.runId)?.flow;
        runs.delete(e.runId);
        if (flow !== undefined) {
          runsTotal.inc({ flow: flow.name, status: e.status });
          break;
        }
        // A run ended in the store from here (cancelled, set aside): its flow is read from the store.
        const status = e.status;
        Promise.resolve(engine.options.store.getRun(e.runId)).then(
          (record) => runsTotal.inc({ flow: record?.flowName ?? 'unknown', status }),
          () => runsTotal.inc({ flow: 'unknown', status }),
        );
        break;
      }
      default:
        runOf(e.runId);
        break;
    }
  });

  return {
    registry,
    observeHttp(method, endpoint, status, seconds) {
      const labels = { method: METHODS.has(method) ? method : 'OTHER', endpoint, status: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    track(runIds) {
      for (const runId of runIds) runOf(runId);
    },
    dispose() {
      off();
      offAgents();
      runs.clear();
    },
  };
}
