/**
 * A server-side rate limit for the test clouds, as real clouds throttle:
 * a token bucket that refuses (rather than queues) a call once it is empty,
 * so a client that sends too fast sees 429 / RequestLimitExceeded answers.
 */

export interface ServerRateLimit {
  /** Calls per second the bucket refills. */
  readonly callsPerSecond: number;
  /** Calls that may arrive at once (default: one second's worth). */
  readonly burst?: number;
}

export class ServerThrottle {
  private tokens: number;
  private last: number;
  /** Calls refused so far. */
  refused = 0;

  constructor(
    private readonly limit: ServerRateLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = this.burst;
    this.last = now();
  }

  private get burst(): number {
    return this.limit.burst ?? Math.max(1, Math.ceil(this.limit.callsPerSecond));
  }

  /** True when the call may proceed; false (and counted) when it must be throttled. */
  admit(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.limit.callsPerSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused += 1;
    return false;
  }
}
