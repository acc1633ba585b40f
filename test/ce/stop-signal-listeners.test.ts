/**
 * A submit under a stop signal: a batch of 64 creates, all waiting on that
 * signal at once, prints no MaxListenersExceededWarning, and the caller's
 * signal (serve's is shared by every request) holds one listener per
 * submission while it runs and none once it returned; so does a cleanup.
 */
import { getEventListeners } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

const cloud = new MemoryCloud({ capabilities: { uniformBatch: false, bulkDestroy: false } });
let watched: AbortSignal | undefined;
let mostListeners = 0;
registerDriver("MEMORY_LISTENERS", () => {
  const d = cloud.driver();
  const create = d.createNodes.bind(d);
  return Object.assign(Object.create(d) as CloudDriver, {
    createNodes: async (request: CreateNodesRequest) => {
      if (watched) mostListeners = Math.max(mostListeners, getEventListeners(watched, "abort").length);
      // Every create still waiting when the others start: they all listen at once.
      await new Promise((resolve) => setImmediate(resolve));
      return create(request);
    },
  });
});

let pilot: string;
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "cloudce-listeners-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

async function makeCe(concurrency: number): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement("listeners.example.org", { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "MEMORY_LISTENERS",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Cloud_RateLimit: "0",
    Submit_Concurrency: String(concurrency),
  });
  expect(set.OK).toBe(true);
  return ce;
}

describe("a submit's listeners on the caller's stop signal", () => {
  for (const concurrency of [8, 64]) {
    it(`a batch of 64 at a concurrency of ${concurrency} prints no MaxListenersExceededWarning`, async () => {
      const ce = await makeCe(concurrency);
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
      process.on("warning", onWarning);
      try {
        const stop = new AbortController();
        watched = stop.signal;
        mostListeners = 0;
        const made = await ce.submitJob(pilot, null, 64, { signal: stop.signal });
        expect(made.OK && made.Value).toHaveLength(64);
        // Warnings are emitted on the next tick.
        await new Promise((resolve) => setImmediate(resolve));
        expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
        expect(mostListeners).toBe(1);
        expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
      } finally {
        process.off("warning", onWarning);
        watched = undefined;
        await ce.shutdown();
      }
    });
  }

  it("a cleanup of 64 VMs, one delete each, prints no MaxListenersExceededWarning", async () => {
    const ce = await makeCe(64);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      const made = await ce.submitJob(pilot, null, 64);
      if (!made.OK) throw new Error(made.Message);
      for (const ref of made.Value) cloud.setState(ref.slice("cloud://".length), "stopped");
      const stop = new AbortController();
      const cleaned = await ce.cleanupPilots({ signal: stop.signal });
      expect(cleaned.OK && cleaned.Value.deleted).toHaveLength(64);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
      expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
    } finally {
      process.off("warning", onWarning);
      await ce.shutdown();
    }
  });

  it("leave none on one long-lived signal after 200 submits", async () => {
    const ce = await makeCe(8);
    const stopping = new AbortController();
    const before = getEventListeners(stopping.signal, "abort").length;
    for (let i = 0; i < 200; i++) {
      const made = await ce.submitJob(pilot, null, 4, { signal: stopping.signal });
      expect(made.OK && made.Value).toHaveLength(4);
    }
    expect(getEventListeners(stopping.signal, "abort")).toHaveLength(before);
    await ce.shutdown();
  });
});
