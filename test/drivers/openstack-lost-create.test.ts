/**
 * A create whose answer never came back (or came back naming no server) on
 * OPENSTACK: the driver finds what Nova made before anything is sent again,
 * never makes a twin, and returns every VM it made.
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";

let cloud: OpenStackTestServer;
let driver: CloudDriver;
const TIMEOUT_MS = HANG_TIMEOUT_MS;

function request(name: string, count = 1): CreateNodesRequest {
  const spec = {
    name,
    userData: new Uint8Array(Buffer.from("#cloud-config\n")),
    metadata: { "cloudce-ce": "ce-a", "cloudce-batch": "b1" },
  };
  return {
    imageId: cloud.state.images[0]!.id,
    flavorId: "1",
    networkIds: [cloud.state.networks[0]!.id],
    nodes: Array.from({ length: count }, () => spec),
    requestId: "req-1",
  };
}

const serversNamed = (prefix: string) => [...cloud.state.servers.values()].filter((s) => s.name.startsWith(prefix));

beforeEach(async () => {
  cloud = await startOpenStackServer({ bootMs: 50 });
  driver = openStackDriver(cloud, { timeoutMs: TIMEOUT_MS });
});
afterEach(async () => {
  await driver.close();
  await cloud.close();
});

describe("OPENSTACK create whose answer was lost", () => {
  it("a POST that times out while Nova goes on creating never becomes a twin", async () => {
    // Nova makes the server 1.5 timeouts after the POST: after the first look-up, before the last.
    cloud.faults.add({ route: "compute POST /servers", kind: "late", delayMs: TIMEOUT_MS * 1.5 });
    const result = await driver.createNodes(request("PILOT_SLOW1"));
    expect(serversNamed("PILOT_SLOW1")).toHaveLength(1);
    expect(cloud.count("compute POST /servers")).toBe(1);
    expect(result.failed).toEqual([]);
    expect(result.created.map((n) => n.id)).toEqual([serversNamed("PILOT_SLOW1")[0]!.id]);
  });

  it("sends the create again only once look-ups over a request timeout all found nothing", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "hang" });
    const t0 = Date.now();
    const result = await driver.createNodes(request("PILOT_GONE1"));
    expect(result.failed).toEqual([]);
    expect(serversNamed("PILOT_GONE1")).toHaveLength(1);
    expect(cloud.count("compute POST /servers")).toBe(2);
    // The look-ups at 0, T/2 and T after the loss.
    expect(cloud.count("compute GET /servers/detail")).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2 * TIMEOUT_MS);
  });

  it("recovers the VM when the first look-ups after a lost answer fail", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "lost" });
    // The first look-up fails after all its retries (4 attempts).
    cloud.faults.add({ route: "compute GET /servers/detail", kind: "status", status: 500, times: 4 });
    const result = await driver.createNodes(request("PILOT_LOOK1"));
    expect(result.failed).toEqual([]);
    expect(result.created.map((n) => n.id)).toEqual(serversNamed("PILOT_LOOK1").map((s) => s.id));
    expect(cloud.count("compute POST /servers")).toBe(1);
  });

  it("recovers the VM of a 2xx answer that names no server", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "empty" });
    const result = await driver.createNodes(request("PILOT_NOID1"));
    expect(result.failed).toEqual([]);
    expect(result.created.map((n) => n.id)).toEqual(serversNamed("PILOT_NOID1").map((s) => s.id));
    expect(cloud.count("compute POST /servers")).toBe(1);
  });

  it("never sends the create again when no look-up works, and says cleanup will find the VM", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "lost" });
    cloud.faults.add({ route: "compute GET /servers/detail", kind: "status", status: 503, times: Infinity });
    const result = await driver.createNodes(request("PILOT_DARK1"));
    expect(result.created).toEqual([]);
    expect(result.failed[0]!.error.message).toMatch(/not sent again.*cleanup/);
    expect(cloud.count("compute POST /servers")).toBe(1);
    expect(serversNamed("PILOT_DARK1")).toHaveLength(1);
  });

  it("recovers every server of a multi-create whose answer was lost, by name and batch metadata", async () => {
    // Another batch with the same name prefix but other batch metadata is not ours to return.
    const other = request("PILOT_BATCH1", 2);
    await driver.createNodes({
      ...other,
      nodes: other.nodes.map((n) => ({ ...n, metadata: { ...n.metadata, "cloudce-batch": "b2" } })),
    });
    cloud.resetCounts();
    cloud.faults.add({ route: "compute POST /servers", kind: "lost" });
    const result = await driver.createNodes(request("PILOT_BATCH1", 4));
    expect(result.failed).toEqual([]);
    expect(result.created.map((n) => n.name).sort()).toEqual([
      "PILOT_BATCH1-1",
      "PILOT_BATCH1-2",
      "PILOT_BATCH1-3",
      "PILOT_BATCH1-4",
    ]);
    expect(serversNamed("PILOT_BATCH1-")).toHaveLength(6);
    expect(result.created.every((n) => n.metadata["cloudce-batch"] === "b1")).toBe(true);
    expect(cloud.count("compute POST /servers")).toBe(1);
  });

  it("returns every server a lost multi-create's look-up finds, even more than asked (none is left unreported)", async () => {
    cloud.faults.add({ route: "compute POST /servers", kind: "lost" });
    await driver.createNodes(request("PILOT_EXTRA1", 2));
    cloud.faults.add({ route: "compute POST /servers", kind: "lost" });
    const result = await driver.createNodes(request("PILOT_EXTRA1", 2));
    const made = serversNamed("PILOT_EXTRA1-")
      .map((s) => s.id)
      .sort();
    expect(made.length).toBeGreaterThan(2);
    expect(result.created.map((n) => n.id).sort()).toEqual(made);
  });
});
