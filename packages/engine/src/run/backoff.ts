import type { RetryPolicy } from '../flow-types.js';

/** A node's retry policy with every default filled in (DESIGN §2.1). */
export interface ResolvedRetry {
  readonly maxAttempts: number;
  readonly backoff: 'fixed' | 'exponential';
  readonly initialMs: number;
  readonly maxMs: number;
  readonly jitter: boolean;
}

const NO_RETRY: ResolvedRetry = Object.freeze({ maxAttempts: 1, backoff: 'fixed', initialMs: 0, maxMs: 0, jitter: false });

/** No `retry` field: one attempt. A `retry` field: 3 attempts, exponential from 1 s to 60 s, jittered. */
export function resolveRetry(policy: RetryPolicy | undefined): ResolvedRetry {
  if (policy === undefined) return NO_RETRY;
  return {
    maxAttempts: policy.max_attempts ?? 3,
    backoff: policy.backoff ?? 'exponential',
    initialMs: (policy.initial_seconds ?? 1) * 1000,
    maxMs: (policy.max_seconds ?? 60) * 1000,
    jitter: policy.jitter ?? true,
  };
}

/**
 * The delay before attempt `attempt + 1`. Jitter is "equal jitter": half the delay is kept and
 * the other half drawn at random, so retries of many runs spread out without collapsing to 0.
 *
 * `askedMs` is the wait the failure asked for (an HTTP `Retry-After`, an open circuit breaker's
 * reset): the delay is at least that, but never more than the policy's ceiling (`max_seconds`,
 * or `initial_seconds` when larger), so the other side cannot park a node for longer than its
 * flow allows. Retrying sooner than asked may fail again; waiting longer is the flow's to allow.
 */
export function retryDelayMs(retry: ResolvedRetry, attempt: number, random: () => number, askedMs?: number): number {
  const ceiling = Math.max(retry.maxMs, retry.initialMs);
  const base = retry.backoff === 'exponential' ? retry.initialMs * 2 ** (attempt - 1) : retry.initialMs;
  const capped = Math.min(base, ceiling);
  const delay = retry.jitter ? capped / 2 + (random() * capped) / 2 : capped;
  return askedMs === undefined ? delay : Math.max(delay, Math.min(askedMs, ceiling));
}
