import { describe, expect, it } from 'vitest';
import { GantryError } from '../errors.js';
import { resolveRetry, retryDelayMs } from './backoff.js';
import { toErrorInfo } from './error-info.js';

const half = () => 0.5;

describe('retryDelayMs', () => {
  it('backs off exponentially up to max_seconds, with equal jitter', () => {
    const retry = resolveRetry({ max_attempts: 5, initial_seconds: 1, max_seconds: 5 });
    expect([1, 2, 3, 4].map((n) => retryDelayMs(retry, n, () => 0))).toEqual([500, 1_000, 2_000, 2_500]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(retry, n, () => 1))).toEqual([1_000, 2_000, 4_000, 5_000]);
  });

  it('waits at least what the failure asked for (Retry-After), up to max_seconds', () => {
    const retry = resolveRetry({ max_attempts: 3, initial_seconds: 1, max_seconds: 60, jitter: false });
    expect(retryDelayMs(retry, 1, half, 2_000)).toBe(2_000);
    // A shorter ask does not cut the policy's own backoff.
    expect(retryDelayMs(retry, 2, half, 500)).toBe(2_000);
    expect(retryDelayMs(retry, 1, half, 0)).toBe(1_000);
    // The other side cannot park the node past its flow's ceiling.
    expect(retryDelayMs(retry, 1, half, 3_600_000)).toBe(60_000);
    expect(retryDelayMs(resolveRetry({ initial_seconds: 90, max_seconds: 10, jitter: false }), 1, half, 3_600_000)).toBe(90_000);
  });
});

describe('toErrorInfo', () => {
  it('keeps the wait a retryable error asks for, and only then', () => {
    expect(toErrorInfo(new GantryError('AGENT_FAILED', 'HTTP 503', { retryable: true, retryAfterMs: 2_000 }))).toEqual({
      code: 'AGENT_FAILED',
      message: 'HTTP 503',
      retryable: true,
      retryAfterMs: 2_000,
    });
    expect(toErrorInfo(new GantryError('AGENT_FAILED', 'HTTP 400', { retryAfterMs: 2_000 }))).not.toHaveProperty('retryAfterMs');
    // An agent's own error may say anything: only a finite number ≥ 0 is a wait, rounded up to whole ms.
    const own = (retryAfterMs: unknown) => toErrorInfo(Object.assign(new Error('busy'), { retryable: true, retryAfterMs }));
    expect(own(1500.2)).toMatchObject({ retryAfterMs: 1_501 });
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '2000', null]) expect(own(bad)).not.toHaveProperty('retryAfterMs');
  });
});
