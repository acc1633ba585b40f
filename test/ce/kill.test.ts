/**
 * killJob reports "killed" only when a destroy was sent and succeeded (or the
 * VM is provably gone): a VM missing from the listing (a fresh EC2 instance
 * can be, for a while) is destroyed all the same, and a failed ownership
 * look-up is a failure, never a silent success.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import type { CloudDriver, CloudNode } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { CloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { MemoryCloud } from "../../src/testing.js";

let cloud: MemoryCloud;
/** Ids the listing does not show yet (eventual consistency). */
const unlisted = new Set<string>();
let lookup: (id: string, real: CloudNode | undefined) => Promise<CloudNode | undefined> = async (_id, real) => real;
let pilot: string;

function laggingListing(d: CloudDriver): CloudDriver {
  const list = d.listNodes.bind(d);
  const get = d.getNode.bind(d);
  d.listNodes = async (f) => (await list(f)).filter((n) => !unlisted.has(n.id));
  d.getNode = async (id) => lookup(id, await get(id));
  return d;
}

async function ceWith(n: number, name = "ce-k.example.org"): Promise<{ ce: CloudComputingElement; refs: string[] }> {
  const ce = new CloudComputingElement(name, { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "MEMORY_LAGGING",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Instance_Networks: "name:private",
    Cloud_RateLimit: "0",
  });
  expect(set.OK).toBe(true);
  const r = await ce.submitJob(pilot, null, n);
  if (!r.OK) throw new Error(r.Message);
  return { ce, refs: r.Value };
}

const idOf = (ref: string): string => ref.slice("cloud://".length);

beforeAll(async () => {
  registerDriver("MEMORY_LAGGING", () => laggingListing(cloud.driver()));
  const dir = await mkdtemp(join(tmpdir(), "cloudce-kill-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

describe("killJob", () => {
  it("destroys a VM the listing does not show yet, when the single look-up finds nothing either", async () => {
    cloud = new MemoryCloud({ autoBoot: false });
    const { ce, refs } = await ceWith(2);
    unlisted.add(idOf(refs[0]!));
    lookup = async () => undefined;
    const r = await ce.killJob(refs);
    expect(r).toMatchObject({ OK: true });
    expect(cloud.nodes.size).toBe(0);
    unlisted.clear();
  });

  it("destroys a VM the listing misses but the look-up shows as this CE's", async () => {
    cloud = new MemoryCloud({ autoBoot: false });
    const { ce, refs } = await ceWith(1);
    unlisted.add(idOf(refs[0]!));
    lookup = async (_id, real) => real;
    expect(await ce.killJob(refs)).toMatchObject({ OK: true, Value: { killed: refs } });
    expect(cloud.nodes.size).toBe(0);
    unlisted.clear();
  });

  it("reports a failed ownership look-up as a failure and destroys nothing", async () => {
    cloud = new MemoryCloud({ autoBoot: false });
    const { ce, refs } = await ceWith(1);
    unlisted.add(idOf(refs[0]!));
    lookup = async () => {
      throw new CloudceError("CloudUnavailable", "MEMORY: HTTP 503", { driver: "MEMORY" });
    };
    const r = await ce.killJob(refs);
    expect(r).toMatchObject({ OK: false, Message: expect.stringContaining("HTTP 503") });
    expect(cloud.nodes.size).toBe(1);
    unlisted.clear();
  });

  it("still refuses another CE's VM", async () => {
    cloud = new MemoryCloud({ autoBoot: false });
    const theirs = await ceWith(1, "ce-other.example.org");
    const { ce } = await ceWith(1);
    lookup = async (_id, real) => real;
    expect(await ce.killJob(theirs.refs)).toMatchObject({
      OK: false,
      Message: expect.stringContaining("belongs to another CE"),
    });
    expect(cloud.nodes.size).toBe(2);
  });
});
