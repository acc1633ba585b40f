/**
 * A submission stopped while the CE resolves a flavor or a stale id again:
 * the call returns at the stop, even when that resolution never answers.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { CloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

let cloud: MemoryCloud;
let pilot: string;

beforeAll(async () => {
  pilot = join(await mkdtemp(join(tmpdir(), "cloudce-int-")), "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

describe("after an abort nothing waits unbounded", () => {
  /** Submits on a driver that hangs a flavor listing (and aborts the submission when it starts). */
  async function submitOn(cloudType: string, flavors: string, count: number, stop: AbortController) {
    const ce = new CloudComputingElement(`${cloudType.toLowerCase()}.example.org`, { logger: silentLogger });
    expect(
      (
        await ce.setParameters({
          CloudType: cloudType,
          Instance_Image: "name:pilot-image",
          Instance_Flavor: flavors,
          Instance_Networks: "name:private",
          Cloud_RateLimit: "0",
          Cloud_RequestTimeout: "1",
        })
      ).OK,
    ).toBe(true);
    return ce.submitJob(pilot, null, count, { signal: stop.signal });
  }

  it("returns when the next flavor's resolution hangs across the abort", async () => {
    cloud = new MemoryCloud({
      autoBoot: false,
      flavors: [
        { id: "flv-1", name: "small", vcpus: 2, ramMb: 4096 },
        { id: "flv-2", name: "large", vcpus: 4, ramMb: 8192 },
      ],
    });
    const stop = new AbortController();
    registerDriver("MEMORY_HANGING_RESOLVE", () => {
      const d = cloud.driver();
      const list = d.listFlavors.bind(d);
      d.listFlavors = async (q) => {
        if (q !== undefined && JSON.stringify(q).includes("large")) {
          stop.abort();
          return new Promise<never>(() => undefined);
        }
        return list(q);
      };
      d.createNodes = async (req) => ({
        created: [],
        failed: req.nodes.map((n) => ({
          target: n.name,
          error: new CloudceError("CapacityExceeded", "MEMORY: no room for this flavor"),
        })),
      });
      return d;
    });
    const result = await submitOn("MEMORY_HANGING_RESOLVE", "name:small, name:large", 2, stop);
    expect(result.OK ? result.Value : []).toEqual([]);
  });

  it("returns when resolving a stale id again hangs across the abort", async () => {
    cloud = new MemoryCloud({ autoBoot: false });
    const stop = new AbortController();
    registerDriver("MEMORY_HANGING_RENEW", () => {
      const d = cloud.driver();
      const list = d.listFlavors.bind(d);
      let lists = 0;
      d.listFlavors = async (q) => {
        if (++lists > 1) {
          stop.abort();
          return new Promise<never>(() => undefined);
        }
        return list(q);
      };
      d.createNodes = async () => {
        throw new CloudceError("FlavorNotFound", "MEMORY: flavor flv-1 is gone");
      };
      return d;
    });
    const result = await submitOn("MEMORY_HANGING_RENEW", "name:small", 1, stop);
    expect(result.OK ? result.Value : []).toEqual([]);
  });
});
