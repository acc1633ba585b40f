/**
 * Tests wait for a condition, never for a span of wall-clock time: the suite runs on a
 * 2-core machine that is often busy, where any budget short enough to notice can run out.
 * The one bound left is a hang guard, long enough that only a real hang reaches it
 * (vitest's test timeouts in vitest.config.ts are above it).
 */

export const HANG_GUARD_MS = 90_000;

/** Polls `cond` until it holds; throws only when the hang guard passes. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  guardMs = HANG_GUARD_MS,
): Promise<void> {
  await untilValue(async () => ((await cond()) ? true : undefined), what, guardMs);
}

/** Polls `probe` until it gives a value (not undefined) and returns it; throws only when the hang guard passes. */
export async function untilValue<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  guardMs = HANG_GUARD_MS,
  pollMs = 10,
): Promise<T> {
  const limit = Math.max(guardMs, HANG_GUARD_MS);
  const deadline = Date.now() + limit;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`still waiting for ${what} after ${Math.round(limit / 1000)} s (hang guard)`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * The per-request timeout for a test that makes a call hang on purpose: long enough that no
 * call the test cloud does answer reaches it on a busy machine (a shorter one turns load into
 * extra retries, and a test counting calls fails), short enough that each hang costs little.
 */
export const HANG_TIMEOUT_MS = 2_000;
