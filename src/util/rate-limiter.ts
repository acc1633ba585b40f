/**
 * A client-side rate limit (token bucket): keeps a burst of calls under the
 * cloud's throttling threshold instead of learning it from 429s.
 */

import { monotonicNow } from "./monotonic.js";

export class RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  /** `callsPerSecond` <= 0 disables the limit. */
  constructor(
    private readonly callsPerSecond: number,
    private readonly burst: number = Math.max(1, Math.ceil(callsPerSecond)),
    private readonly now: () => number = monotonicNow,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Resolves when one call may go out; callers are served in order. */
  acquire(): Promise<void> {
    if (this.callsPerSecond <= 0) return Promise.resolve();
    const turn = this.queue.then(() => this.take());
    this.queue = turn;
    return turn;
  }

  private async take(): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.callsPerSecond);
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.callsPerSecond) * 1000));
    }
  }
}
