/** Settled deletes, remembered per CE for the cleanups that judge a kept listing: bounded in time and size. */

import { describe, expect, it } from "vitest";
import { deletedSince, noteDeleted } from "../../src/ce/cleanup-claims.js";

describe("settled deletes", () => {
  it("gives the CE's ids deleted at or after a listing's time, and none of another CE", () => {
    noteDeleted("ce-a.example.org", ["i-1"], 1_000);
    noteDeleted("ce-a.example.org", ["i-2"], 2_000);
    expect([...deletedSince("ce-a.example.org", 1_500)]).toEqual(["i-2"]);
    expect([...deletedSince("ce-a.example.org", 1_000)].sort()).toEqual(["i-1", "i-2"]);
    expect(deletedSince("ce-b.example.org", 0).size).toBe(0);
  });

  it("forgets a delete ten minutes (the longest Cleanup_ListingMaxAge) after it settled", () => {
    noteDeleted("ce-c.example.org", ["i-old"], 0);
    noteDeleted("ce-c.example.org", ["i-new"], 600_000);
    expect([...deletedSince("ce-c.example.org", 0)]).toEqual(["i-new"]);
  });

  it("keeps at most 20000 per CE, forgetting the oldest", () => {
    const ids = Array.from({ length: 20_005 }, (_, i) => `i-${i}`);
    noteDeleted("ce-d.example.org", ids, 5_000);
    const kept = deletedSince("ce-d.example.org", 0);
    expect(kept.size).toBe(20_000);
    expect(kept.has("i-0")).toBe(false);
    expect(kept.has("i-20004")).toBe(true);
  });
});
