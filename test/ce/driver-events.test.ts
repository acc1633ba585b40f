/**
 * A driver reports throttled answers and failed look-ups through the events
 * the CE gives it (DriverConfig.events), from deep inside its retry loop;
 * the CE counts each for the contract call it happened in.
 */

import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { CloudDriver, DriverConfig, DriverEvents } from "../../src/drivers/driver.js";
import { CloudComputingElement, CloudceError, registerDriver, silentLogger } from "../../src/index.js";
import { MemoryCloud } from "../../src/testing.js";
import { withRetry } from "../../src/util/retry.js";

const NO_WAIT = { attempts: 4, baseDelayMs: 0, maxDelayMs: 0 };

/** The memory cloud's driver, whose listings are throttled twice (then answered) behind a retry loop. */
function throttledListings(cloud: MemoryCloud, config: DriverConfig, seen: { events?: DriverEvents }): CloudDriver {
  const inner = cloud.driver();
  seen.events = config.events;
  return Object.assign(Object.create(inner) as CloudDriver, {
    listNodes: (filter: Parameters<CloudDriver["listNodes"]>[0]) => {
      let refusals = 2;
      return withRetry(
        async () => {
          if (refusals-- > 0) throw new CloudceError("RateLimited", "HTTP 429", { retryable: true });
          config.events?.lookupFailed("preemptions");
          return inner.listNodes(filter);
        },
        NO_WAIT,
        { onThrottle: () => config.events?.throttled() },
      );
    },
  });
}

async function counted(registry: Registry, name: string): Promise<Record<string, unknown>[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({ ...v.labels, value: v.value }));
}

describe("driver events", () => {
  it("count a throttled answer the driver retried, and a failed look-up, for the call they happened in", async () => {
    const cloud = new MemoryCloud({ autoBoot: false });
    const seen: { events?: DriverEvents } = {};
    registerDriver("EVENTSMEM", (config) => throttledListings(cloud, config, seen));
    const registry = new Registry();
    const ce = new CloudComputingElement("events.example.org", { logger: silentLogger, metrics: registry });
    const set = await ce.setParameters({
      CloudType: "EVENTSMEM",
      Instance_Image: "name:img",
      Instance_Flavor: "small",
    });
    expect(set.OK).toBe(true);
    expect((await ce.getCEStatus()).OK).toBe(true);

    expect(await counted(registry, "cloudce_cloud_throttled_total")).toEqual([
      expect.objectContaining({ driver: "MEMORY", operation: "listNodes", value: 2 }),
    ]);
    expect(await counted(registry, "cloudce_cloud_lookups_failed_total")).toEqual([
      expect.objectContaining({ driver: "MEMORY", lookup: "preemptions", value: 1 }),
    ]);
    // Outside any call of the contract, a report has no call to count for: it is dropped.
    seen.events?.throttled();
    expect(await counted(registry, "cloudce_cloud_throttled_total")).toEqual([expect.objectContaining({ value: 2 })]);
    await ce.shutdown();
  });
});
