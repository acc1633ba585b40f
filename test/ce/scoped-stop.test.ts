/**
 * A batch's own stop signal: however many of the batch's calls listen to it at
 * once (recoveries, fallback rounds and look-ups add theirs to the creates'),
 * no MaxListenersExceededWarning is printed, and the caller's signal keeps
 * one listener for the batch, gone at its end.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { scopedStop } from "../../src/ce/interrupt.js";

describe("scopedStop", () => {
  it("lets every call of a batch listen at once without a warning, whatever the concurrency", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const outer = new AbortController();
      const { stop, end } = scopedStop({ signal: outer.signal, graceMs: 0 });
      const listeners = Array.from({ length: 40 }, () => () => undefined);
      for (const l of listeners) stop.signal?.addEventListener("abort", l);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w === "MaxListenersExceededWarning")).toEqual([]);
      expect(getEventListeners(outer.signal, "abort")).toHaveLength(1);
      for (const l of listeners) stop.signal?.removeEventListener("abort", l);
      end();
      expect(getEventListeners(outer.signal, "abort")).toHaveLength(0);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
