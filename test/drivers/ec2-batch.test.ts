/** EC2 batches: one idempotent RunInstances per CE batch, partial fills, subnet fallback, paging, spot, bulk terminate. */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CreateNodesRequest } from "../../src/drivers/driver.js";
import { isCloudceError } from "../../src/errors.js";
import { members } from "../servers/ec2/query.js";
import type { Ec2DriverFixture } from "../servers/ec2/driver-fixture.js";
import { ec2FixturePerTest } from "../servers/ec2/vitest-scope.js";
import { eventually } from "./conformance.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";

const IMAGE = "ami-0a1b2c3d4e5f60001";
const SUBNET_A = "subnet-0aaaaaaaaaaaaaaa1";
const SUBNET_B = "subnet-0aaaaaaaaaaaaaaa2";
const OWNER = { "cloudce-ce": "ce-batch" };

const start = ec2FixturePerTest();

/** A CE batch: N specs with one name, one user-data, one metadata. */
function batch(count: number, overrides: Partial<CreateNodesRequest> = {}, name = "EC2T_0badcafe"): CreateNodesRequest {
  const spec = {
    name,
    userData: new Uint8Array(Buffer.from("#cloud-config\n")),
    metadata: { ...OWNER, "cloudce-batch": "b1" },
  };
  return {
    imageId: IMAGE,
    flavorId: "t3.micro",
    networkIds: [SUBNET_A],
    nodes: Array.from({ length: count }, () => spec),
    requestId: randomUUID(),
    ...overrides,
  };
}

const runRequests = (f: Ec2DriverFixture) => f.server.requests.filter((r) => r.action === "RunInstances");

describe("EC2 batches", () => {
  it("creates a CE batch with one RunInstances (MinCount 1, MaxCount N, ClientToken = request id), tagged at launch", async () => {
    const f = await start();
    const request = batch(5);
    const result = await f.driver.createNodes(request);
    expect(result.failed).toEqual([]);
    expect(result.created).toHaveLength(5);
    expect(new Set(result.created.map((n) => n.id)).size).toBe(5);
    for (const n of result.created)
      expect(n).toMatchObject({ name: "EC2T_0badcafe", metadata: { ...OWNER, "cloudce-batch": "b1" } });
    const [run] = runRequests(f);
    expect(runRequests(f)).toHaveLength(1);
    expect(run!.params.get("MinCount")).toBe("1");
    expect(run!.params.get("MaxCount")).toBe("5");
    expect(run!.params.get("ClientToken")).toBe(request.requestId);
    expect(run!.params.get("InstanceInitiatedShutdownBehavior")).toBe("terminate");
    expect(Buffer.from(run!.params.get("UserData")!, "base64").toString()).toBe("#cloud-config\n");
    const tags = [...f.server.cloud.instances.values()][0]!.spec.tags;
    expect(tags).toEqual({ Name: "EC2T_0badcafe", ...OWNER, "cloudce-batch": "b1" });
    const resources = members(run!.params, "TagSpecification").map((t) => t.get("ResourceType"));
    expect(resources).toEqual(["instance", "volume"]);
  });

  it("is idempotent: the same request twice starts one batch", async () => {
    const f = await start();
    const request = batch(3);
    const first = await f.driver.createNodes(request);
    const again = await f.driver.createNodes(request);
    expect(again.created.map((n) => n.id).sort()).toEqual(first.created.map((n) => n.id).sort());
    expect(f.server.cloud.instances.size).toBe(3);
  });

  it("retries a RunInstances whose answer was lost with the same token, and starts the batch once", async () => {
    const f = await start();
    f.server.inject({ action: "RunInstances", kind: "dropAfter" });
    const result = await f.driver.createNodes(batch(4));
    expect(result.created).toHaveLength(4);
    expect(f.server.cloud.instances.size).toBe(4);
    const tokens = runRequests(f).map((r) => r.params.get("ClientToken"));
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBe(tokens[1]);
  });

  it("retries a RunInstances that timed out after launching, and starts the batch once", async () => {
    const f = await start({ requestTimeoutMs: HANG_TIMEOUT_MS });
    f.server.inject({ action: "RunInstances", kind: "hangAfter" });
    const result = await f.driver.createNodes(batch(2));
    expect(result.created).toHaveLength(2);
    expect(f.server.cloud.instances.size).toBe(2);
    expect(f.server.calls["RunInstances"]).toBe(2);
  });

  it("returns a partially filled batch and reports the missing VMs as CapacityExceeded", async () => {
    const f = await start({ server: { capacity: 3 } });
    const result = await f.driver.createNodes(batch(5));
    expect(result.created).toHaveLength(3);
    expect(result.failed).toHaveLength(2);
    for (const failure of result.failed) {
      expect(failure.target).toBe("EC2T_0badcafe");
      expect(isCloudceError(failure.error, "CapacityExceeded")).toBe(true);
    }
  });

  it("tops a partial batch up in the next subnet, with its own token", async () => {
    const f = await start({ server: { subnetCapacity: { [SUBNET_A]: 2 } } });
    const result = await f.driver.createNodes(batch(5, { networkIds: [SUBNET_A, SUBNET_B] }));
    expect(result.failed).toEqual([]);
    expect(result.created).toHaveLength(5);
    const runs = runRequests(f);
    expect(runs.map((r) => [r.params.get("SubnetId"), r.params.get("MaxCount")])).toEqual([
      [SUBNET_A, "5"],
      [SUBNET_B, "3"],
    ]);
    expect(runs[0]!.params.get("ClientToken")).not.toBe(runs[1]!.params.get("ClientToken"));
  });

  it("moves on to the next subnet when a zone has no capacity at all", async () => {
    const f = await start({ server: { subnetCapacity: { [SUBNET_A]: 0 } } });
    const result = await f.driver.createNodes(batch(2, { networkIds: [SUBNET_A, SUBNET_B] }));
    expect(result.created).toHaveLength(2);
    expect([...f.server.cloud.instances.values()].every((i) => i.spec.subnetId === SUBNET_B)).toBe(true);
  });

  it("throws CapacityExceeded when nothing at all could be started", async () => {
    const f = await start({ server: { capacity: 0 } });
    await expect(f.driver.createNodes(batch(2))).rejects.toMatchObject({ code: "CapacityExceeded", driver: "EC2" });
    expect(f.server.calls["RunInstances"]).toBe(1);
  });

  it("creates specs that differ (not a CE batch) with one call per group", async () => {
    const f = await start();
    const a = batch(2, {}, "EC2T_aaaaaaaa");
    const b = batch(1, {}, "EC2T_bbbbbbbb");
    const result = await f.driver.createNodes({ ...a, nodes: [...a.nodes, ...b.nodes] });
    expect(result.created.map((n) => n.name).sort()).toEqual(["EC2T_aaaaaaaa", "EC2T_aaaaaaaa", "EC2T_bbbbbbbb"]);
    expect(runRequests(f)).toHaveLength(2);
  });

  it("lists every page, filtered on the server by the owner tags and the name prefix", async () => {
    const f = await start({ server: { pageSize: 2 } });
    await f.driver.createNodes(batch(7));
    await f.driver.createNodes(batch(2, {}, "OTHER_12345678"));
    f.server.reset();
    const nodes = await f.driver.listNodes({ namePrefix: "EC2T_", metadata: OWNER });
    expect(nodes).toHaveLength(7);
    expect(f.server.calls["DescribeInstances"]).toBe(4);
    const filters = members(f.server.requests[0]!.params, "Filter").map((m) => [m.get("Name"), m.get("Value.1")]);
    expect(filters).toEqual([
      ["tag:Name", "EC2T_*"],
      ["tag:cloudce-ce", "ce-batch"],
    ]);
    expect(await f.driver.listNodes({ namePrefix: "EC2T_", metadata: { "cloudce-ce": "someone-else" } })).toEqual([]);
  });

  it("escapes filter wildcards in the prefix: a prefix is literal", async () => {
    const f = await start();
    await f.driver.createNodes(batch(1, {}, "EC2TX0badcafe"));
    expect(await f.driver.listNodes({ namePrefix: "EC2T?", metadata: OWNER })).toEqual([]);
    expect(await f.driver.listNodes({ namePrefix: "EC2T", metadata: OWNER })).toHaveLength(1);
  });
});

describe("EC2 spot", () => {
  it("starts one-time spot instances with a max price, and reports a reclaimed one as interrupted", async () => {
    const f = await start({ options: { spot: "true", spot_max_price: "0.05" } });
    const { created } = await f.driver.createNodes(batch(2));
    const run = runRequests(f)[0]!.params;
    expect(run.get("InstanceMarketOptions.MarketType")).toBe("spot");
    expect(run.get("InstanceMarketOptions.SpotOptions.MaxPrice")).toBe("0.05");
    expect(run.get("InstanceMarketOptions.SpotOptions.SpotInstanceType")).toBe("one-time");
    const [reclaimed, ended] = created.map((n) => n.id) as [string, string];
    f.server.cloud.interruptSpot(reclaimed);
    await f.driver.destroyNodes([ended]);
    const gone = await eventually(
      () => f.driver.getNode(reclaimed),
      (n) => n?.state === "gone",
      5_000,
      "the spot VM to be gone",
    );
    expect(gone?.interrupted).toBe(true);
    expect((await f.driver.getNode(ended))?.interrupted).toBeUndefined();
    const listed = await eventually(
      () => f.driver.listNodes({ namePrefix: "EC2T_", metadata: OWNER }),
      (nodes) => nodes.length === 1 && nodes[0]!.state === "gone",
      5_000,
      "only the interrupted VM to be listed",
    );
    expect(listed[0]).toMatchObject({ id: reclaimed, interrupted: true });
  });
});

describe("EC2 terminate and stop in bulk", () => {
  it("terminates in calls of at most 1000 ids; unknown ids count as done", async () => {
    const f = await start();
    const { created } = await f.driver.createNodes(batch(1100));
    const unknown = ["i-0000000000000dead", "i-0000000000000beef"];
    const ids = [...created.map((n) => n.id), ...unknown];
    const result = await f.driver.destroyNodes(ids);
    expect(result.failed).toEqual([]);
    expect([...result.done].sort()).toEqual([...ids].sort());
    const calls = f.server.requests.filter((r) => r.action === "TerminateInstances");
    for (const c of calls) expect(members(c.params, "InstanceId").length).toBeLessThanOrEqual(1000);
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(
      [...f.server.cloud.instances.values()].every((i) => i.state === "shutting-down" || i.state === "terminated"),
    ).toBe(true);
  });

  it("does not try ids one by one after an error that concerns them all", async () => {
    const f = await start();
    const { created } = await f.driver.createNodes(batch(3));
    f.server.inject({ action: "TerminateInstances", kind: "error", code: "UnauthorizedOperation", status: 403 });
    const result = await f.driver.destroyNodes(created.map((n) => n.id));
    expect(result.done).toEqual([]);
    expect(result.failed.map((x) => (x.error as { code?: string }).code)).toEqual([
      "Forbidden",
      "Forbidden",
      "Forbidden",
    ]);
    expect(f.server.calls["TerminateInstances"]).toBe(1);
  });

  it("stops what can stop; an instance that cannot is a failure of its own", async () => {
    const f = await start({ options: { shutdown_behavior: "stop" } });
    const { created } = await f.driver.createNodes(batch(3));
    const ids = created.map((n) => n.id);
    await f.driver.destroyNodes([ids[0]!]);
    const result = await f.driver.stopNodes(ids);
    expect([...result.done].sort()).toEqual(ids.slice(1).sort());
    expect(result.failed.map((x) => x.target)).toEqual([ids[0]]);
  });
});
