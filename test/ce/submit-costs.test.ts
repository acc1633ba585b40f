/**
 * What a submit costs the cloud when something is wrong before the first VM:
 * oversized user-data costs no call at all, and a resolution the cloud has
 * made stale (an image replaced under the same name) is renewed once, not
 * reused for Resolve_CacheTTL.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import type { CloudDriver, CloudResource } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { CloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud, type MemoryCloudOptions } from "../../src/testing.js";

let cloud: MemoryCloud;
let images: CloudResource[] = [];
let pilot: string;

/** The memory cloud, refusing a create whose image id it no longer has, as Nova and EC2 do. */
function strictImages(d: CloudDriver): CloudDriver {
  const create = d.createNodes.bind(d);
  d.listImages = async (q) => {
    cloud.count("listImages");
    return images.filter((i) => (q?.id === undefined || i.id === q.id) && (q?.name === undefined || i.name === q.name));
  };
  d.createNodes = async (req) => {
    if (images.some((i) => i.id === req.imageId)) return create(req);
    cloud.count("createNodes");
    throw new CloudceError("ImageNotFound", "MEMORY: Can not find requested image", { driver: "MEMORY" });
  };
  return d;
}

async function makeCe(options: MemoryCloudOptions = {}): Promise<CloudComputingElement> {
  cloud = new MemoryCloud({ autoBoot: false, ...options });
  const ce = new CloudComputingElement("ce-cost.example.org", { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "MEMORY_STRICT",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Instance_Networks: "name:private",
    Cloud_RateLimit: "0",
    Resolve_CacheTTL: "3600",
  });
  expect(set.OK).toBe(true);
  return ce;
}

beforeAll(async () => {
  registerDriver("MEMORY_STRICT", () => strictImages(cloud.driver()));
  const dir = await mkdtemp(join(tmpdir(), "cloudce-cost-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

describe("submit costs", () => {
  it("refuses oversized user-data before any cloud call: no login, no look-up, no create", async () => {
    images = [{ id: "img-1", name: "pilot-image" }];
    const ce = await makeCe({ capabilities: { userData: { maxBytes: 64, measuredAs: "raw" } } });
    expect(await ce.submitJob(pilot, null, 2)).toMatchObject({ OK: false, Code: "UserDataTooLarge" });
    expect(cloud.calls).toEqual({});
  });

  it("resolves again once when a create says the cached image is gone, and creates with the new one", async () => {
    images = [{ id: "img-1", name: "pilot-image" }];
    const ce = await makeCe();
    expect((await ce.submitJob(pilot, null, 1)).OK).toBe(true);
    images = [{ id: "img-2", name: "pilot-image" }];
    const second = await ce.submitJob(pilot, null, 2);
    expect(second).toMatchObject({ OK: true, Value: [expect.any(String), expect.any(String)] });
    const third = await ce.submitJob(pilot, null, 1);
    expect(third.OK).toBe(true);
    expect(cloud.nodes.size).toBe(4);
  });

  it("gives up after one renewed resolution when the image really is gone", async () => {
    images = [{ id: "img-1", name: "pilot-image" }];
    const ce = await makeCe();
    expect((await ce.submitJob(pilot, null, 1)).OK).toBe(true);
    const lookups = cloud.calls["listImages"] ?? 0;
    images = [];
    expect(await ce.submitJob(pilot, null, 1)).toMatchObject({ OK: false, Code: "ImageNotFound" });
    // One renewed look-up, which names what exists: no loop.
    expect((cloud.calls["listImages"] ?? 0) - lookups).toBeLessThanOrEqual(2);
  });
});
