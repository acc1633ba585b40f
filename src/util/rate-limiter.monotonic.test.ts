import { afterEach, describe, expect, it, vi } from "vitest";
import { RateLimiter } from "./rate-limiter.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("rate limiter and the system clock", () => {
  it("a backward step of the clock by an hour does not hold the next call for an hour", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const asked: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      asked.push(ms);
      // A wait this long is the bug: fail at once instead of waiting it out.
      if (ms > 1_000) throw new Error(`the limiter asked to wait ${ms} ms`);
      await new Promise((r) => setTimeout(r, ms));
    };
    const limiter = new RateLimiter(10, 1, undefined, sleep);
    await limiter.acquire();
    vi.setSystemTime(Date.now() - 3_600_000);
    await limiter.acquire();
    await limiter.acquire();
    expect(Math.max(0, ...asked)).toBeLessThanOrEqual(1_000);
  });
});
