/** GCE listings, deletion, serial port, quotas, the state map, and the retry policy. */

import { describe, expect, it } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { httpError } from "../../src/drivers/gce/errors.js";
import { LIST_FIELDS, listFilter } from "../../src/drivers/gce/instances.js";
import { parseFields, project } from "../servers/gce/fields.js";
import { NODE_STATE_MAP, toCloudNode } from "../../src/drivers/gce/state-map.js";
import { gceRequest } from "../servers/gce/driver-fixture.js";
import { gceFixturePerTest } from "../servers/gce/vitest-scope.js";

const fixtures = gceFixturePerTest();
const OWNER = { "cloudce-ce": "cloud.mysite.example" };

const request = (
  count: number,
  name = "dirac-pilot-0a1b2c3d",
  metadata: Record<string, string> = OWNER,
): CreateNodesRequest => gceRequest(count, name, metadata);

async function ids(
  driver: CloudDriver,
  count: number,
  name?: string,
  metadata?: Record<string, string>,
): Promise<string[]> {
  return (await driver.createNodes(request(count, name, metadata))).created.map((n) => n.id);
}

describe("GCE listings", () => {
  it("filters by name prefix and owner label on the server, and follows pageToken (500 a page)", async () => {
    const f = await fixtures.manual({ server: { pageSize: 2 } });
    const mine = await ids(f.driver, 5);
    await ids(f.driver, 2, "dirac-pilot-0fffffff", { "cloudce-ce": "cloud.othersite.example" });
    await ids(f.driver, 1, "other-0eeeeeee");
    f.server.reset();
    const listed = await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER });
    expect(listed.map((n) => n.id).sort()).toEqual([...mine].sort());
    const lists = f.server.requests.filter((r) => r.call === "instances.list");
    expect(lists).toHaveLength(3);
    expect(lists[0]!.query.get("maxResults")).toBe("500");
    expect(lists[0]!.query.get("filter")).toBe(
      '(name eq "dirac-pilot-.*") (labels.cloudce-ce eq "cloud_2emysite_2eexample")',
    );
    expect(lists[1]!.query.get("pageToken")).toBeTruthy();
  });

  it("asks for a partial response without the VMs' metadata, and still reads a long CE name from its hashed label", async () => {
    const f = await fixtures.manual();
    const owner = { "cloudce-ce": "a-computing-element-with-a-long-name.grid-site.example.org.example" };
    const [id] = await ids(f.driver, 1, "dirac-pilot-0a1b2c3d", owner);
    expect(f.server.cloud.instances.get(id!)!.labels["cloudce-ce"]).toMatch(/__[0-9a-f]{20}$/);
    const [node] = await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: owner });
    expect(node?.metadata["cloudce-ce"]).toBe(owner["cloudce-ce"]);
    const list = f.server.requests.filter((r) => r.call === "instances.list").pop()!;
    expect(list.query.get("fields")).toBe(LIST_FIELDS);
    expect(
      project(
        { items: [{ id: "1", metadata: { items: [] }, scheduling: { provisioningModel: "SPOT", x: 1 } }], kind: "k" },
        parseFields(LIST_FIELDS),
      ),
    ).toEqual({ items: [{ id: "1", scheduling: { provisioningModel: "SPOT" } }] });
  });

  it("an invalid listing prefix is a clear error, not an empty list", async () => {
    const f = await fixtures.manual();
    await expect(f.driver.listNodes({ namePrefix: "VMDIRAC3_", metadata: OWNER })).rejects.toMatchObject({
      code: "OptionInvalid",
      message: expect.stringContaining("cannot start a GCE instance name"),
    });
  });

  it("builds filters whose values need no escaping", () => {
    expect(listFilter("p-.*", { a: "b_2ec" })).toBe('(name eq "p-.*") (labels.a eq "b_2ec")');
  });
});

describe("GCE states", () => {
  it("maps every documented instance status", () => {
    expect(NODE_STATE_MAP).toEqual({
      PROVISIONING: "booting",
      STAGING: "booting",
      RUNNING: "running",
      REPAIRING: "running",
      STOPPING: "stopping",
      PENDING_STOP: "stopping",
      SUSPENDING: "suspended",
      SUSPENDED: "suspended",
      TERMINATED: "stopped",
    });
    expect(toCloudNode({ id: "1", name: "x", status: "SOMETHING_NEW" }).state).toBe("unknown");
  });

  it("boots PROVISIONING → STAGING → RUNNING; a VM that powered off reads stopped (TERMINATED, still billed)", async () => {
    const f = await fixtures.manual();
    const [id] = await ids(f.driver, 1);
    expect((await f.driver.getNode(id!))?.cloudState).toMatch(/PROVISIONING|STAGING/);
    f.clock.advance(20_000);
    expect((await f.driver.getNode(id!))?.state).toBe("running");
    const running = await f.driver.getNode(id!);
    expect(running?.launchedAt?.getTime()).toBeGreaterThan(running!.createdAt.getTime());
    f.clock.advance(60_000);
    f.server.cloud.powerOff(id!);
    const node = await f.driver.getNode(id!);
    expect(node).toMatchObject({ state: "stopped", cloudState: "TERMINATED", stoppedAt: new Date(f.clock.now()) });
    expect(node?.interrupted).toBeUndefined();
  });

  it("a preempted spot VM is interrupted (the CE reads Aborted); a spot VM that powered off is not", async () => {
    const f = await fixtures.manual({ options: { spot: "true" } });
    const [a, b] = await ids(f.driver, 2);
    f.clock.advance(20_000);
    f.server.cloud.preempt(a!);
    f.server.cloud.powerOff(b!);
    const nodes = new Map(
      (await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER })).map((n) => [n.id, n]),
    );
    expect(nodes.get(a!)).toMatchObject({ state: "stopped", interrupted: true });
    expect(nodes.get(b!)?.interrupted).toBeUndefined();
    expect((await f.driver.getNode(a!))?.interrupted).toBe(true);
  });
});

describe("GCE deletion, serial port, quotas", () => {
  it("deletes one VM per call with a requestId; gone and unknown ids count as done", async () => {
    const f = await fixtures.manual();
    const created = await ids(f.driver, 3);
    f.server.reset();
    const r = await f.driver.destroyNodes([...created, "12345678901234567"]);
    expect(r.failed).toEqual([]);
    expect([...r.done].sort()).toEqual([...created, "12345678901234567"].sort());
    const deletes = f.server.requests.filter((x) => x.call === "instances.delete");
    expect(deletes.length).toBe(4);
    for (const d of deletes) expect(d.query.get("requestId")).toMatch(/^[0-9a-f-]{36}$/);
    f.clock.advance(10_000);
    expect(await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER })).toEqual([]);
    expect((await f.driver.destroyNodes(created)).done).toHaveLength(3);
  });

  it("a delete refused for one VM fails that VM only", async () => {
    const f = await fixtures.manual({ options: { max_attempts: "1" } });
    const created = await ids(f.driver, 2);
    f.server.inject({ call: "instances.delete", kind: "error", status: 403, reason: "forbidden" });
    const r = await f.driver.destroyNodes(created);
    expect(r.done).toHaveLength(1);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]!.error).toMatchObject({ code: "Forbidden" });
  });

  it("reads the serial port (getSerialPortOutput)", async () => {
    const f = await fixtures.manual();
    const [id] = await ids(f.driver, 1);
    f.clock.advance(20_000);
    await f.driver.getNode(id!);
    expect(await f.driver.getConsoleOutput(id!)).toContain("cloud-init");
    expect(f.server.requests.find((r) => r.call === "instances.getSerialPortOutput")?.query.get("port")).toBe("1");
  });

  it("reports what the region's quotas leave (regions.get: INSTANCES, CPUS; PREEMPTIBLE_CPUS for spot)", async () => {
    const f = await fixtures.manual({ server: { quotas: { INSTANCES: 50, CPUS: 24 } } });
    await ids(f.driver, 3);
    expect(await f.driver.getLimits()).toEqual({ instances: 47, cores: 18 });
    const spot = await fixtures.manual({
      options: { spot: "true" },
      server: { quotas: { CPUS: 24, PREEMPTIBLE_CPUS: 100 } },
    });
    await ids(spot.driver, 2);
    expect(await spot.driver.getLimits()).toMatchObject({ cores: 96 });
  });

  it("counts external IPs against IN_USE_ADDRESSES while VMs get one (a new project has 8)", async () => {
    const f = await fixtures.manual({ server: { quotas: { IN_USE_ADDRESSES: 8 } } });
    await ids(f.driver, 3);
    expect((await f.driver.getLimits()).instances).toBe(5);
    const internal = await fixtures.manual({
      options: { external_ip: "false" },
      server: { quotas: { IN_USE_ADDRESSES: 8 } },
    });
    await ids(internal.driver, 3);
    expect((await internal.driver.getLimits()).instances).toBe(997);
  });
});

describe("GCE retries", () => {
  it("retries rateLimitExceeded (403) like a 429, and 5xx", async () => {
    const f = await fixtures.manual();
    f.server.inject({ call: "machineTypes.list", kind: "rateLimit", times: 2 });
    f.server.inject({ call: "networks.list", kind: "error", status: 503 });
    expect((await f.driver.listFlavors()).length).toBeGreaterThan(0);
    expect(f.server.calls["machineTypes.list"]).toBe(3);
    expect((await f.driver.listNetworks()).length).toBeGreaterThan(0);
    expect(f.server.calls["networks.list"]).toBe(2);
  });

  it("gives up after Driver_max_attempts with RateLimited", async () => {
    const f = await fixtures.manual({ options: { max_attempts: "2" } });
    f.server.inject({ call: "machineTypes.list", kind: "rateLimit", times: 5 });
    await expect(f.driver.listFlavors()).rejects.toMatchObject({
      code: "RateLimited",
      retryable: true,
      status: "rateLimitExceeded",
    });
    expect(f.server.calls["machineTypes.list"]).toBe(2);
  });

  it("does not retry a permission error", async () => {
    const f = await fixtures.manual();
    f.server.inject({ call: "networks.list", kind: "error", status: 403, reason: "forbidden" });
    await expect(f.driver.listNetworks()).rejects.toMatchObject({
      code: "Forbidden",
      message: expect.stringContaining("roles/compute"),
    });
    expect(f.server.calls["networks.list"]).toBe(1);
  });

  it("fetches a new token after a 401 and goes on", async () => {
    const f = await fixtures.manual();
    await f.driver.listNetworks();
    const before = f.server.issuedTokens();
    f.server.inject({ call: "networks.list", kind: "unauthorized" });
    expect((await f.driver.listNetworks()).length).toBeGreaterThan(0);
    expect(f.server.issuedTokens()).toBe(before + 1);
  });

  it("renews the token shortly before it expires, not on every call", async () => {
    const f = await fixtures.manual();
    await f.driver.listNetworks();
    await f.driver.listNetworks();
    expect(f.server.issuedTokens()).toBe(1);
    f.clock.advance(3_600_000 - 30_000);
    await f.driver.listNetworks();
    expect(f.server.issuedTokens()).toBe(2);
  });

  it("retries a dropped connection", async () => {
    const f = await fixtures.manual();
    f.server.inject({ call: "networks.list", kind: "drop" });
    expect((await f.driver.listNetworks()).length).toBeGreaterThan(0);
  });
});

describe("GCE error mapping", () => {
  it.each([
    [403, "rateLimitExceeded", "Rate Limit Exceeded", "RateLimited"],
    [429, "rateLimitExceeded", "Too many requests", "RateLimited"],
    [
      403,
      "quotaExceeded",
      "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'",
      "RateLimited",
    ],
    [403, "quotaExceeded", "Quota 'CPUS' exceeded. Limit: 24.0 in region europe-west1.", "QuotaExceeded"],
    [403, "quotaExceeded", "Quota 'IN_USE_ADDRESSES' exceeded. Limit: 8.0 in region europe-west1.", "QuotaExceeded"],
    [404, "notFound", "The resource 'projects/p/global/images/el9' was not found", "ImageNotFound"],
    [400, "invalid", "The resource 'projects/p/zones/z/machineTypes/e9-huge' was not found", "FlavorNotFound"],
    [404, "notFound", "The resource 'projects/p/zones/z/instances/123' was not found", "NodeNotFound"],
    [401, "authError", "Request had invalid authentication credentials.", "AuthFailed"],
    [503, "backendError", "Backend Error", "CloudUnavailable"],
  ])("HTTP %i %s (%s) is %s", (status, reason, message, code) => {
    const body = JSON.stringify({ error: { code: status, message, errors: [{ reason, message, domain: "global" }] } });
    expect(httpError("GET x", status, body)).toMatchObject({ code, driver: "GCE" });
  });

  it("keeps a proxy's HTML answer to one line", () => {
    expect(httpError("GET x", 502, "<html><body><h1>Bad Gateway</h1>\n</body></html>").message).toBe(
      "GCE GET x: HTTP 502 Bad Gateway; the Compute API failed; this is retried",
    );
  });
});
