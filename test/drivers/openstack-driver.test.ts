/**
 * OPENSTACK driver behaviour beyond the conformance suite: options and
 * their errors, application credentials, catalog regions, paging, name
 * filters, microversions and tags, stop/console edge cases, limits.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenStackDriver, unknownOptions } from "../../src/drivers/openstack/index.js";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { CloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "./conformance.js";
import { openStackDriver } from "../servers/openstack/driver-fixture.js";
import { forgetTagKnowledge } from "../../src/drivers/openstack/tags.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";

let cloud: OpenStackTestServer;
const drivers: CloudDriver[] = [];
const make = (...args: Parameters<typeof openStackDriver> extends [unknown, ...infer R] ? R : never): CloudDriver => {
  const d = openStackDriver(cloud, ...args);
  drivers.push(d);
  return d;
};

function build(options: Record<string, string>): () => CloudDriver {
  return () =>
    createOpenStackDriver({
      options,
      credentials: async () => ({ extra: {} }),
      ceName: "ce",
      logger: silentLogger,
      // Nothing here hangs on purpose: a short timeout would only turn a busy machine into retries that the counts see.
      requestTimeoutMs: 60_000,
    });
}

function request(names: string[], owner = "ce-a"): CreateNodesRequest {
  return {
    imageId: cloud.state.images[0]!.id,
    flavorId: "1",
    networkIds: [cloud.state.networks[0]!.id],
    nodes: names.map((name) => ({ name, userData: new Uint8Array([35, 33]), metadata: { "cloudce-ce": owner } })),
    requestId: "r",
  };
}

async function failureOf(p: Promise<unknown>): Promise<CloudceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CloudceError);
  return err as CloudceError;
}

beforeAll(async () => {
  cloud = await startOpenStackServer({ bootMs: 150, stopMs: 50 });
  for (const project of cloud.state.quotas.keys())
    cloud.state.quotas.set(project, { instances: 1000, cores: 1000, ramMb: 1_000_000 });
});
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  await cloud.close();
});

describe("OPENSTACK options", () => {
  it("fails fast naming the Driver_ option at fault", () => {
    expect(build({})).toThrow(/Driver_ex_force_auth_url: required/);
    expect(build({ ex_force_auth_url: "keystone:5000", ex_tenant_name: "p" })).toThrow(
      /Driver_ex_force_auth_url: .*must be an http\(s\) URL/,
    );
    expect(build({ ex_force_auth_url: "http://k:5000", ex_force_auth_version: "2.0_password" })).toThrow(
      /Driver_ex_force_auth_version: '2.0_password' is not supported/,
    );
    expect(build({ ex_force_auth_url: "http://k:5000" })).toThrow(/Driver_ex_tenant_name: required/);
    expect(
      build({ ex_force_auth_url: "http://k:5000", ex_tenant_name: "p", ex_force_microversion: "2.latest" }),
    ).toThrow(/Driver_ex_force_microversion/);
    try {
      build({})();
    } catch (err) {
      expect((err as CloudceError).code).toBe("OptionMissing");
    }
  });

  it("lists unknown Driver_ options", () => {
    expect(
      unknownOptions({ ex_force_auth_url: "u", ex_tenant_name: "p", ex_tennant_name: "typo", flavour: "x" }),
    ).toEqual(["ex_tennant_name", "flavour"]);
  });

  it("accepts an auth URL ending in /v3", async () => {
    const d = make({ options: { ex_force_auth_url: `${cloud.authUrl}/v3/` } });
    expect((await d.listFlavors({ name: "m1.small" })).map((f) => f.id)).toEqual(["2"]);
  });
});

describe("OPENSTACK authentication and catalog", () => {
  it("authenticates with an application credential id + secret (auth file key/secret)", async () => {
    const d = make({
      options: { ex_force_auth_version: "3.x_appcred", ex_tenant_name: "" },
      credentials: { key: "appcred0000000000000000000000001", secret: "robot-secret-1" },
    });
    expect((await d.listNetworks({ name: "private" })).length).toBe(1);
  });

  it("authenticates with an application credential name + user", async () => {
    const d = make({
      options: { ex_force_auth_version: "3.x_appcred" },
      credentials: { key: "demo", secret: "robot-secret-1", extra: { application_credential_name: "robot" } },
    });
    expect((await d.getLimits()).instances).toBeGreaterThan(0);
  });

  it("exchanges a pre-issued token (secret = TOKEN) for a project-scoped one", async () => {
    const { id } = cloud.state.issueToken(cloud.state.users[0]!.id, undefined, ["password"]);
    const d = make({
      options: { ex_force_auth_version: "3.x_token" },
      credentials: { key: undefined, secret: undefined, token: id },
    });
    expect((await d.listImages({ name: "cirros-fake" })).length).toBe(1);
  });

  it("uses a pre-issued project-scoped token as it is, its catalog from validating it", async () => {
    const { id } = cloud.state.issueToken(cloud.state.users[0]!.id, PROJECTS["demo"], ["password"]);
    cloud.resetCounts();
    const d = make({
      options: { ex_force_auth_version: "3.x_token" },
      credentials: { key: undefined, secret: undefined, token: id },
    });
    expect((await d.listFlavors()).length).toBe(3);
    expect(cloud.count("identity GET /v3/auth/tokens")).toBe(1);
    expect(cloud.count("identity POST /v3/auth/tokens")).toBe(0);
  });

  it("names the regions the catalog has when the region is wrong", async () => {
    const d = make({ options: { ex_force_service_region: "Mars" } });
    const err = await failureOf(d.listImages());
    expect(err.message).toMatch(/no public image endpoint in region 'Mars' .*RegionOne/);
  });

  it("takes the compute endpoint from Driver_ex_force_base_url", async () => {
    const d = make({ options: { ex_force_base_url: `${cloud.url}/compute/v2.1` } });
    expect((await d.listFlavors()).length).toBe(3);
  });

  it("refuses a project the user has no role on", async () => {
    const d = make({ options: { ex_tenant_name: "other" } });
    expect((await failureOf(d.listFlavors())).code).toBe("AuthFailed");
  });
});

describe("OPENSTACK compute", () => {
  it("resolves images, flavors and networks by id and exact name", async () => {
    const d = make();
    expect((await d.listImages({ name: "twin" })).length).toBe(2);
    expect(await d.listImages({ name: "queued-image" })).toEqual([]);
    expect(await d.listImages({ id: "00000000-0000-4000-8000-000000000000" })).toEqual([]);
    expect((await d.listFlavors({ id: "3" }))[0]).toMatchObject({ name: "m1.medium", vcpus: 2, ramMb: 4096 });
    expect(await d.listFlavors({ id: "99" })).toEqual([]);
    expect((await d.listNetworks({ id: cloud.state.networks[1]!.id }))[0]!.name).toBe("public");
  });

  it("follows Glance's next links", async () => {
    cloud.state.imagePageSize = 1;
    try {
      cloud.resetCounts();
      expect((await make().listImages()).length).toBe(3);
      expect(cloud.count("image GET /v2/images")).toBe(3);
    } finally {
      cloud.state.imagePageSize = 25;
    }
  });

  it("lists by name prefix server-side, by owner client-side, across Nova pages", async () => {
    const d = make();
    await d.createNodes(request(["PAGE_A1", "PAGE_A2", "PAGE_A3", "PAGE_A4", "PAGE_A5"]));
    await d.createNodes(request(["PAGE_B1"], "ce-b"));
    await d.createNodes(request(["PAGEX_A1"]));
    cloud.state.maxLimit = 2;
    try {
      cloud.resetCounts();
      const mine = await d.listNodes({ namePrefix: "PAGE_", metadata: { "cloudce-ce": "ce-a" } });
      expect(mine.map((n) => n.name).sort()).toEqual(["PAGE_A1", "PAGE_A2", "PAGE_A3", "PAGE_A4", "PAGE_A5"]);
      expect(cloud.count("compute GET /servers/detail")).toBe(4);
    } finally {
      cloud.state.maxLimit = 1000;
    }
  });

  it("escapes regex characters of the prefix", async () => {
    const d = make();
    await d.createNodes(request(["DOT.X1", "DOTYX1"]));
    expect((await d.listNodes({ namePrefix: "DOT.", metadata: {} })).map((n) => n.name)).toEqual(["DOT.X1"]);
  });

  it("tags servers at boot where the cloud offers 2.52, and still lists servers made without tags", async () => {
    forgetTagKnowledge();
    cloud.state.maxMicroversion = 50;
    const { created: old } = await make().createNodes(request(["TAG_0"]));
    expect(cloud.state.servers.get(old[0]!.id)!.tags).toEqual([]);
    forgetTagKnowledge();
    cloud.state.maxMicroversion = undefined;
    const d = make();
    const { created } = await d.createNodes(request(["TAG_1"]));
    expect(cloud.state.servers.get(created[0]!.id)!.tags).toEqual(["cloudce", "cloudce-ce=ce-a"]);
    const mine = await d.listNodes({ namePrefix: "TAG_", metadata: { "cloudce-ce": "ce-a" } });
    expect(mine.map((n) => n.id).sort()).toEqual([old[0]!.id, created[0]!.id].sort());
    expect(await d.listNodes({ namePrefix: "TAG_", metadata: { "cloudce-ce": "ce-b" } })).toEqual([]);
  });

  it("sends networks 'auto' when none are given with microversion 2.37+", async () => {
    const d = make({ options: { ex_force_microversion: "latest" } });
    const result = await d.createNodes({ ...request(["AUTO_1"]), networkIds: [] });
    expect(result.failed).toEqual([]);
  });

  it("stops a running node, treats stopping a stopped node as done, and refuses a booting one", async () => {
    const d = make();
    const { created } = await d.createNodes(request(["STOP_1", "STOP_2"]));
    const [a, b] = created.map((n) => n.id) as [string, string];
    const early = await d.stopNodes([b]);
    expect(early.failed[0]!.error.message).toMatch(/cannot be stopped in state BUILD/);
    await eventually(
      () => d.getNode(a),
      (n) => n?.state === "running",
      5_000,
      "running",
    );
    expect((await d.stopNodes([a])).done).toEqual([a]);
    await eventually(
      () => d.getNode(a),
      (n) => n?.state === "stopped",
      5_000,
      "stopped",
    );
    expect((await d.stopNodes([a])).done).toEqual([a]);
    const missing = await d.stopNodes(["00000000-0000-4000-8000-000000000001"]);
    expect((missing.failed[0]!.error as CloudceError).code).toBe("NodeNotFound");
  });

  it("gives console output once the node runs, and a clear error before", async () => {
    const d = make();
    const { created } = await d.createNodes(request(["CONSOLE_1"]));
    const id = created[0]!.id;
    expect((await failureOf(d.getConsoleOutput(id))).message).toMatch(/no console output .* try again/);
    await eventually(
      () => d.getNode(id),
      (n) => n?.state === "running",
      5_000,
      "running",
    );
    expect(await d.getConsoleOutput(id)).toContain("CONSOLE_1");
  });

  it("maps a failed boot to error and a node being deleted to gone", async () => {
    cloud.state.failName = /^FAIL_/;
    const d = make();
    const { created } = await d.createNodes(request(["FAIL_1"]));
    expect((await d.getNode(created[0]!.id))?.state).toBe("error");
    cloud.state.failName = undefined;
    const slow = await startOpenStackServer({ deleteMs: 60_000 });
    const d2 = openStackDriver(slow);
    try {
      const made = await d2.createNodes({
        ...request(["GONE_1"]),
        imageId: slow.state.images[0]!.id,
        networkIds: [slow.state.networks[0]!.id],
      });
      await d2.destroyNodes([made.created[0]!.id]);
      expect(await d2.getNode(made.created[0]!.id)).toMatchObject({ state: "gone", cloudState: "BUILD(deleting)" });
      expect(await d2.listNodes({ namePrefix: "GONE_", metadata: {} })).toEqual([]);
    } finally {
      await d2.close();
      await slow.close();
    }
  });

  it("reports what the project may still start, unlimited as undefined", async () => {
    const d = make();
    const project = [...cloud.state.quotas.keys()][0]!;
    cloud.state.quotas.set(project, { instances: -1, cores: 1000, ramMb: -1 });
    const used = cloud.state.usage(project);
    expect(await d.getLimits()).toEqual({ cores: 1000 - used.cores });
  });
});
