import { describe, expect, it } from 'vitest';
import { FakeClock, GantryError, type AgentReply, type AgentTransport } from '@gantry/engine';
import { rejection } from '../connectors/test-kit.js';
import { withCircuitBreaker } from './circuit-breaker.js';
import { agentTask } from './test-kit.js';

type Outcome = 'ok' | 'failed-reply' | 'down' | 'refused' | 'hang';

/** A transport whose next outcome the test sets; it counts the calls that reached it. */
function scripted() {
  const state = { next: 'ok' as Outcome, calls: 0 };
  const transport: AgentTransport = {
    async call(_task, signal): Promise<AgentReply> {
      state.calls += 1;
      switch (state.next) {
        case 'ok':
          return { status: 'succeeded', result: {} };
        case 'failed-reply':
          return { status: 'failed', error: { message: 'tests are red' } };
        case 'down':
          throw new GantryError('AGENT_FAILED', 'POST http://agent/tasks failed: ECONNREFUSED', { retryable: true });
        case 'refused':
          throw new GantryError('AGENT_FAILED', 'answered HTTP 400', { retryable: false });
        case 'hang':
          return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
    },
  };
  return { state, transport };
}

const signal = () => new AbortController().signal;

describe('withCircuitBreaker', () => {
  it('opens after `failures` transport failures in a row and fails at once, retryably, until reset_ms', async () => {
    const clock = new FakeClock();
    const { state, transport } = scripted();
    const breaker = withCircuitBreaker(transport, { failures: 3, resetMs: 10_000, clock });
    state.next = 'down';
    for (let i = 0; i < 3; i++) await rejection(breaker.call(agentTask(), signal()));
    expect(state.calls).toBe(3);

    const fast = await rejection(breaker.call(agentTask(), signal()));
    // The time left until the trial: a node's retry waits for it rather than knock again.
    expect(fast).toMatchObject({ code: 'AGENT_UNAVAILABLE', retryable: true, retryAfterMs: 10_000 });
    expect(fast.message).toBe(
      `agent "reviewer" is unavailable: its last 3 calls failed (the last: POST http://agent/tasks failed: ECONNREFUSED); the circuit breaker lets a trial call through at ${new Date(clock.now() + 10_000).toISOString()} (circuit_breaker)`,
    );
    expect(state.calls).toBe(3);
    await clock.advance(9_999);
    expect(await rejection(breaker.call(agentTask(), signal()))).toMatchObject({ code: 'AGENT_UNAVAILABLE', retryAfterMs: 1 });
    expect(state.calls).toBe(3);
  });

  it('reads the clock each call comes with when it is given none', async () => {
    const clock = new FakeClock();
    const { state, transport } = scripted();
    const breaker = withCircuitBreaker(transport, { failures: 1, resetMs: 60_000 });
    state.next = 'down';
    await rejection(breaker.call(agentTask(), signal(), { clock }));
    expect(await rejection(breaker.call(agentTask(), signal(), { clock }))).toMatchObject({ code: 'AGENT_UNAVAILABLE', retryAfterMs: 60_000 });
    // A minute of the engine's time, not of the system's: the trial goes through.
    await clock.advance(60_000);
    state.next = 'ok';
    expect(await breaker.call(agentTask(), signal(), { clock })).toEqual({ status: 'succeeded', result: {} });
    expect(state.calls).toBe(2);
  });

  it('lets one trial call through after reset_ms: an answer closes the circuit', async () => {
    const clock = new FakeClock();
    const { state, transport } = scripted();
    const breaker = withCircuitBreaker(transport, { failures: 2, resetMs: 1_000, clock });
    state.next = 'down';
    await rejection(breaker.call(agentTask(), signal()));
    await rejection(breaker.call(agentTask(), signal()));
    await clock.advance(1_000);
    state.next = 'ok';
    expect(await breaker.call(agentTask(), signal())).toEqual({ status: 'succeeded', result: {} });
    expect(await breaker.call(agentTask(), signal())).toEqual({ status: 'succeeded', result: {} });
    expect(state.calls).toBe(4);
  });

  it('opens again at once when the trial fails, and refuses other calls while the trial runs', async () => {
    const clock = new FakeClock();
    const { state, transport } = scripted();
    const breaker = withCircuitBreaker(transport, { failures: 1, resetMs: 1_000, clock });
    state.next = 'down';
    await rejection(breaker.call(agentTask(), signal()));
    await clock.advance(1_000);

    state.next = 'hang';
    const trialAbort = new AbortController();
    const trial = breaker.call(agentTask(), trialAbort.signal);
    const during = await rejection(breaker.call(agentTask(), signal()));
    expect(during).toMatchObject({ code: 'AGENT_UNAVAILABLE' });
    expect(during.message).toContain('a trial call is under way');
    // A cancelled trial is no verdict: the next call is the trial.
    trialAbort.abort(new GantryError('CANCELLED', 'cancelled'));
    await rejection(trial);

    state.next = 'down';
    await rejection(breaker.call(agentTask(), signal()));
    expect(state.calls).toBe(3);
    expect(await rejection(breaker.call(agentTask(), signal()))).toMatchObject({ code: 'AGENT_UNAVAILABLE' });
    expect(state.calls).toBe(3);
  });

  it('lets another trial through when the trial has hung for reset_ms, and its answer closes the circuit', async () => {
    const clock = new FakeClock();
    const { state, transport } = scripted();
    const breaker = withCircuitBreaker(transport, { failures: 1, resetMs: 1_000, clock });
    state.next = 'down';
    await rejection(breaker.call(agentTask(), signal()));
    await clock.advance(1_000);
    state.next = 'hang';
    void breaker.call(agentTask(), signal()).catch(() => {});
    await clock.advance(999);
    expect(await rejection(breaker.call(agentTask(), signal()))).toMatchObject({ code: 'AGENT_UNAVAILABLE' });
    await clock.advance(1);
    state.next = 'ok';
    expect(await breaker.call(agentTask(), signal())).toEqual({ status: 'succeeded', result: {} });
    expect(await breaker.call(agentTask(), signal())).toEqual({ status: 'succeeded', result: {} });
    expect(state.calls).toBe(4);
  });

  it('counts only transport failures: an answer — failed or a 4xx — resets the count', async () => {
    const clock = new FakeClock();
    const { state, transport } = scripted();
    const breaker = withCircuitBreaker(transport, { failures: 2, resetMs: 1_000, clock });
    for (const next of ['down', 'failed-reply', 'down', 'refused', 'down', 'ok', 'down'] as Outcome[]) {
      state.next = next;
      await breaker.call(agentTask(), signal()).catch(() => undefined);
    }
    state.next = 'ok';
    expect(await breaker.call(agentTask(), signal())).toMatchObject({ status: 'succeeded' });
    expect(state.calls).toBe(8);
  });

  it('does not count calls the caller aborted', async () => {
    const { state, transport } = scripted();
    const breaker = withCircuitBreaker(transport, { failures: 1, clock: new FakeClock() });
    state.next = 'hang';
    const controller = new AbortController();
    const pending = breaker.call(agentTask(), controller.signal);
    controller.abort(new GantryError('TIMEOUT', 'node timeout', { retryable: true }));
    expect(await rejection(pending)).toMatchObject({ code: 'TIMEOUT' });
    state.next = 'ok';
    expect(await breaker.call(agentTask(), signal())).toMatchObject({ status: 'succeeded' });
  });

  it('validates its options', () => {
    const { transport } = scripted();
    expect(() => withCircuitBreaker(transport, { failures: 0 })).toThrow('withCircuitBreaker: expected `failures` to be an integer ≥ 1, got `0` (number)');
    expect(() => withCircuitBreaker(transport, { resetMs: 1.5 })).toThrow('expected `resetMs` to be an integer ≥ 1');
  });
});
