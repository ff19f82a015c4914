/**
 * The engine owns retries (Temporal's rule): a transport or connector makes one attempt and says
 * whether its failure is retryable and how long the other side asked to wait; the node's `retry`
 * decides, on durable timers in the journal. Real loopback servers stand in for the agents; the
 * engine runs on a fake clock that the test moves to each retry timer the journal records.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, FakeClock, MemoryStore, type AgentRegistration, type AgentTransport, type FlowDocument, type RunEvent, type RunEventOf } from '@gantry/engine';
import { builtinConnectors, builtinExecutors, httpAgent, withCircuitBreaker } from '@gantry/executors';

type Answer = { status: number; headers?: Record<string, string> };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A loopback agent answering `answers` in turn (the last from then on); `calls` counts what reached it. */
async function agentServer(...answers: Answer[]): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const { status, headers } = answers[Math.min(calls++, answers.length - 1)]!;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(status < 300 ? { status: 'succeeded', result: { calls } } : { error: { message: `busy (${status})` } }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls };
}

/** Runs `flow` on a fake clock, moving the clock to each retry's time once the journal has its timer. */
async function runOnFakeClock(flow: FlowDocument, agents: Record<string, AgentTransport | AgentRegistration>) {
  const clock = new FakeClock();
  const store = new MemoryStore();
  const engine = createEngine({ executors: builtinExecutors, agents, connectors: builtinConnectors({ outbound: { allow: ['127.0.0.1'] } }), clock, store });
  engine.on('timer.set', (event) => {
    if (event.purpose === 'retry') setImmediate(() => void clock.advance(event.fireAt - clock.now()));
  });
  const run = await engine.start(flow, { trigger: {} });
  const result = await run.finished;
  const events = store.events(result.runId);
  const of = <T extends RunEvent['type']>(type: T) => events.filter((e): e is RunEventOf<T> => e.type === type);
  return { result, events, of, startedAt: events[0]!.at };
}

const agentNode = (retry: object): FlowDocument => ({ name: 'Retries', nodes: [{ id: 'deploy', type: 'agent', data: { agent: 'deployer', task: 'deploy' }, retry }], edges: [] }) as FlowDocument;

describe('the engine owns retries', () => {
  it('makes exactly max_attempts calls to an agent answering 503: no retries inside the call', async () => {
    const agent = await agentServer({ status: 503 });
    const { result, of } = await runOnFakeClock(agentNode({ max_attempts: 3 }), { deployer: httpAgent({ url: agent.url }) });
    expect(result.status).toBe('failed');
    expect(agent.calls()).toBe(3);
    expect(of('node.started').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(of('node.retrying').map((e) => e.error)).toEqual([
      expect.objectContaining({ code: 'AGENT_FAILED', retryable: true }),
      expect.objectContaining({ code: 'AGENT_FAILED', retryable: true }),
    ]);
    expect(of('node.failed')[0]?.error.message).toContain('answered HTTP 503');
  });

  it('makes exactly max_attempts calls through a connector too, a GET included', async () => {
    const api = await agentServer({ status: 502 });
    const flow = { name: 'Retries', nodes: [{ id: 'fetch', type: 'external_api', data: { service: 'http', action: 'get', url: `${api.url}/status` }, retry: { max_attempts: 3 } }], edges: [] } as FlowDocument;
    const { result } = await runOnFakeClock(flow, {});
    expect(result.status).toBe('failed');
    expect(api.calls()).toBe(3);
  });

  it('waits what Retry-After asks for: the journal shows each retry 2 s later', async () => {
    const agent = await agentServer({ status: 503, headers: { 'retry-after': '2' } }, { status: 503, headers: { 'retry-after': '2' } }, { status: 200 });
    const { result, of } = await runOnFakeClock(agentNode({ max_attempts: 3 }), { deployer: httpAgent({ url: agent.url }) });
    expect(result.status).toBe('succeeded');
    expect(agent.calls()).toBe(3);
    const retrying = of('node.retrying');
    expect(retrying.map((e) => e.error.retryAfterMs)).toEqual([2_000, 2_000]);
    // Without the ask, the backoff would be at most 1 s, then at most 2 s, drawn at random.
    expect(retrying.map((e) => e.retryAt - e.at)).toEqual([2_000, 2_000]);
    const fired = of('timer.fired');
    expect(fired.map((e) => e.at)).toEqual(retrying.map((e) => e.retryAt));
    expect(of('node.started').map((e) => e.at - of('node.started')[0]!.at)).toEqual([0, 2_000, 4_000]);
  });

  it('keeps the circuit breaker: once open it fails at once, and the node waits for its trial', async () => {
    const agent = await agentServer({ status: 503 }, { status: 503 }, { status: 200 });
    const deployer = withCircuitBreaker(httpAgent({ url: agent.url }), { failures: 2, resetMs: 10_000 });
    const { result, of } = await runOnFakeClock(agentNode({ max_attempts: 4, initial_seconds: 1, jitter: false }), { deployer });
    expect(result.status).toBe('succeeded');
    // Two failures open the circuit; the third attempt never reaches the agent; the fourth is the trial.
    expect(agent.calls()).toBe(3);
    const retrying = of('node.retrying');
    expect(retrying.map((e) => e.error.code)).toEqual(['AGENT_FAILED', 'AGENT_FAILED', 'AGENT_UNAVAILABLE']);
    const opened = retrying[1]!.at;
    // The breaker's reset, not the 4 s backoff, decides when the third retry goes: the trial's time.
    expect(retrying[2]!.error.retryAfterMs).toBe(opened + 10_000 - retrying[2]!.at);
    expect(retrying[2]!.retryAt).toBe(opened + 10_000);
  });
});
