/**
 * OPENSTACK ownership filtered by the cloud: listings ask Nova for the CE's
 * tags where the cloud offers 2.52 (a shared project's other servers never
 * come back), servers booted without tags are still found by a sweep that
 * stops once none is left, and a value that cannot be a tag falls back to
 * the name listing. Also the test cloud's tag API, after the Nova reference.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { forgetTagKnowledge } from "../../src/drivers/openstack/tags.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { passwordLogin } from "../servers/openstack/password-login.js";

let cloud: OpenStackTestServer;
const drivers: CloudDriver[] = [];
const make = (): CloudDriver => {
  const d = openStackDriver(cloud);
  drivers.push(d);
  return d;
};

function request(names: string[], metadata: Record<string, string>): CreateNodesRequest {
  return {
    imageId: cloud.state.images[0]!.id,
    flavorId: "1",
    networkIds: [cloud.state.networks[0]!.id],
    nodes: names.map((name) => ({ name, userData: new Uint8Array([35, 33]), metadata })),
    requestId: "r",
  };
}

/** Servers of other owners (and one untagged server of ours, when asked) put straight into the cloud. */
function seed(prefix: string, count: number, metadata: Record<string, string>, tags: readonly string[]): void {
  const flavor = cloud.state.flavors[0]!;
  for (let i = 0; i < count; i++) {
    cloud.state.addServer({
      name: `${prefix}${i}`,
      projectId: PROJECTS["demo"]!,
      userId: cloud.state.users[0]!.id,
      imageRef: cloud.state.images[0]!.id,
      flavor,
      networks: [],
      metadata: { ...metadata },
      tags,
      userData: undefined,
      keyName: undefined,
      reservationId: "r-seeded",
    });
  }
}

const lastQuery = (): URLSearchParams => new URLSearchParams(cloud.state.listQueries.at(-1));

beforeAll(async () => {
  cloud = await startOpenStackServer({ bootMs: 20 });
  for (const project of cloud.state.quotas.keys())
    cloud.state.quotas.set(project, { instances: 10_000, cores: 10_000, ramMb: 10_000_000 });
});
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  await cloud.close();
});
beforeEach(() => {
  forgetTagKnowledge();
  cloud.state.listQueries.length = 0;
});

describe("OPENSTACK listings by tag", () => {
  it("in a project shared with many other owners' servers of the same prefix, gets this CE's servers alone, in one call once swept", async () => {
    seed("SHARED_", 2000, { "cloudce-ce": "someone-else" }, ["cloudce", "cloudce-ce=someone-else"]);
    const d = make();
    const { created } = await d.createNodes(
      request(
        Array.from({ length: 5 }, (_, i) => `SHARED_MINE${i}`),
        { "cloudce-ce": "ce-a", "cloudce-queue": "q" },
      ),
    );
    expect(created).toHaveLength(5);
    const filter = { namePrefix: "SHARED_", metadata: { "cloudce-ce": "ce-a" } };
    expect((await d.listNodes(filter)).map((n) => n.id).sort()).toEqual(created.map((n) => n.id).sort());
    // The first listing of the process also sweeps for servers booted without tags (none here)…
    expect(cloud.state.listQueries).toHaveLength(2);
    cloud.state.listQueries.length = 0;
    // …then one call, asking Nova for the CE's tag.
    expect(await make().listNodes(filter)).toHaveLength(5);
    expect(cloud.state.listQueries).toHaveLength(1);
    expect(lastQuery().get("tags")).toBe("cloudce-ce=ce-a");
    expect(lastQuery().get("name")).toBe("^SHARED_");
  });

  it("finds a server booted without tags, sweeping on every listing while one is left", async () => {
    seed("LEGACY_", 1, { "cloudce-ce": "ce-a" }, []);
    const d = make();
    const old = await d.listNodes({ namePrefix: "LEGACY_", metadata: { "cloudce-ce": "ce-a" } });
    expect(old).toHaveLength(1);
    // The sweep is sent alongside the tag listing: either may reach the cloud first.
    expect(cloud.state.listQueries.map((q) => new URLSearchParams(q).get("not-tags-any"))).toContain("cloudce");
    cloud.state.listQueries.length = 0;
    expect(await d.listNodes({ namePrefix: "LEGACY_", metadata: { "cloudce-ce": "ce-a" } })).toHaveLength(1);
    expect(cloud.state.listQueries).toHaveLength(2);
    expect((await d.destroyNodes([old[0]!.id])).done).toEqual([old[0]!.id]);
    cloud.state.servers.delete(old[0]!.id);
    expect(await d.listNodes({ namePrefix: "LEGACY_", metadata: { "cloudce-ce": "ce-a" } })).toHaveLength(0);
    cloud.state.listQueries.length = 0;
    expect(await d.listNodes({ namePrefix: "LEGACY_", metadata: { "cloudce-ce": "ce-a" } })).toHaveLength(0);
    expect(cloud.state.listQueries).toHaveLength(1);
  });

  it("lists by name prefix where a value cannot be a tag, or the cloud offers no 2.52", async () => {
    const long = `ce-${"x".repeat(70)}`;
    const d = make();
    const { created } = await d.createNodes(request(["LONG_1"], { "cloudce-ce": long }));
    expect(cloud.state.servers.get(created[0]!.id)!.tags).toEqual(["cloudce"]);
    expect(await d.listNodes({ namePrefix: "LONG_", metadata: { "cloudce-ce": long } })).toHaveLength(1);
    expect(lastQuery().get("tags")).toBeNull();
    forgetTagKnowledge();
    cloud.state.maxMicroversion = 50;
    try {
      const old = make();
      const made = await old.createNodes(request(["OLDNOVA_1"], { "cloudce-ce": "ce-a" }));
      expect(cloud.state.servers.get(made.created[0]!.id)!.tags).toEqual([]);
      expect(await old.listNodes({ namePrefix: "OLDNOVA_", metadata: { "cloudce-ce": "ce-a" } })).toHaveLength(1);
      expect(lastQuery().get("tags")).toBeNull();
    } finally {
      cloud.state.maxMicroversion = undefined;
    }
  });
});

describe("the test cloud's server tags, after the Nova API reference", () => {
  const api = async (
    method: string,
    path: string,
    body?: unknown,
    version = "2.52",
  ): Promise<{ status: number; json: unknown }> => {
    const auth = await passwordLogin(cloud.authUrl, { name: "demo", password: "demo-password-1" }, "demo");
    const token = auth.headers.get("x-subject-token")!;
    const res = await fetch(`${cloud.url}/compute/v2.1${path}`, {
      method,
      headers: {
        "x-auth-token": token,
        "openstack-api-version": `compute ${version}`,
        "content-type": "application/json",
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  it("adds, lists, checks and removes tags; filters by all, any, not all and none of them", async () => {
    seed("TAGAPI_", 3, {}, []);
    const [a, b, c] = [...cloud.state.servers.values()]
      .filter((s) => s.name.startsWith("TAGAPI_"))
      .map((s) => s.id) as [string, string, string];
    expect((await api("PUT", `/servers/${a}/tags/red`)).status).toBe(201);
    expect((await api("PUT", `/servers/${a}/tags/red`)).status).toBe(204);
    expect((await api("PUT", `/servers/${b}/tags`, { tags: ["red", "blue"] })).json).toEqual({ tags: ["red", "blue"] });
    expect((await api("GET", `/servers/${b}/tags`)).json).toEqual({ tags: ["red", "blue"] });
    expect((await api("GET", `/servers/${c}/tags/red`)).status).toBe(404);
    const names = async (q: string): Promise<string[]> =>
      ((await api("GET", `/servers/detail?name=^TAGAPI_&${q}`)).json as { servers: { id: string }[] }).servers
        .map((s) => s.id)
        .sort();
    expect(await names("tags=red,blue")).toEqual([b]);
    expect(await names("tags-any=red,blue")).toEqual([a, b].sort());
    expect(await names("not-tags=red,blue")).toEqual([a, c].sort());
    expect(await names("not-tags-any=red,blue")).toEqual([c]);
    expect((await api("DELETE", `/servers/${b}/tags/blue`)).status).toBe(204);
    expect((await api("DELETE", `/servers/${b}/tags/blue`)).status).toBe(404);
    expect((await api("DELETE", `/servers/${a}/tags`)).status).toBe(204);
    expect((await api("GET", `/servers/${a}/tags`)).json).toEqual({ tags: [] });
  });

  it("refuses a bad tag or a 51st, and has no tags before 2.26", async () => {
    seed("TAGBAD_", 1, {}, []);
    const id = [...cloud.state.servers.values()].find((s) => s.name === "TAGBAD_0")!.id;
    expect((await api("PUT", `/servers/${id}/tags`, { tags: ["a/b"] })).status).toBe(400);
    expect((await api("PUT", `/servers/${id}/tags`, { tags: ["x".repeat(61)] })).status).toBe(400);
    expect(
      (await api("PUT", `/servers/${id}/tags`, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })).status,
    ).toBe(400);
    expect((await api("GET", `/servers/${id}/tags`, undefined, "2.25")).status).toBe(404);
    expect((await api("GET", "/")).json).toMatchObject({
      version: { id: "v2.1", version: "2.93", min_version: "2.1" },
    });
  });
});
