/**
 * Every submit or cleanup in flight listens to the server's own stop once,
 * until it ends: a director's many requests at once are no leak and print no
 * MaxListenersExceededWarning.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { until } from "../support/wait.js";
import { memoryOptions, serveSetup } from "./serve-setup.js";

const t = serveSetup();

describe("many requests in flight at once", () => {
  it("print no MaxListenersExceededWarning", async () => {
    const handles: string[] = [];
    for (let i = 0; i < 24; i++) handles.push(await t.openCe({ ...memoryOptions, Cloud_RateLimit: 0 }));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      t.holdAfter = 0; // every create waits: all the submits are in flight together
      const executableFile = join(t.dir, "pilot.sh");
      for (const handle of handles) void t.server.call("submitJob", { handle, executableFile, numberOfJobs: 1 });
      await until(() => t.createsStarted === 24, "every create started");
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
