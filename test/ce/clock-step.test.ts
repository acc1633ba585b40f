/**
 * A backward step of the system clock (NTP, an operator's `date -s`) stretches
 * no wait: the rate limiter and the breaker's cool-down run on monotonic time,
 * while VM ages and journal stamps keep using the clock.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { CloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";
import { until } from "../support/wait.js";

const HOUR = 3_600_000;
let cloud: MemoryCloud;
registerDriver("MEMORY_CLOCK", () => cloud.driver());

afterEach(() => {
  vi.useRealTimers();
});

async function makeCe(options: Record<string, string>): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement("clock.example.org", { logger: silentLogger });
  expect(
    (
      await ce.setParameters({
        CloudType: "MEMORY_CLOCK",
        Instance_Image: "name:pilot-image",
        Instance_Flavor: "name:small",
        ...options,
      })
    ).OK,
  ).toBe(true);
  return ce;
}

describe("the system clock steps back an hour", () => {
  it("cloud calls keep their rate, not an hour's wait", async () => {
    cloud = new MemoryCloud();
    const ce = await makeCe({ Cloud_RateLimit: "5" });
    expect((await ce.listPilots()).OK).toBe(true);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - HOUR);
    // Ten calls at 5 per second: about two seconds, where a limiter on the clock would wait an hour.
    for (let i = 0; i < 10; i++) expect((await ce.listPilots()).OK).toBe(true);
    await ce.shutdown();
  });

  it("an open breaker probes after its cool-down, not an hour later", async () => {
    cloud = new MemoryCloud();
    const ce = await makeCe({ Cloud_RateLimit: "0", Health_FailureThreshold: "1", Health_CoolDownSeconds: "1" });
    cloud.faults.listFailure = new CloudceError("CloudUnavailable", "MEMORY: listing down", { retryable: false });
    expect((await ce.listPilots()).OK).toBe(false);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - HOUR);
    cloud.faults.listFailure = undefined;
    await until(async () => (await ce.listPilots()).OK, "the probe after the cool-down");
    await ce.shutdown();
  });
});
