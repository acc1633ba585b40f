import { describe, expect, it, vi } from "vitest";
import type { CloudNode } from "../drivers/driver.js";
import { RecentListing } from "./recent-listing.js";

const NODES: readonly CloudNode[] = [];

describe("RecentListing", () => {
  it("gives a kept listing once, while younger than the max age", () => {
    const r = new RecentListing();
    r.remember(r.begin(), NODES, 1000, 5000);
    expect(r.take(5000, 5999)).toEqual({ nodes: NODES, at: 1000 });
    expect(r.take(5000, 5999)).toBeUndefined();
    r.remember(r.begin(), NODES, 1000, 5000);
    expect(r.take(5000, 6000)).toBeUndefined();
    r.remember(r.begin(), NODES, 1000, 5000);
    expect(r.take(0, 1000)).toBeUndefined();
  });

  it("never gives a listing from a clock that went back", () => {
    const r = new RecentListing();
    r.remember(r.begin(), NODES, 1000, 5000);
    expect(r.take(5000, 999)).toBeUndefined();
  });

  it("keeps no listing that was running while the VMs changed, or that answered during a change", async () => {
    const r = new RecentListing();
    const before = r.begin();
    await r.changing(async () => {
      const during = r.begin();
      r.remember(before, NODES, 1, 5000);
      expect(r.take(5000, 1)).toBeUndefined();
      r.remember(during, NODES, 1, 5000);
    });
    expect(r.take(5000, 1)).toBeUndefined();
  });

  it("keeps no listing that began and answered while a change was still running", async () => {
    const r = new RecentListing();
    let during: ReturnType<RecentListing["take"]>;
    await r.changing(async () => {
      r.remember(r.begin(), NODES, 1, 5000);
      during = r.take(5000, 1);
    });
    expect(during).toBeUndefined();
  });

  it("keeps nothing with a max age of 0", () => {
    const r = new RecentListing();
    r.remember(r.begin(), NODES, 1000, 0);
    expect(r.take(5000, 1000)).toBeUndefined();
  });

  it("lets go of a kept listing once it is max age old, even if no cleanup comes", () => {
    vi.useFakeTimers();
    try {
      const r = new RecentListing();
      r.remember(r.begin(), NODES, 1000, 5000);
      vi.advanceTimersByTime(4999);
      expect(r.holding()).toBe(true);
      vi.advanceTimersByTime(1);
      expect(r.holding()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("forgets the kept listing when a change fails too", async () => {
    const r = new RecentListing();
    const mark = r.begin();
    await expect(
      r.changing(async () => {
        throw new Error("create refused");
      }),
    ).rejects.toThrow("create refused");
    r.remember(mark, NODES, 1, 5000);
    expect(r.take(5000, 1)).toBeUndefined();
  });
});
