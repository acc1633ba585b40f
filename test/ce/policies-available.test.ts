/** available() never fails (DIRAC v9 would fall back to its own counts and submit anyway), and an open breaker keeps it off the cloud. */

import { describe, expect, it } from "vitest";
import { CloudceError } from "../../src/errors.js";
import { harness, ok } from "./policy-harness.js";

/** Lets calls started in the background reach the cloud before counting them. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const CLOUD = { flavors: [{ id: "flv-small", name: "small", vcpus: 2, ramMb: 4096 }], limits: { cores: 8 } };

describe("available() always answers OK", () => {
  it("a failed getLimits gives OK with 0 slots and the reason", async () => {
    const h = await harness({}, CLOUD);
    h.cloud.faults.limitsFailure = new CloudceError("CloudUnavailable", "compute GET /limits: HTTP 503");
    const r = await h.ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { Reason: expect.stringContaining("cannot read the cloud's limits: compute GET /limits: HTTP 503") },
    });
  });

  it("a flavor that cannot be resolved gives OK with 0 slots and the reason", async () => {
    const h = await harness({ Instance_Flavor: "name:missing" }, CLOUD);
    const r = await h.ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { Reason: expect.stringContaining("cannot read the cloud's limits:") },
    });
  });
});

describe("an open breaker keeps available() off the cloud", () => {
  it("neither limits nor flavors are asked while the breaker is open", async () => {
    const h = await harness({ Health_FailureThreshold: "2", Health_CoolDownSeconds: "100" }, CLOUD);
    h.cloud.faults.listFailure = new CloudceError("CloudUnavailable", "compute GET /servers/detail: HTTP 503");
    for (let i = 0; i < 2; i++) ok(await h.ce.available());
    await settle();
    const limits = h.calls("getLimits");
    const flavors = h.calls("listFlavors");
    expect(await h.ce.available()).toMatchObject({ OK: true, Value: 0, CEInfoDict: { CloudHealth: "circuit-open" } });
    await settle();
    expect(h.calls("getLimits")).toBe(limits);
    expect(h.calls("listFlavors")).toBe(flavors);
    expect(h.calls("listNodes")).toBe(2);
  });
});

describe("available() with several flavors", () => {
  it("a flavor with no room by cores or RAM does not hide the room another flavor has", async () => {
    const flavors = [{ id: "flv-large", name: "large", vcpus: 8, ramMb: 16_384 }, ...CLOUD.flavors];
    const h = await harness({ Instance_Flavor: "name:large, name:small" }, { flavors, limits: { cores: 6 } });
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      Value: 3,
      CEInfoDict: { Offering: "small", CloudCapacity: 3 },
    });
    ok(await h.ce.submitJob(h.pilot, null, 1));
  });
});
