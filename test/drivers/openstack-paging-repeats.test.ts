/**
 * OPENSTACK listings while a batch is being scheduled: Nova pages build
 * requests apart from instances, and a page after a marker can repeat a
 * server. Each VM must still come back once, from the create's read-back
 * and from the status and cleanup listings.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { isCloudceError } from "../../src/errors.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { passwordLogin } from "../servers/openstack/password-login.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";

let cloud: OpenStackTestServer;
const drivers: CloudDriver[] = [];
const OWNER = { "cloudce-ce": "ce-repeat" };

function request(name: string, count: number): CreateNodesRequest {
  const node = { name, userData: new Uint8Array([35, 33]), metadata: OWNER };
  return {
    imageId: cloud.state.images[0]!.id,
    flavorId: "1",
    networkIds: [cloud.state.networks[0]!.id],
    nodes: Array.from({ length: count }, () => node),
    requestId: "r",
  };
}

function make(): CloudDriver {
  const d = openStackDriver(cloud);
  drivers.push(d);
  return d;
}

/** The server ids of every page of a raw listing by name, repeats included. */
async function rawPages(name: string): Promise<string[]> {
  const res = await passwordLogin(cloud.authUrl, cloud.state.users[0]!, "demo");
  const token = res.headers.get("x-subject-token")!;
  const ids: string[] = [];
  let url: string | undefined = `${cloud.url}/compute/v2.1/servers/detail?name=${name}`;
  while (url) {
    const body = (await (await fetch(url, { headers: { "x-auth-token": token } })).json()) as {
      servers: { id: string }[];
      servers_links?: { rel: string; href: string }[];
    };
    ids.push(...body.servers.map((s) => s.id));
    url = body.servers.length ? body.servers_links?.find((l) => l.rel === "next")?.href : undefined;
  }
  return ids;
}

beforeAll(async () => {
  // Servers stay build requests (scheduling) for the whole test.
  cloud = await startOpenStackServer({ bootMs: 600_000 });
  cloud.state.maxLimit = 2;
  cloud.state.repeatBuildRequests = true;
});
beforeEach(() => {
  cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 1000, cores: 1000, ramMb: 1_000_000 });
});
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  await cloud.close();
});

describe("OPENSTACK paged listings that repeat a server still scheduling", () => {
  it("returns one node per VM of a batch larger than the page size, and lists each once", async () => {
    const d = make();
    const result = await d.createNodes(request("REPEAT_A", 5));
    expect(result.failed).toEqual([]);
    const ids = result.created.map((n) => n.id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    // The cloud did repeat servers across pages: the listing below meets the same repeats.
    const raw = await rawPages("REPEAT_A");
    expect(raw.length).toBeGreaterThan(5);
    expect(new Set(raw).size).toBe(5);

    const listed = await d.listNodes({ namePrefix: "REPEAT_A", metadata: OWNER });
    expect(listed.map((n) => n.id).sort()).toEqual([...ids].sort());
  });

  it("reports a clipped batch read back across repeating pages as its distinct VMs and the rest as failures", async () => {
    const d = make();
    const used = cloud.state.usage(PROJECTS["demo"]!).instances;
    cloud.state.quotas.set(PROJECTS["demo"]!, { instances: used + 3, cores: 1000, ramMb: 1_000_000 });
    const result = await d.createNodes(request("REPEAT_B", 5));
    const ids = result.created.map((n) => n.id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(result.failed).toHaveLength(2);
    expect(result.failed.every((f) => f.target === "REPEAT_B" && isCloudceError(f.error, "QuotaExceeded"))).toBe(true);
  });
});
