/**
 * The OPENSTACK driver and the CE against a real Keystone, Nova (fake virt
 * driver), Glance and Neutron: password and application-credential auth,
 * name: resolution, microversions and tags, limits, console output, errors,
 * and the CE scenario end to end.
 */

import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudDriver, CloudNode, CreateNodesRequest } from "../../src/drivers/driver.js";
import type { CloudceError } from "../../src/errors.js";
import { eventually } from "../drivers/conformance.js";
import { runCeScenario } from "../servers/openstack/ce-scenario.js";
import { closeLab, LAB, labDriver, labIds, labLogin, makeAppCredential } from "./lab-env.js";
import { forgetTagKnowledge } from "../../src/drivers/openstack/tags.js";

const run = randomBytes(3).toString("hex").toUpperCase();
const prefix = `OSLAB${run}_`;
const owner = { "cloudce-ce": `lab-${run}` };
let driver: CloudDriver;
let ids: { image: string; flavor: string; network: string };
const made: CloudNode[] = [];

function request(names: string[], overrides: Partial<CreateNodesRequest> = {}): CreateNodesRequest {
  return {
    imageId: ids.image,
    flavorId: ids.flavor,
    networkIds: [ids.network],
    nodes: names.map((n) => ({
      name: `${prefix}${n}`,
      userData: new Uint8Array(Buffer.from("#cloud-config\n")),
      metadata: owner,
    })),
    requestId: randomUUID(),
    ...overrides,
  };
}

async function create(
  d: CloudDriver,
  names: string[],
  overrides: Partial<CreateNodesRequest> = {},
): Promise<CloudNode[]> {
  const result = await d.createNodes(request(names, overrides));
  made.push(...result.created);
  expect(result.failed.map((f) => f.error.message)).toEqual([]);
  return [...result.created];
}

const reaches = (d: CloudDriver, id: string, states: string[]) =>
  eventually(
    () => d.getNode(id),
    (n) => states.includes(n?.state ?? "absent"),
    LAB.stateTimeoutMs,
    `${id} to reach ${states.join("/")}`,
  );

beforeAll(async () => {
  driver = labDriver();
  ids = await labIds(driver);
});

afterAll(() => closeLab(driver, prefix));

describe("OPENSTACK on the real lab: auth and resolution", () => {
  it("resolves image, flavor and network by exact name and by id", async () => {
    expect((await driver.listImages({ id: ids.image }))[0]?.name).toBe(LAB.image);
    expect((await driver.listFlavors({ id: ids.flavor }))[0]).toMatchObject({ name: LAB.flavor, vcpus: 1, ramMb: 512 });
    expect((await driver.listNetworks({ id: ids.network }))[0]?.name).toBe(LAB.network);
    expect(await driver.listImages({ name: `nope-${run}` })).toEqual([]);
    expect(await driver.listFlavors({ name: `nope-${run}` })).toEqual([]);
    expect(await driver.listNetworks({ name: `nope-${run}` })).toEqual([]);
  });

  it("authenticates with an application credential", async () => {
    const cred = await makeAppCredential(`cloudce-${run}`);
    const d = labDriver({ ex_force_auth_version: "3.x_appcred" }, { key: cred.id, secret: cred.secret });
    try {
      expect((await d.listFlavors({ name: LAB.flavor })).length).toBe(1);
      const [node] = await create(d, ["APPCRED"]);
      expect((await d.getNode(node!.id))?.name).toBe(`${prefix}APPCRED`);
      expect((await d.destroyNodes([node!.id])).failed).toEqual([]);
    } finally {
      await d.close();
      await cred.remove();
    }
  });

  it("uses a pre-issued token: a scoped one as it is, an unscoped one exchanged for the project", async () => {
    for (const scoped of [true, false]) {
      const { token } = await labLogin(scoped);
      const d = labDriver({ ex_force_auth_version: "3.x_token" }, { key: undefined, secret: undefined, token });
      try {
        expect((await d.listImages({ name: LAB.image })).length).toBe(1);
      } finally {
        await d.close();
      }
    }
  });

  it("rejects a wrong password with AuthFailed and keeps it out of the message", async () => {
    const d = labDriver({}, { secret: "not-the-lab-password" });
    try {
      const err = (await d.listFlavors().catch((e: unknown) => e)) as CloudceError;
      expect(err.code).toBe("AuthFailed");
      expect(err.message).not.toContain("not-the-lab-password");
    } finally {
      await d.close();
    }
  });
});

describe("OPENSTACK on the real lab: compute", () => {
  it("reports the project's remaining limits from GET /limits", async () => {
    // A server being deleted still counts against the quota: wait until earlier ones are gone for good.
    for (const n of made) await reaches(driver, n.id, ["absent"]);
    const limits = await driver.getLimits();
    expect(limits.instances).toBeGreaterThanOrEqual(0);
    expect(limits.cores).toBeGreaterThanOrEqual(0);
    expect(limits.ramMb).toBeGreaterThanOrEqual(0);
    const [node] = await create(driver, ["LIMITS"]);
    // Nova counts a server in /limits once it is scheduled, not while it is only a build request.
    await reaches(driver, node!.id, ["running"]);
    const after = await driver.getLimits();
    expect(after.instances).toBe(limits.instances! - 1);
    await driver.destroyNodes([node!.id]);
  });

  it("boots to ACTIVE, gives the console, stops to SHUTOFF, deletes to 404", async () => {
    const [node] = await create(driver, ["LIFE"]);
    expect(node!.state).toBe("booting");
    const running = await reaches(driver, node!.id, ["running"]);
    expect(running?.cloudState).toBe("ACTIVE");
    expect(running?.metadata).toMatchObject(owner);
    expect(await driver.getConsoleOutput(node!.id)).toContain("FAKE CONSOLE OUTPUT");
    expect((await driver.stopNodes([node!.id])).failed).toEqual([]);
    expect((await reaches(driver, node!.id, ["stopped"]))?.cloudState).toBe("SHUTOFF");
    expect((await driver.stopNodes([node!.id])).failed).toEqual([]);
    await driver.destroyNodes([node!.id]);
    await reaches(driver, node!.id, ["gone", "absent"]);
    expect((await driver.destroyNodes([node!.id])).done).toEqual([node!.id]);
  });

  it("tags the owner with microversion 2.52; 'latest' boots with networks auto", async () => {
    const tagged = labDriver({ ex_force_microversion: "2.52" });
    const latest = labDriver({ ex_force_microversion: "latest" });
    try {
      const [a] = await create(tagged, ["TAGGED"]);
      const [b] = await create(latest, ["AUTONET"], { networkIds: [] });
      const mine = await tagged.listNodes({ namePrefix: prefix, metadata: owner });
      expect(mine.map((n) => n.id)).toEqual(expect.arrayContaining([a!.id, b!.id]));
      expect(await tagged.listNodes({ namePrefix: prefix, metadata: { "cloudce-ce": `other-${run}` } })).toEqual([]);
      await reaches(latest, b!.id, ["running", "error"]);
      await tagged.destroyNodes([a!.id, b!.id]);
    } finally {
      await tagged.close();
      await latest.close();
    }
  });

  it("without a configured microversion, tags at boot where Nova offers 2.52 and lists by tag", async () => {
    forgetTagKnowledge();
    const plain = labDriver({});
    try {
      const [mineNode] = await create(plain, ["BYTAG"]);
      const other = request(["BYTAGOTHER"]);
      const [theirs] = await create(plain, [], {
        nodes: other.nodes.map((n) => ({ ...n, metadata: { "cloudce-ce": `other-${run}` } })),
      });
      const found = await plain.listNodes({ namePrefix: prefix, metadata: owner });
      expect(found.map((n) => n.id)).toContain(mineNode!.id);
      expect(found.map((n) => n.id)).not.toContain(theirs!.id);
      const { token } = await labLogin();
      const res = await fetch(`http://127.0.0.1:8774/v2.1/servers/${mineNode!.id}/tags`, {
        headers: { "x-auth-token": token, "openstack-api-version": "compute 2.52" },
      });
      expect(((await res.json()) as { tags: string[] }).tags).toEqual(
        expect.arrayContaining(["cloudce", `cloudce-ce=${owner["cloudce-ce"]}`]),
      );
      await plain.destroyNodes([mineNode!.id, theirs!.id]);
    } finally {
      await plain.close();
    }
  });

  it("reads a paused and a suspended server as suspended, not finished", async () => {
    const { token } = await labLogin();
    for (const action of ["pause", "suspend"]) {
      const [node] = await create(driver, [action.toUpperCase()]);
      await reaches(driver, node!.id, ["running"]);
      const res = await fetch(`http://127.0.0.1:8774/v2.1/servers/${node!.id}/action`, {
        method: "POST",
        headers: { "x-auth-token": token, "content-type": "application/json" },
        body: JSON.stringify({ [action]: null }),
      });
      expect(res.status).toBe(202);
      const frozen = await reaches(driver, node!.id, ["suspended"]);
      expect(frozen?.cloudState).toBe(action === "pause" ? "PAUSED" : "SUSPENDED");
      await driver.destroyNodes([node!.id]);
    }
  });

  it("reports Nova's refusals per node, one line, without the user-data", async () => {
    const result = await driver.createNodes(request(["BADFLAVOR"], { flavorId: "no-such-flavor" }));
    expect(result.created).toEqual([]);
    const err = result.failed[0]!.error as CloudceError;
    expect(err.code).toBe("FlavorNotFound");
    expect(err.message).toMatch(/^compute POST \/servers: HTTP 400 .*[Ff]lavor/);
    expect(await driver.getNode(randomUUID())).toBeUndefined();
  });
});

describe("the CE on the real lab", () => {
  it("submits, watches, stops, reads, kills and cleans up pilots", async () => {
    const limits = await driver.getLimits();
    await runCeScenario({
      authUrl: LAB.authUrl,
      user: LAB.user,
      password: LAB.password,
      project: LAB.project,
      image: LAB.image,
      flavor: LAB.flavor,
      network: LAB.network,
      driver,
      stateTimeoutMs: LAB.stateTimeoutMs,
      maxInstances: limits.instances ?? 1000,
    });
  });
});
