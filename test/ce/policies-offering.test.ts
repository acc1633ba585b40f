/** Flavor fallback and the unavailable-offering cache, on the in-memory cloud with an injected clock. */

import { describe, expect, it } from "vitest";
import { CloudceError } from "../../src/errors.js";
import type { CreateNodesRequest } from "../../src/drivers/driver.js";
import { harness, idOf, ok } from "./policy-harness.js";

const FLAVORS = [
  { id: "flv-large", name: "large", vcpus: 8, ramMb: 16_384 },
  { id: "flv-small", name: "small", vcpus: 2, ramMb: 4096 },
];
const CLOUD = { flavors: FLAVORS, limits: { cores: 8 } };
const TWO = { Instance_Flavor: "name:large, name:small" };

const noRoomFor =
  (flavorId: string, error = () => new CloudceError("CapacityExceeded", "no room for this flavor")) =>
  (_name: string, request: CreateNodesRequest) =>
    request.flavorId === flavorId ? error() : undefined;

describe("flavor fallback and the unavailable-offering cache", () => {
  it("a create that lacks capacity goes on with the next flavor in the same submit; status and journal show the flavor", async () => {
    const h = await harness(TWO, CLOUD);
    h.cloud.faults.createFailure = noRoomFor("flv-large");
    const refs = ok(await h.ce.submitJob(h.pilot, null, 3));
    expect(refs).toHaveLength(3);
    expect(ok(await h.ce.listPilots()).map((p) => p.flavor)).toEqual(["small", "small", "small"]);
    expect([...h.cloud.nodes.values()].map((n) => n.node.metadata["cloudce-flavor"])).toEqual([
      "small",
      "small",
      "small",
    ]);
    const decisions = await h.decisions();
    expect(decisions[0]).toMatch(
      /^offering-unavailable: large@name:private until 2026-06-01T12:03:00.000Z \(Offering_CacheSeconds 180\): no room for this flavor$/,
    );
    expect(decisions[1]).toBe("fallback: 3 pilots from flavor large to small: no room for this flavor");
    expect(decisions).toHaveLength(2);
  });

  it("available() counts quota with the first available offering and lists the unavailable ones; both end after Offering_CacheSeconds", async () => {
    const h = await harness(TWO, CLOUD);
    const before = await h.ce.available();
    expect(before).toMatchObject({ OK: true, Value: 1, CEInfoDict: { Offering: "large", CloudCapacity: 1 } });
    h.cloud.faults.createFailure = noRoomFor("flv-large");
    ok(await h.ce.submitJob(h.pilot, null, 1));
    const during = await h.ce.available();
    expect(during).toMatchObject({
      OK: true,
      Value: 3,
      CEInfoDict: {
        Offering: "small",
        CloudCapacity: 4,
        UnavailableOfferings: ["large@name:private until 2026-06-01T12:03:00.000Z"],
      },
    });
    h.cloud.faults.createFailure = undefined;
    h.advance(180);
    const after = await h.ce.available();
    expect(after).toMatchObject({ OK: true, CEInfoDict: { Offering: "large" } });
    expect(after.OK && after.CEInfoDict.UnavailableOfferings).toBeFalsy();
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    expect(h.cloud.nodes.get(idOf(ref!))?.node.metadata["cloudce-flavor"]).toBe("large");
  });

  it("skips an unavailable offering without asking the cloud for it", async () => {
    const h = await harness(TWO, CLOUD);
    const asked: string[] = [];
    h.cloud.faults.createFailure = (name, request) => {
      asked.push(request.flavorId);
      return noRoomFor("flv-large")(name, request);
    };
    ok(await h.ce.submitJob(h.pilot, null, 1));
    ok(await h.ce.submitJob(h.pilot, null, 1));
    expect(asked).toEqual(["flv-large", "flv-small", "flv-small"]);
    // Each flavor is resolved once per Resolve_CacheTTL, fallback or not.
    h.advance(180);
    h.cloud.faults.createFailure = undefined;
    expect(await h.ce.available()).toMatchObject({ OK: true, CEInfoDict: { Offering: "large" } });
    ok(await h.ce.submitJob(h.pilot, null, 1));
    expect(h.calls("listFlavors")).toBe(2);
  });

  it("a quota on the flavor's cores or RAM falls back; an instance quota does not", async () => {
    const h = await harness(TWO, CLOUD);
    h.cloud.faults.createFailure = noRoomFor(
      "flv-large",
      () => new CloudceError("QuotaExceeded", "Quota exceeded for cores", { quotaResource: "cores" }),
    );
    expect(ok(await h.ce.submitJob(h.pilot, null, 1))).toHaveLength(1);
    const g = await harness(TWO, CLOUD);
    g.cloud.faults.createFailure = () =>
      new CloudceError("QuotaExceeded", "Quota exceeded for instances", { quotaResource: "instances" });
    expect(await g.ce.submitJob(g.pilot, null, 1)).toMatchObject({ OK: false, Code: "QuotaExceeded" });
    expect(await g.decisions()).toEqual([]);
  });

  it("a network out of addresses neither falls back to another flavor nor marks any offering: no flavor has room there", async () => {
    const h = await harness(TWO, CLOUD);
    const asked: string[] = [];
    h.cloud.faults.createFailure = (_name, request) => {
      asked.push(request.flavorId);
      return new CloudceError("CapacityExceeded", "the subnet has no free addresses", {
        driver: "MEMORY",
        shortage: "network-addresses",
      });
    };
    expect(await h.ce.submitJob(h.pilot, null, 1)).toMatchObject({
      OK: false,
      Code: "CapacityExceeded",
      Message: expect.stringContaining("add a network with free addresses to Instance_Networks"),
    });
    expect(asked).toEqual(["flv-large"]);
    expect(await h.decisions()).toEqual([]);
    // Once the network has addresses again, the first flavor is tried at once.
    h.cloud.faults.createFailure = undefined;
    expect(await h.ce.available()).toMatchObject({ OK: true, CEInfoDict: { Offering: "large" } });
  });

  it("once every offering lacks capacity, available() gives 0 with the reason and submit asks the cloud for nothing", async () => {
    const h = await harness({}, CLOUD);
    h.cloud.faults.createFailure = () => new CloudceError("CapacityExceeded", "InsufficientInstanceCapacity");
    expect(await h.ce.submitJob(h.pilot, null, 2)).toMatchObject({ OK: false, Code: "CapacityExceeded" });
    const r = await h.ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { Reason: expect.stringContaining("every offering of Instance_Flavor lacks capacity") },
    });
    const creates = h.calls("createNodes");
    expect(await h.ce.submitJob(h.pilot, null, 1)).toMatchObject({
      OK: false,
      Code: "CapacityExceeded",
      Message: expect.stringContaining("small@name:private until 2026-06-01T12:03:00.000Z"),
    });
    expect(h.calls("createNodes")).toBe(creates);
  });

  it("a VM the cloud failed for lack of capacity (Nova's No valid host) marks its offering", async () => {
    const h = await harness(TWO, CLOUD);
    const [ref] = ok(await h.ce.submitJob(h.pilot, null, 1));
    h.cloud.setState(idOf(ref!), "error", { fault: { code: "CapacityExceeded", message: "No valid host was found." } });
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      CEInfoDict: { Offering: "small", UnavailableOfferings: [expect.stringMatching(/^large@name:private until/)] },
    });
    expect(await h.decisions()).toEqual([
      expect.stringMatching(/^offering-unavailable: large@name:private .*: VM .*: No valid host was found\.$/),
    ]);
    // The failed VM is still listed after the cache time: it does not mark the offering again.
    h.advance(180);
    expect(await h.ce.available()).toMatchObject({ OK: true, CEInfoDict: { Offering: "large" } });
    expect(await h.decisions()).toHaveLength(1);
  });

  it("an interrupted submission does not fall back", async () => {
    const h = await harness(TWO, CLOUD);
    const stop = new AbortController();
    h.cloud.faults.createFailure = (name, request) => {
      stop.abort();
      return noRoomFor("flv-large")(name, request);
    };
    const r = await h.ce.submitJob(h.pilot, null, 1, { signal: stop.signal });
    expect(r).toMatchObject({ OK: true, Value: [], Interrupted: expect.stringContaining("submission interrupted") });
    expect(h.calls("createNodes")).toBe(1);
    expect((await h.decisions()).map((d) => d.split(":")[0])).toEqual(["offering-unavailable"]);
  });

  it("off (Offering_CacheSeconds 0): nothing is remembered; one flavor behaves as before", async () => {
    const h = await harness({ Offering_CacheSeconds: "0" }, CLOUD);
    h.cloud.faults.createFailure = () => new CloudceError("CapacityExceeded", "InsufficientInstanceCapacity");
    expect(await h.ce.submitJob(h.pilot, null, 1)).toMatchObject({ OK: false, Code: "CapacityExceeded" });
    expect(await h.ce.available()).toMatchObject({ OK: true, Value: 4, CEInfoDict: { Offering: "small" } });
    expect(await h.ce.submitJob(h.pilot, null, 1)).toMatchObject({ OK: false, Code: "CapacityExceeded" });
    expect(h.calls("createNodes")).toBe(2);
    expect(await h.decisions()).toEqual([]);
  });
});
