import { describe, expect, it } from "vitest";
import { lruEntry } from "./lru.js";

describe("lruEntry", () => {
  it("gives the same entry for a key, makes one for a new key, and drops the least recently used at the bound", () => {
    const map = new Map<string, { key: string }>();
    const dropped: string[] = [];
    const take = (key: string) =>
      lruEntry(
        map,
        key,
        2,
        () => ({ key }),
        (e) => dropped.push(e.key),
      );
    const a = take("a");
    take("b");
    expect(take("a")).toBe(a);
    // "b" is now the least recently used.
    take("c");
    expect(dropped).toEqual(["b"]);
    expect([...map.keys()]).toEqual(["a", "c"]);
  });
});
