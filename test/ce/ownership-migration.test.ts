import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/cloud-computing-element.js";
import type { CloudNode } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

let cloud: MemoryCloud;
let dir: string;
let pilot: string;

beforeAll(async () => {
  registerDriver("MEMORY_MIGRATION", () => cloud.driver());
  dir = await mkdtemp(join(tmpdir(), "cloudce-migration-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "echo pilot\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeEach(() => {
  cloud = new MemoryCloud({
    images: [{ id: "img", name: "img" }],
    flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
  });
});

/** A VM as DIRAC's own CloudCE leaves it: the VMDIRAC3_ prefix and no cloudce metadata. */
function diracCloudCeVm(name: string, state: CloudNode["state"], metadata: Record<string, string> = {}): string {
  const id = `dirac-${name}`;
  const node: CloudNode = { id, name, state, cloudState: state.toUpperCase(), createdAt: new Date(), metadata };
  cloud.nodes.set(id, { node, userData: new Uint8Array() });
  return `cloud://${id}`;
}

async function ce(adopt?: string): Promise<CloudComputingElement> {
  const c = new CloudComputingElement("migrating.cloud", { logger: silentLogger });
  const options = {
    CloudType: "MEMORY_MIGRATION",
    Instance_Image: "img",
    Instance_Flavor: "small",
    MaxTotalJobs: 10,
    MaxWaitingJobs: 10,
  };
  const set = await c.setParameters(adopt === undefined ? options : { ...options, Ownership_AdoptUntagged: adopt });
  expect(set.OK).toBe(true);
  return c;
}

describe("Ownership_AdoptUntagged: migrating from DIRAC's CloudCE", () => {
  it("off (the default): untagged VMs with our prefix are not this CE's", async () => {
    const running = diracCloudCeVm("VMDIRAC3_0000AAAA", "running");
    const stopped = diracCloudCeVm("VMDIRAC3_0000BBBB", "stopped");
    const c = await ce();
    expect(await c.getJobStatus([running])).toEqual({ OK: true, Value: { [running]: "Deleted" } });
    expect(await c.getCEStatus()).toMatchObject({ OK: true, RunningJobs: 0 });
    const kill = await c.killJob([running]);
    expect(kill).toMatchObject({ OK: false, Message: expect.stringContaining("belongs to another CE") });
    await c.cleanupPilots();
    expect(cloud.nodes.has(stopped.slice("cloud://".length))).toBe(true);
  });

  it("on: status, counts, kill and cleanup treat them as this CE's, as DIRAC's CloudCE did", async () => {
    const running = diracCloudCeVm("VMDIRAC3_0000CCCC", "running");
    const stopped = diracCloudCeVm("VMDIRAC3_0000DDDD", "stopped");
    const c = await ce("yes");
    const own = await c.submitJob(pilot, null, 1);
    expect(own.OK).toBe(true);
    expect(await c.getJobStatus([running])).toEqual({ OK: true, Value: { [running]: "Running" } });
    const counts = await c.getCEStatus();
    expect(counts.OK && counts.Value.RunningJobs + counts.Value.WaitingJobs).toBe(2); // the adopted running VM and ours
    const cleanup = await c.cleanupPilots();
    expect(cleanup.OK && cleanup.Value.deleted.map((d) => d.ref)).toEqual([stopped]);
    expect((await c.killJob([running])).OK).toBe(true);
    expect(cloud.nodes.has(running.slice("cloud://".length))).toBe(false);
  });

  it("on: a VM tagged for another cloudce CE, or without our prefix, is never adopted", async () => {
    const other = diracCloudCeVm("VMDIRAC3_0000EEEE", "stopped", { "cloudce-ce": "other.cloud" });
    const foreign = diracCloudCeVm("OTHER_0000FFFF", "stopped");
    const c = await ce("True");
    await c.cleanupPilots();
    expect(cloud.nodes.has(other.slice("cloud://".length))).toBe(true);
    expect(cloud.nodes.has(foreign.slice("cloud://".length))).toBe(true);
    expect((await c.killJob([other])).OK).toBe(false);
  });

  it("a value that is not yes or no is one clear line", async () => {
    const c = new CloudComputingElement("migrating.cloud", { logger: silentLogger });
    const set = await c.setParameters({
      CloudType: "MEMORY_MIGRATION",
      Instance_Image: "img",
      Instance_Flavor: "small",
      Ownership_AdoptUntagged: "maybe",
    });
    expect(set).toMatchObject({
      OK: false,
      Message: "Ownership_AdoptUntagged: 'maybe' is not a boolean: write true or false (yes/no, on/off, 1/0)",
      Code: "OptionInvalid",
    });
  });
});
