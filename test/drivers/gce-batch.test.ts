/** GCE creation: one bulkInsert per batch, idempotent by requestId, operations polled with a deadline, errors inside operations typed, partial success. */

import { describe, expect, it } from "vitest";
import type { CreateNodesRequest } from "../../src/drivers/driver.js";
import { insertRequestId } from "../../src/drivers/gce/create-nodes.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { gceFixturePerTest } from "../servers/gce/vitest-scope.js";
import { HANG_TIMEOUT_MS, until } from "../support/wait.js";

const fixtures = gceFixturePerTest();

const OWNER = { "cloudce-ce": "cloud.mysite.example", "cloudce-queue": "Long_Queue", "cloudce-batch": "0a1b2c3d" };
const userData = new Uint8Array(Buffer.from("#cloud-config\nruncmd: [poweroff]\n"));

const request = (count: number, over: Partial<CreateNodesRequest> = {}): CreateNodesRequest => ({
  imageId: "projects/grid-test/global/images/el9-pilot-v2",
  flavorId: "e2-small",
  networkIds: ["pilots"],
  nodes: Array.from({ length: count }, () => ({ name: "dirac-pilot-0a1b2c3d", userData, metadata: OWNER })),
  requestId: "6f1c0d52-8a43-4c1e-9b7a-3d2e1f0a9b8c",
  ...over,
});

describe("GCE bulkInsert", () => {
  it("creates a batch with ONE bulkInsert: count N, minCount 1, a name pattern, one base64 user-data, labels", async () => {
    const f = await fixtures.manual();
    const result = await f.driver.createNodes(request(5));
    expect(result.failed).toEqual([]);
    expect(result.created).toHaveLength(5);
    expect(f.server.calls["instances.bulkInsert"]).toBe(1);
    const sent = f.server.requests.find((r) => r.call === "instances.bulkInsert")!;
    expect(sent.query.get("requestId")).toBe(insertRequestId(request(1).requestId, 0));
    const body = sent.body as {
      count: number;
      minCount: number;
      namePattern: string;
      instanceProperties: {
        machineType: string;
        labels: Record<string, string>;
        metadata: { items: { key: string; value: string }[] };
        disks: { initializeParams: { sourceImage: string } }[];
        networkInterfaces: { network: string }[];
      };
    };
    expect(body).toMatchObject({ count: 5, minCount: 1, namePattern: "dirac-pilot-0a1b2c3d-####" });
    const props = body.instanceProperties;
    expect(props.machineType).toBe("e2-small");
    expect(props.labels).toEqual({
      "cloudce-ce": "cloud_2emysite_2eexample",
      "cloudce-queue": "_4cong_5f_51ueue",
      "cloudce-batch": "0a1b2c3d",
    });
    const items = Object.fromEntries(props.metadata.items.map((i) => [i.key, i.value]));
    expect(Buffer.from(items["user-data"]!, "base64").toString()).toBe(Buffer.from(userData).toString());
    expect(items["user-data-encoding"]).toBe("base64");
    expect(props.disks[0]!.initializeParams.sourceImage).toBe("projects/grid-test/global/images/el9-pilot-v2");
    expect(props.networkInterfaces[0]!.network).toBe("global/networks/pilots");
    // Names are the pattern's; the CE metadata reads back as given, decoded from the labels.
    expect(result.created.map((n) => n.name).sort()).toEqual(
      [1, 2, 3, 4, 5].map((i) => `dirac-pilot-0a1b2c3d-000${i}`),
    );
    for (const n of result.created) {
      expect(n.id).toMatch(/^\d+$/);
      expect(n.metadata).toMatchObject(OWNER);
    }
  });

  it("polls the operation PENDING → RUNNING → DONE on the clock, backing off", async () => {
    const f = await fixtures.manual({ server: { pendingMs: 2_000, runningMs: 20_000 } });
    const t0 = f.clock.now();
    const result = await f.driver.createNodes(request(2));
    expect(result.created).toHaveLength(2);
    expect(f.clock.now() - t0).toBeGreaterThanOrEqual(22_000);
    // Backing off from 0.5 s to 5 s: a 22 s operation takes a handful of polls, not dozens.
    const polls = f.server.calls["zoneOperations.get"] ?? 0;
    expect(polls).toBeGreaterThanOrEqual(4);
    expect(polls).toBeLessThanOrEqual(12);
  });

  it("gives up on an operation that never finishes at Driver_operation_timeout, and still returns the VMs that exist", async () => {
    const f = await fixtures.manual({ options: { operation_timeout: "60" } });
    f.server.inject({ call: "instances.bulkInsert", kind: "stuckOperation" });
    const t0 = f.clock.now();
    const result = await f.driver.createNodes(request(3));
    expect(f.clock.now() - t0).toBeLessThanOrEqual(70_000);
    expect(result.created).toHaveLength(3);
    expect(result.failed).toEqual([]);
  });

  it("a stuck operation that created nothing is a Timeout naming the option", async () => {
    const f = await fixtures.manual({
      options: { operation_timeout: "30" },
      server: { capacity: { "europe-west1-b": 0 } },
    });
    f.server.inject({ call: "instances.bulkInsert", kind: "stuckOperation" });
    await expect(f.driver.createNodes(request(3))).rejects.toMatchObject({
      code: "Timeout",
      message: expect.stringContaining("Driver_operation_timeout"),
    });
  });

  it.each([
    ["ZONE_RESOURCE_POOL_EXHAUSTED", "CapacityExceeded"],
    ["ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", "CapacityExceeded"],
    ["QUOTA_EXCEEDED", "QuotaExceeded"],
    ["RESOURCE_NOT_FOUND", "CloudError"],
  ])("an operation that is DONE with %s is a typed %s error", async (errorCode, code) => {
    const f = await fixtures.manual();
    f.server.inject({ call: "instances.bulkInsert", kind: "operationError", code: errorCode });
    await expect(f.driver.createNodes(request(2))).rejects.toMatchObject({
      code,
      driver: "GCE",
      message: expect.stringContaining(errorCode),
    });
  });

  it.each([
    ["projects/grid-test/global/images/gone-v1", "ImageNotFound"],
    ["e2-nonesuch", "FlavorNotFound"],
  ])("a resource that vanished (%s) is %s, so the CE resolves again", async (what, code) => {
    const f = await fixtures.manual();
    const req = what.startsWith("projects/") ? request(1, { imageId: what }) : request(1, { flavorId: what });
    await expect(f.driver.createNodes(req)).rejects.toMatchObject({
      code,
      message: expect.stringContaining("RESOURCE_NOT_FOUND"),
    });
  });

  it("a network that vanished is NetworkNotFound", async () => {
    const f = await fixtures.manual();
    await expect(f.driver.createNodes(request(1, { networkIds: ["gone"] }))).rejects.toMatchObject({
      code: "NetworkNotFound",
    });
  });

  it("a partial success (perLocationStatus) returns what was created and fails the rest with CapacityExceeded", async () => {
    const f = await fixtures.manual({ server: { capacity: { "europe-west1-b": 3 } } });
    const result = await f.driver.createNodes(request(5));
    expect(result.created).toHaveLength(3);
    expect(result.failed).toHaveLength(2);
    expect(result.failed[0]!.error).toMatchObject({
      code: "CapacityExceeded",
      message: expect.stringContaining("ZONE_RESOURCE_POOL_EXHAUSTED"),
    });
  });

  it("the region's CPU quota reached mid-batch is QuotaExceeded for the rest", async () => {
    const f = await fixtures.manual({ server: { quotas: { CPUS: 6 } } });
    const result = await f.driver.createNodes(request(5));
    expect(result.created).toHaveLength(3);
    expect(result.failed.map((x) => (x.error as { code?: string }).code)).toEqual(["QuotaExceeded", "QuotaExceeded"]);
    // CPUs depend on the flavor (a smaller one may fit): the CE's fallback reads this.
    expect(result.failed[0]!.error).toMatchObject({ quotaResource: "cores" });
  });

  it("retries a bulkInsert whose answer was lost with the same requestId: one operation, no second batch", async () => {
    const f = await fixtures.manual();
    f.server.inject({ call: "instances.bulkInsert", kind: "dropAfter" });
    const result = await f.driver.createNodes(request(4));
    expect(result.created).toHaveLength(4);
    expect(f.server.calls["instances.bulkInsert"]).toBe(2);
    const ids = f.server.requests.filter((r) => r.call === "instances.bulkInsert").map((r) => r.query.get("requestId"));
    expect(new Set(ids).size).toBe(1);
    expect(f.server.cloud.instances.size).toBe(4);
  });

  it("an insert whose every answer was lost is asked for again with the same requestId: the operation it started is awaited", async () => {
    const f = await fixtures.manual({ options: { max_attempts: "2" }, requestTimeoutMs: HANG_TIMEOUT_MS });
    f.server.inject({ call: "instances.bulkInsert", kind: "hangAfter", times: 2 });
    const result = await f.driver.createNodes(request(2));
    expect(result.created).toHaveLength(2);
    const inserts = f.server.requests.filter((r) => r.call === "instances.bulkInsert");
    expect(inserts).toHaveLength(3);
    expect(new Set(inserts.map((r) => r.query.get("requestId"))).size).toBe(1);
    expect([...f.server.cloud.operations.values()].filter((o) => o.operationType === "bulkInsert")).toHaveLength(1);
  });

  it("if asking again is lost too, the VMs the lost attempt made are read back by their names and labels", async () => {
    const f = await fixtures.manual({ options: { max_attempts: "2" }, requestTimeoutMs: HANG_TIMEOUT_MS });
    f.server.inject({ call: "instances.bulkInsert", kind: "hangAfter", times: 4 });
    const result = await f.driver.createNodes(request(2));
    expect(result.created).toHaveLength(2);
    expect(f.server.calls["instances.bulkInsert"]).toBe(4);
    expect(f.server.cloud.instances.size).toBe(2);
  });

  it("VMs made by a successful operation whose read-back fails are reported as maybe created (uncertain), never as a certain failure", async () => {
    const f = await fixtures.manual();
    // The token is refused twice in a row on the listing: AuthFailed there, after the insert worked.
    f.server.inject({ call: "instances.list", kind: "unauthorized", times: 2 });
    const err = await f.driver.createNodes(request(2)).catch((e: { code?: string; message?: string }) => e);
    expect(err).toMatchObject({ code: "CloudError", message: expect.stringContaining("may have been created") });
    expect(f.server.cloud.instances.size).toBe(2);
  });

  it("a regional bulk insert (several zones) sends a location policy and spreads over the zones", async () => {
    const f = await fixtures.manual({
      options: { zone: "europe-west1-b,europe-west1-c", target_shape: "ANY" },
      server: { capacity: { "europe-west1-b": 2 } },
    });
    const result = await f.driver.createNodes(request(5));
    expect(result.created).toHaveLength(5);
    const sent = f.server.requests.find((r) => r.call === "regionInstances.bulkInsert")!;
    expect(sent.path).toContain("/regions/europe-west1/instances/bulkInsert");
    expect((sent.body as { locationPolicy: unknown }).locationPolicy).toEqual({
      locations: { "zones/europe-west1-b": { preference: "ALLOW" }, "zones/europe-west1-c": { preference: "ALLOW" } },
      targetShape: "ANY",
    });
    const zones = [...f.server.cloud.instances.values()].map((i) => i.zone).sort();
    expect(zones).toEqual(["europe-west1-b", "europe-west1-b", "europe-west1-c", "europe-west1-c", "europe-west1-c"]);
    // Ids alone find their zone again.
    const last = result.created.find((n) => f.server.cloud.instances.get(n.id)?.zone === "europe-west1-c")!;
    expect((await f.driver.getNode(last.id))?.id).toBe(last.id);
    expect((await f.driver.destroyNodes([last.id])).done).toEqual([last.id]);
  });

  it("spot VMs ask for provisioningModel SPOT and stop on preemption", async () => {
    const f = await fixtures.manual({ options: { spot: "true" } });
    await f.driver.createNodes(request(1));
    const props = (
      f.server.requests.find((r) => r.call === "instances.bulkInsert")!.body as {
        instanceProperties: Record<string, unknown>;
      }
    ).instanceProperties;
    expect(props["scheduling"]).toMatchObject({ provisioningModel: "SPOT", instanceTerminationAction: "STOP" });
  });

  it("a name GCE cannot hold is refused before any call, never rewritten", async () => {
    const f = await fixtures.manual();
    const bad = request(1, { nodes: [{ name: "VMDIRAC3_0A1B2C3D", userData, metadata: OWNER }] });
    await expect(f.driver.createNodes(bad)).rejects.toMatchObject({
      code: "OptionInvalid",
      message: expect.stringContaining("cannot start a GCE instance name"),
    });
    expect(f.server.calls["instances.bulkInsert"]).toBeUndefined();
  });

  it("derives one UUID requestId per batch, stable for a request", () => {
    const a = insertRequestId("conf-run-create", 0);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(insertRequestId("conf-run-create", 0)).toBe(a);
    expect(insertRequestId("conf-run-create", 1)).not.toBe(a);
  });
});

describe("GCE close", () => {
  it("a close during a long operation ends its polling without retries", async () => {
    const records: LogRecord[] = [];
    const f = await fixtures.manual({
      options: { operation_timeout: "3600" },
      logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
    });
    f.server.inject({ call: "instances.bulkInsert", kind: "stuckOperation" });
    const creating = f.driver.createNodes(request(1)).then(
      () => "returned",
      (e: { code?: string }) => e.code,
    );
    await until(() => (f.server.calls["zoneOperations.get"] ?? 0) >= 1, "the operation's polling");
    await f.driver.close();
    expect(await creating).toMatch(/returned|Internal|CloudError/);
    expect(records.filter((r) => r.msg.includes("retrying"))).toEqual([]);
  });
});
