/**
 * A circuit breaker per agent: after `failures` consecutive transport failures the agent is not
 * called for `resetMs`; its calls fail at once as a retryable AGENT_UNAVAILABLE, so that a dead
 * service is not hammered by every run's retries. Then one trial call goes through (half-open):
 * it closes the circuit if it gets an answer, and opens it again for `resetMs` if it fails; a
 * trial still unanswered after `resetMs` lets the next call try too.
 *
 * What counts as a failure: a thrown error marked retryable — the network, a timeout, a 5xx, a
 * crashed program. An answer, even `status: "failed"` or a 4xx, shows the agent is there and
 * resets the count; an abort by the caller (a cancellation) counts for nothing.
 *
 * While open, AGENT_UNAVAILABLE carries the time left until the trial as `retryAfterMs`: a node
 * whose `retry` allows it waits for the trial rather than spending its attempts on a closed door.
 * Time is the engine's clock (the call's), unless `clock` is given.
 *
 * ```
 * closed ──failures in a row──▶ open ──resetMs──▶ half-open ──answer──▶ closed
 *                                  ▲                  │
 *                                  └─────failure──────┘
 * ```
 */
import { GantryError, type AgentTransport, type Clock } from '@gantry/engine';
import { callClock, intOption } from './reply.js';

/** Options of {@link withCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  readonly failures?: number;
  /** How long it stays open before a trial call, in ms. @default 30000 */
  readonly resetMs?: number;
  /** @default the clock each call comes with (the engine's), else the system clock */
  readonly clock?: Clock;
}

type State =
  | { readonly name: 'closed'; readonly failures: number }
  | { readonly name: 'open'; readonly until: number; readonly failures: number; readonly last: string }
  | { readonly name: 'half-open'; readonly since: number; readonly failures: number; readonly last: string };

/** `transport` behind a circuit breaker; one wrapper per agent, since the count is the agent's. */
export function withCircuitBreaker(transport: AgentTransport, options: CircuitBreakerOptions = {}): AgentTransport {
  const threshold = intOption('withCircuitBreaker', 'failures', options.failures, 5)!;
  const resetMs = intOption('withCircuitBreaker', 'resetMs', options.resetMs, 30_000)!;
  let state: State = { name: 'closed', failures: 0 };

  /** `until`: when the next trial may go (the open circuit's end, or a hung trial's turn). */
  const unavailable = (agent: string, s: { failures: number; last: string }, until: number, trialUnderWay: boolean, now: number) =>
    new GantryError(
      'AGENT_UNAVAILABLE',
      `agent "${agent}" is unavailable: its last ${s.failures} call${s.failures === 1 ? '' : 's'} failed (the last: ${s.last}); ${
        trialUnderWay ? 'a trial call is under way' : `the circuit breaker lets a trial call through at ${new Date(until).toISOString()}`
      } (circuit_breaker)`,
      { retryable: true, retryAfterMs: Math.max(0, until - now) },
    );

  return {
    async call(task, signal, context) {
      const clock = options.clock ?? callClock(context);
      const now = clock.now();
      if (state.name === 'open') {
        if (now < state.until) throw unavailable(task.agent, state, state.until, false, now);
        state = { name: 'half-open', since: now, failures: state.failures, last: state.last };
      } else if (state.name === 'half-open') {
        // A trial that hangs must not close the agent for good: after resetMs another may try.
        if (now < state.since + resetMs) throw unavailable(task.agent, state, state.since + resetMs, true, now);
        state = { name: 'half-open', since: now, failures: state.failures, last: state.last };
      }
      const trial = state.name === 'half-open';
      try {
        const reply = await transport.call(task, signal, context);
        state = { name: 'closed', failures: 0 };
        return reply;
      } catch (error) {
        const retryable = (error as { retryable?: unknown } | null)?.retryable === true;
        if (signal.aborted) {
          // Neither an answer nor a failure of the agent: a trial gives its turn back.
          if (trial && state.name === 'half-open') state = { name: 'open', until: clock.now(), failures: state.failures, last: state.last };
        } else if (!retryable) {
          state = { name: 'closed', failures: 0 };
        } else {
          const failures = state.failures + 1;
          // The first line of the message, which the transports have already scrubbed of secrets.
          const last = String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 200);
          state = trial || failures >= threshold ? { name: 'open', until: clock.now() + resetMs, failures, last } : { name: 'closed', failures };
        }
        throw error;
      }
    },
  };
}
