/** Nova multi-create on the real lab: the scenario the test-tree Nova is held to, and the driver's batches. */

import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { runMultiCreateScenario } from "../servers/openstack/multi-create-scenario.js";
import { closeLab, LAB, labDriver, labIds, labLogin } from "./lab-env.js";

const run = randomBytes(3).toString("hex").toUpperCase();
const prefix = `OSMC${run}_`;
let driver: CloudDriver;
let ids: { image: string; flavor: string; network: string };

beforeAll(async () => {
  driver = labDriver();
  ids = await labIds(driver);
});
afterAll(() => closeLab(driver, prefix));

describe("Nova multi-create on the real lab", () => {
  it("behaves as the test-tree Nova does", async () => {
    const { token } = await labLogin();
    await runMultiCreateScenario({
      computeUrl: "http://127.0.0.1:8774/v2.1",
      token,
      imageId: ids.image,
      flavorId: ids.flavor,
      networkId: ids.network,
      stateTimeoutMs: LAB.stateTimeoutMs,
    });
  });

  it("creates a batch of 4 with one POST, each server named <name>-i with the batch metadata", async () => {
    const spec = {
      name: `${prefix}B`,
      userData: new Uint8Array(Buffer.from("#cloud-config\n")),
      metadata: { "cloudce-ce": `lab-${run}`, "cloudce-batch": run },
    };
    const result = await driver.createNodes({
      imageId: ids.image,
      flavorId: ids.flavor,
      networkIds: [ids.network],
      nodes: [spec, spec, spec, spec],
      requestId: randomUUID(),
    });
    expect(result.failed).toEqual([]);
    expect(result.created.map((n) => n.name).sort()).toEqual([1, 2, 3, 4].map((i) => `${prefix}B-${i}`));
    const listed = await driver.listNodes({ namePrefix: prefix, metadata: { "cloudce-ce": `lab-${run}` } });
    expect(listed.map((n) => n.id).sort()).toEqual(result.created.map((n) => n.id).sort());
    expect((await driver.destroyNodes(listed.map((n) => n.id))).failed).toEqual([]);
  });
});
