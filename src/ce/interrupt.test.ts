import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { withinGrace, type Settled } from "./interrupt.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const never = new Promise<never>(() => undefined);

describe("withinGrace after an abort", () => {
  it("gives every call one shared grace from the abort: a call started later gets only what is left", async () => {
    const controller = new AbortController();
    const control = { signal: controller.signal, graceMs: 1_000 };
    const outcomes: Settled<never>[] = [];
    void withinGrace(never, control).then((r) => outcomes.push(r));
    controller.abort();
    await vi.advanceTimersByTimeAsync(600);
    // Started after the abort (the recovery listing): bounded by the same grace, not a new one.
    void withinGrace(never, control).then((r) => outcomes.push(r));
    await vi.advanceTimersByTimeAsync(401);
    expect(outcomes).toEqual([{ answered: false }, { answered: false }]);
  });

  it("still waits the whole grace for a call when the abort just happened", async () => {
    const controller = new AbortController();
    const control = { signal: controller.signal, graceMs: 1_000 };
    controller.abort();
    const outcomes: Settled<never>[] = [];
    void withinGrace(never, control).then((r) => outcomes.push(r));
    await vi.advanceTimersByTimeAsync(999);
    expect(outcomes).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(outcomes).toEqual([{ answered: false }]);
  });
});
