/**
 * How cleanup and kill spend cloud calls: one call for all ids where the
 * driver destroys in bulk (EC2), else one id per call within
 * Submit_Concurrency (so each call also passes the client-side rate limit).
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import type { BulkResult, CloudDriver } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

let cloud: MemoryCloud;
let pilot: string;
/** destroyNodes calls in flight now, the most at once, and the ids of each call. */
const seen = { inFlight: 0, max: 0, batches: [] as string[][] };

/** The memory driver, with destroyNodes watched and held for a tick so that calls overlap. */
function watched(driver: CloudDriver): CloudDriver {
  const destroy = driver.destroyNodes.bind(driver);
  driver.destroyNodes = async (ids: readonly string[]): Promise<BulkResult> => {
    seen.batches.push([...ids]);
    seen.max = Math.max(seen.max, ++seen.inFlight);
    await new Promise((r) => setImmediate(r));
    seen.inFlight -= 1;
    return destroy(ids);
  };
  return driver;
}

async function ceWithStoppedVms(
  n: number,
  bulkDestroy: boolean,
): Promise<{ ce: CloudComputingElement; refs: string[] }> {
  cloud = new MemoryCloud({ autoBoot: false, capabilities: { bulkDestroy } });
  seen.max = 0;
  seen.batches = [];
  const ce = new CloudComputingElement("ce-d.example.org", { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "MEMORY_WATCHED",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Instance_Networks: "name:private",
    Submit_Concurrency: "3",
    Cloud_RateLimit: "0",
  });
  expect(set.OK).toBe(true);
  const submitted = await ce.submitJob(pilot, null, n);
  if (!submitted.OK) throw new Error(submitted.Message);
  for (const ref of submitted.Value) cloud.setState(ref.slice("cloud://".length), "stopped");
  return { ce, refs: submitted.Value };
}

beforeAll(async () => {
  registerDriver("MEMORY_WATCHED", () => watched(cloud.driver()));
  const dir = await mkdtemp(join(tmpdir(), "cloudce-destroy-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

describe("destroying many VMs", () => {
  it("sends one id per call, at most Submit_Concurrency at once, when the driver has no bulk destroy", async () => {
    const { ce } = await ceWithStoppedVms(10, false);
    const report = await ce.cleanupPilots();
    expect(report.OK && report.Value.deleted).toHaveLength(10);
    expect(seen.batches).toHaveLength(10);
    expect(seen.batches.every((b) => b.length === 1)).toBe(true);
    expect(seen.max).toBeGreaterThan(1);
    expect(seen.max).toBeLessThanOrEqual(3);
    expect(cloud.nodes.size).toBe(0);
  });

  it("sends every id in one call when the driver destroys in bulk", async () => {
    const { ce, refs } = await ceWithStoppedVms(10, true);
    const killed = await ce.killJob(refs);
    expect(killed.OK && killed.Value.killed).toHaveLength(10);
    expect(seen.batches).toHaveLength(1);
    expect(seen.batches[0]).toHaveLength(10);
  });

  it("reports the ids whose deletion failed and deletes the rest", async () => {
    const { ce, refs } = await ceWithStoppedVms(4, false);
    const bad = refs[2]!.slice("cloud://".length);
    cloud.faults.destroyFailure = (id) => (id === bad ? new Error("HTTP 500") : undefined);
    const report = await ce.cleanupPilots();
    expect(report.OK && report.Value.failed.map((f) => f.ref)).toEqual([refs[2]]);
    expect([...cloud.nodes.keys()]).toEqual([bad]);
  });
});
