/**
 * A create whose answer is lost although the cloud made the VM (every retry
 * timed out, the connection dropped after the cloud acted): the CE finds the
 * VM by its submission's batch tag, returns it as a reference and journals
 * it, on per-VM drivers and batch drivers alike.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { deriveStamp } from "../../src/context/index.js";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { CloudceError, type ErrorCode } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { MemoryCloud } from "../../src/testing.js";

let cloud: MemoryCloud;
let lostCode: ErrorCode = "Timeout";
let dir: string;
let pilot: string;

/** Creates as asked, then loses the answer. */
function losingAnswers(d: CloudDriver): CloudDriver {
  const create = d.createNodes.bind(d);
  d.createNodes = async (req) => {
    await create(req);
    throw new CloudceError(lostCode, "MEMORY: no answer in time (Cloud_RequestTimeout)", { driver: "MEMORY" });
  };
  return d;
}

async function makeCe(uniformBatch: boolean): Promise<{ ce: CloudComputingElement; journal: string }> {
  cloud = new MemoryCloud({ autoBoot: false, capabilities: { uniformBatch } });
  const journal = join(await mkdtemp(join(dir, "j-")), "journal.jsonl");
  const ce = new CloudComputingElement("ce-lost.example.org", { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "MEMORY_LOSING",
    Instance_Image: "name:pilot-image",
    Instance_Flavor: "name:small",
    Instance_Networks: "name:private",
    Cloud_RateLimit: "0",
    Journal_File: journal,
  });
  expect(set.OK).toBe(true);
  return { ce, journal };
}

beforeAll(async () => {
  registerDriver("MEMORY_LOSING", () => losingAnswers(cloud.driver()));
  dir = await mkdtemp(join(tmpdir(), "cloudce-lost-"));
  pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
});

describe("creates whose answer was lost", () => {
  it.each([
    ["one request per VM", false],
    ["one request for the batch", true],
  ])("%s: the VMs are returned as references and journaled", async (_label, uniform) => {
    lostCode = "Timeout";
    const { ce, journal } = await makeCe(uniform);
    const result = await ce.submitJob(pilot, null, 3);
    expect(result.OK).toBe(true);
    if (!result.OK) return;
    const ids = [...cloud.nodes.keys()];
    expect(ids).toHaveLength(3);
    expect([...result.Value].sort()).toEqual(ids.map((id) => `cloud://${id}`).sort());
    for (const [ref, stamp] of Object.entries(result.PilotStampDict)) {
      const node = cloud.nodes.get(ref.slice("cloud://".length))!.node;
      const expected = uniform
        ? deriveStamp(node.metadata["cloudce-stamp-seed"]!, node.id)
        : node.metadata["cloudce-stamp"];
      expect(stamp).toBe(expected);
    }
    const creates = (await readJournal(journal)).entries.filter((e) => e.action === "create" && e.outcome === "ok");
    expect(creates.map((e) => e.ref).sort()).toEqual([...result.Value].sort());
    expect(creates.every((e) => /recovered/.test(e.reason))).toBe(true);
  });

  it("does not list the cloud after a failure that proves nothing was made", async () => {
    lostCode = "QuotaExceeded";
    const { ce } = await makeCe(false);
    cloud.nodes.clear();
    const before = cloud.calls["listNodes"] ?? 0;
    // The memory driver made the VMs before 'failing': a quota answer is trusted, so they stay unreported (cleanup finds them).
    expect((await ce.submitJob(pilot, null, 2)).OK).toBe(false);
    expect(cloud.calls["listNodes"] ?? 0).toBe(before);
  });
});

describe("a lost answer in a flavor fallback round", () => {
  it("recovers only that round's VMs: earlier rounds' VMs are neither journaled again nor taken for its failures", async () => {
    cloud = new MemoryCloud({
      autoBoot: false,
      capabilities: { uniformBatch: true },
      flavors: [
        { id: "flv-1", name: "small", vcpus: 2, ramMb: 4096 },
        { id: "flv-2", name: "large", vcpus: 4, ramMb: 8192 },
      ],
    });
    registerDriver("MEMORY_ROUNDS", () => {
      const d = cloud.driver();
      const create = d.createNodes.bind(d);
      d.createNodes = async (req) => {
        if (req.flavorId === "flv-2")
          throw new CloudceError("Timeout", "MEMORY: no answer in time (Cloud_RequestTimeout)", { driver: "MEMORY" });
        const made = await create({ ...req, nodes: req.nodes.slice(0, 2) });
        const error = new CloudceError("QuotaExceeded", "MEMORY: cores quota reached", {
          driver: "MEMORY",
          quotaResource: "cores",
        });
        return { created: made.created, failed: req.nodes.slice(2).map((n) => ({ target: n.name, error })) };
      };
      return d;
    });
    const journal = join(await mkdtemp(join(dir, "j-")), "journal.jsonl");
    const ce = new CloudComputingElement("ce-rounds.example.org", { logger: silentLogger });
    expect(
      (
        await ce.setParameters({
          CloudType: "MEMORY_ROUNDS",
          Instance_Image: "name:pilot-image",
          Instance_Flavor: "name:small, name:large",
          Instance_Networks: "name:private",
          Cloud_RateLimit: "0",
          Journal_File: journal,
        })
      ).OK,
    ).toBe(true);
    const result = await ce.submitJob(pilot, null, 4);
    const refs = result.OK ? [...result.Value] : [];
    expect(refs).toHaveLength(2);
    const creates = (await readJournal(journal)).entries.filter((e) => e.action === "create" && e.outcome === "ok");
    expect(creates.map((e) => e.ref).sort()).toEqual(refs.sort());
    expect(creates.some((e) => /recovered/.test(e.reason))).toBe(false);
  });
});
