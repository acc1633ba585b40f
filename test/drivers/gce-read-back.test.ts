/**
 * What the GCE driver reads back from the cloud is checked, not trusted: a
 * listing that lags behind the operation, a filter the cloud ignores or
 * refuses, a CE name whose label is hashed, a preemption look-up refused.
 */

import { describe, expect, it } from "vitest";
import { CAPACITY_ERROR_CODES, type CreateNodesRequest } from "../../src/drivers/driver.js";
import { parseOptions } from "../../src/drivers/gce/options.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { gceRequest } from "../servers/gce/driver-fixture.js";
import { gceFixturePerTest } from "../servers/gce/vitest-scope.js";

const fixtures = gceFixturePerTest();
const OWNER = { "cloudce-ce": "cloud.mysite.example", "cloudce-batch": "0a1b2c3d" };
const LONG_CE = "a-computing-element-with-a-rather-long-name.grid-site.example.org";

const request = (
  count: number,
  name = "dirac-pilot-0a1b2c3d",
  metadata: Record<string, string> = OWNER,
): CreateNodesRequest => gceRequest(count, name, metadata);

const codes = (failed: readonly { error: Error }[]): string[] =>
  failed.map((f) => (f.error as { code?: string }).code ?? "");

describe("GCE read-back after a bulkInsert", () => {
  it("VMs the operation created but the listing does not show yet are never a capacity failure", async () => {
    const f = await fixtures.manual({ server: { capacity: { "europe-west1-b": 3 } } });
    // Every read-back listing misses the new VMs.
    f.server.cloud.listLag = 10;
    const result = await f.driver
      .createNodes(request(5))
      .catch((e: Error) => ({ created: [], failed: [{ target: "", error: e }] }));
    expect(f.server.cloud.instances.size).toBe(3);
    const capacity = codes(result.failed).filter((c) => (CAPACITY_ERROR_CODES as readonly string[]).includes(c));
    // Two were refused for capacity; the three made are uncertain, never "no capacity".
    expect(capacity).toHaveLength(2);
    expect(result.failed).toHaveLength(5);
    const uncertain = result.failed.filter(
      (f) => !(CAPACITY_ERROR_CODES as readonly string[]).includes(codes([f])[0]!),
    );
    expect(uncertain).toHaveLength(3);
    expect(uncertain[0]!.error.message).toMatch(/listing does not show/);
  });

  it("an operation DONE without error that gives no counts: VMs the listing does not show yet are uncertain, never a capacity failure", async () => {
    const f = await fixtures.manual();
    f.server.inject({ call: "instances.bulkInsert", kind: "uncountedOperation" });
    f.server.cloud.listLag = 10;
    const result = await f.driver
      .createNodes(request(3))
      .catch((e: Error) => ({ created: [], failed: [{ target: "", error: e }] }));
    expect(f.server.cloud.instances.size).toBe(3);
    expect(result.created).toEqual([]);
    expect(result.failed.length).toBeGreaterThan(0);
    expect(codes(result.failed).filter((c) => (CAPACITY_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
    expect(result.failed[0]!.error.message).toMatch(/listing does not show/);
  });

  it("an operation DONE without counts whose listing catches up within the read-back tries returns every VM", async () => {
    const f = await fixtures.manual();
    f.server.inject({ call: "instances.bulkInsert", kind: "uncountedOperation" });
    f.server.cloud.listLag = 2;
    const result = await f.driver.createNodes(request(3));
    expect(result.created).toHaveLength(3);
    expect(result.failed).toEqual([]);
  });

  it("a listing that catches up within the read-back tries returns every VM", async () => {
    const f = await fixtures.manual();
    f.server.cloud.listLag = 2;
    const result = await f.driver.createNodes(request(4));
    expect(result.created).toHaveLength(4);
    expect(result.failed).toEqual([]);
  });

  it("never returns a VM of another owner when the cloud ignores the filter", async () => {
    const f = await fixtures.manual();
    await f.driver.createNodes(
      request(2, "dirac-pilot-0a1b2c3d", { "cloudce-ce": "cloud.othersite.example", "cloudce-batch": "0a1b2c3d" }),
    );
    await f.driver.createNodes(request(1, "dirac-pilot-0fffffff", OWNER));
    f.server.inject({ call: "instances.list", kind: "unfiltered", times: 100 });
    const result = await f.driver.createNodes(request(1, "dirac-pilot-0a1b2c3d", OWNER));
    expect(result.created).toHaveLength(1);
    expect(result.created[0]!.metadata["cloudce-ce"]).toBe("cloud.mysite.example");
    const listed = await f.driver.listNodes({
      namePrefix: "dirac-pilot-",
      metadata: { "cloudce-ce": "cloud.mysite.example" },
    });
    expect(listed).toHaveLength(2);
    expect(listed.every((n) => n.metadata["cloudce-ce"] === "cloud.mysite.example")).toBe(true);
  });

  it("a cloud that refuses regexes on several fields gets a name-only filter, and the labels are checked here", async () => {
    const records: LogRecord[] = [];
    const f = await fixtures.manual({ logger: createLogger({ level: "debug", sink: (r) => records.push(r) }) });
    f.server.cloud.regexOnOneField = true;
    await f.driver.createNodes(request(1, "dirac-pilot-0eeeeeee", { "cloudce-ce": "cloud.othersite.example" }));
    const result = await f.driver.createNodes(request(3));
    expect(result.created).toHaveLength(3);
    expect(result.failed).toEqual([]);
    const listed = await f.driver.listNodes({
      namePrefix: "dirac-pilot-",
      metadata: { "cloudce-ce": "cloud.mysite.example" },
    });
    expect(listed).toHaveLength(3);
    const filters = f.server.requests.filter((r) => r.call === "instances.list").map((r) => r.query.get("filter"));
    // Refused once, then remembered: the later listings go straight to the filter the cloud takes.
    expect(filters.filter((x) => x?.includes("labels."))).toHaveLength(1);
    expect(filters.at(-1)).toBe('name eq "dirac-pilot-.*"');
    expect(records.filter((r) => r.msg.includes("filter"))).toHaveLength(1);
  });
});

describe("GCE ownership read back from hashed labels", () => {
  it("a listing without the owner filter still reads a long owner back when the caller names it", async () => {
    const f = await fixtures.manual();
    const owner = { "cloudce-ce": LONG_CE };
    const made = (await f.driver.createNodes(request(2, "dirac-pilot-0a1b2c3d", owner))).created;
    expect(made).toHaveLength(2);
    const listed = await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: {}, recognise: owner });
    expect(listed.map((n) => n.metadata["cloudce-ce"])).toEqual([LONG_CE, LONG_CE]);
  });
});

describe("GCE spot preemption look-ups", () => {
  it("a refused look-up is logged once and the VMs read as before", async () => {
    const records: LogRecord[] = [];
    const f = await fixtures.manual({
      options: { spot: "true" },
      logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
    });
    const [a] = (await f.driver.createNodes(request(1))).created.map((n) => n.id);
    f.clock.advance(20_000);
    f.server.cloud.preempt(a!);
    f.server.inject({ call: "zoneOperations.list", kind: "error", status: 403, reason: "forbidden", times: 3 });
    for (let i = 0; i < 3; i++) {
      const [node] = await f.driver.listNodes({
        namePrefix: "dirac-pilot-",
        metadata: { "cloudce-ce": "cloud.mysite.example" },
      });
      expect(node).toMatchObject({ state: "stopped" });
    }
    const warned = records.filter((r) => r.msg.includes("preempt"));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.level).toBe("warn");
  });

  it("takes a numeric project id", () => {
    expect(parseOptions({ project: "123456789012", zone: "europe-west1-b" }).project).toBe("123456789012");
    expect(() => parseOptions({ project: "12345", zone: "europe-west1-b" })).toThrow(/Driver_project/);
  });
});
