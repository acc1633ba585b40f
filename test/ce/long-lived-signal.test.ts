/**
 * A long-running `serve` hands every cleanup the same server-wide stop signal.
 * Nothing a cleanup did may stay attached to that signal once the cleanup is
 * over: no listener piles up, and its results can be collected.
 */
import { getEventListeners } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import type { BulkResult, CloudDriver } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;

const cloud = new MemoryCloud();
const results: WeakRef<BulkResult>[] = [];
registerDriver("MEMORY_WEAK", () => {
  const d = cloud.driver();
  const destroy = d.destroyNodes.bind(d);
  return Object.assign(Object.create(d) as CloudDriver, {
    destroyNodes: async (ids: readonly string[]) => {
      const r = await destroy(ids);
      results.push(new WeakRef(r));
      return r;
    },
  });
});

describe("cleanups under one long-lived stop signal", () => {
  it("leave no listener on it and keep none of their results alive, over 1,000 cleanups", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cloudce-weak-"));
    const pilot = join(dir, "pilot.sh");
    await writeFile(pilot, "#!/bin/bash\necho pilot\n");
    const ce = new CloudComputingElement("weak.example.org", { logger: silentLogger });
    expect(
      (
        await ce.setParameters({
          CloudType: "MEMORY_WEAK",
          Instance_Image: "name:pilot-image",
          Instance_Flavor: "name:small",
          Cloud_RateLimit: "0",
        })
      ).OK,
    ).toBe(true);
    const stopping = new AbortController();
    const listenersBefore = getEventListeners(stopping.signal, "abort").length;
    for (let i = 0; i < 1000; i++) {
      const made = await ce.submitJob(pilot, null, 1);
      if (!made.OK) throw new Error(made.Message);
      cloud.setState(made.Value[0]!.slice("cloud://".length), "stopped");
      const cleaned = await ce.cleanupPilots({ signal: stopping.signal });
      expect(cleaned.OK && cleaned.Value.deleted).toHaveLength(1);
    }
    expect(results).toHaveLength(1000);
    await new Promise((r) => setImmediate(r));
    gc();
    const alive = results.filter((w) => w.deref() !== undefined).length;
    // The last few may still be referenced by the CE's own bookkeeping; a leak keeps every one.
    expect(alive).toBeLessThan(10);
    expect(getEventListeners(stopping.signal, "abort").length).toBe(listenersBefore);
    await ce.shutdown();
  });
});
