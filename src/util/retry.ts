/**
 * Retries with capped exponential backoff and full jitter, honouring a
 * cloud's Retry-After. Only errors marked retryable are retried: a quota or
 * an auth failure will not go away by asking again.
 */

import { CloudceError, isCloudceError } from "../errors.js";

export interface RetryPolicy {
  /** Total attempts, the first included (1 = no retry). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 };

export interface RetryHooks {
  isRetryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Told of each throttled answer (a RateLimited error), retried or not: the caller's count of them. */
  onThrottle?: () => void;
  /** Injected in tests so that they never wait on real time. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const defaultRetryable = (err: unknown): boolean => err instanceof CloudceError && err.retryable;

/** The wait before retry number `attempt` (1-based): Retry-After if given, else jittered backoff. */
function backoffDelay(err: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  if (err instanceof CloudceError && err.retryAfterSeconds !== undefined) {
    return Math.min(err.retryAfterSeconds * 1000, policy.maxDelayMs);
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks = {},
): Promise<T> {
  const retryable = hooks.isRetryable ?? defaultRetryable;
  const wait = hooks.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (isCloudceError(err, "RateLimited")) hooks.onThrottle?.();
      if (attempt >= policy.attempts || !retryable(err)) throw err;
      const delay = backoffDelay(err, attempt, policy, hooks.random);
      hooks.onRetry?.(err, attempt, delay);
      await wait(delay);
    }
  }
}
