/** Azure status, output, quotas and credentials: one paged listing with a guard, power states, spot evictions, tokens. */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CreateNodesRequest } from "../../src/drivers/driver.js";
import { isCloudceError } from "../../src/errors.js";
import { scrubSecrets } from "../../src/secrets.js";
import { azureDriver, TEST_CLIENT_ID, TEST_TENANT } from "../servers/azure/driver-fixture.js";
import { azureFixturePerTest, NO_WAIT } from "../servers/azure/vitest-scope.js";
import { until } from "../support/wait.js";

const fixture = azureFixturePerTest();
const GROUP = "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/grid-pilots/providers";
const OWNER = { "cloudce-ce": "cloud.mysite.example" };
const request = (names: string[]): CreateNodesRequest => ({
  imageId: "AlmaLinux:almalinux-x86_64:9-gen2:latest",
  flavorId: "Standard_D2s_v5",
  networkIds: [`${GROUP}/Microsoft.Network/virtualNetworks/grid-vnet/subnets/pilots`],
  nodes: names.map((name) => ({ name, userData: new Uint8Array(Buffer.from("#cloud-config\n")), metadata: OWNER })),
  requestId: "r-1",
});

describe("Azure status", () => {
  it("lists every page in one listing with statusOnly=true, and refuses a nextLink that repeats", async () => {
    const f = await fixture({ server: { pageSize: 2 } });
    await f.driver.createNodes(
      request(["dirac-pilot-A1", "dirac-pilot-A2", "dirac-pilot-A3", "dirac-pilot-A4", "dirac-pilot-A5"]),
    );
    f.server.reset();
    const nodes = await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER });
    expect(nodes).toHaveLength(5);
    expect(f.server.calls["virtualMachines.listAll"]).toBe(3);
    expect(
      f.server.requests.every((r) => r.call !== "virtualMachines.listAll" || r.query.get("statusOnly") === "true"),
    ).toBe(true);
    // A VM of the first page vanishes before the second page is read: no other VM is skipped.
    f.server.inject({ call: "virtualMachines.listAll", kind: "delay", ms: 0 });
    f.server.inject({
      call: "virtualMachines.listAll",
      kind: "delay",
      ms: 0,
      before: () => f.server.cloud.vms.delete("dirac-pilot-A1"),
    });
    expect(
      (await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER })).map((n) => n.name).sort(),
    ).toEqual(["dirac-pilot-A1", "dirac-pilot-A2", "dirac-pilot-A3", "dirac-pilot-A4", "dirac-pilot-A5"]);
    f.server.inject({ call: "virtualMachines.listAll", kind: "repeatNextLink", times: 5 });
    const err = await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER }).catch((e: unknown) => e);
    expect(isCloudceError(err, "CloudError") && /the same nextLink twice/.test(err.message)).toBe(true);
  });

  it("reads a guest power-off as stopped (Done), a deallocated spot VM as interrupted, and a failed allocation as error with its code", async () => {
    const f = await fixture({ options: { spot: "true" } });
    const { created } = await f.driver.createNodes(request(["dirac-pilot-B1", "dirac-pilot-B2"]));
    const put = f.server.requests.find((r) => r.call === "virtualMachines.createOrUpdate")!.body as {
      properties: Record<string, unknown>;
    };
    expect(put.properties).toMatchObject({
      priority: "Spot",
      evictionPolicy: "Deallocate",
      billingProfile: { maxPrice: -1 },
    });
    f.server.cloud.guestPowerOff("dirac-pilot-B1");
    f.server.cloud.evict("dirac-pilot-B2");
    const byName = Object.fromEntries(
      (await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER })).map((n) => [n.name, n]),
    );
    expect(byName["dirac-pilot-B1"]).toMatchObject({ state: "stopped", cloudState: "succeeded/stopped" });
    expect(byName["dirac-pilot-B1"]!.interrupted).toBeUndefined();
    expect(byName["dirac-pilot-B1"]!.stoppedAt).toBeInstanceOf(Date);
    expect(byName["dirac-pilot-B2"]).toMatchObject({ state: "stopped", interrupted: true });
    f.server.cloud.vms.get("dirac-pilot-B1")!.failed = { code: "AllocationFailed", message: "no room" };
    const failed = await f.driver.getNode(created[0]!.id);
    expect(failed).toMatchObject({ state: "error", fault: { code: "CapacityExceeded" } });
  });

  it("looks up ids a recent listing did not show without listing again for each", async () => {
    const f = await fixture();
    const { created } = await f.driver.createNodes(request(["dirac-pilot-D1"]));
    await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER });
    f.server.reset();
    const gone = [
      "00000000-0000-4000-8000-000000000001",
      "00000000-0000-4000-8000-000000000002",
      "00000000-0000-4000-8000-000000000003",
    ];
    for (const id of gone) expect(await f.driver.getNode(id)).toBeUndefined();
    expect((await f.driver.destroyNodes(gone)).gone).toEqual(gone);
    expect(f.server.calls["virtualMachines.listAll"]).toBeUndefined();
    expect((await f.driver.getNode(created[0]!.id))?.name).toBe("dirac-pilot-D1");
  });

  it("reads the serial log from boot diagnostics, and the location's usage", async () => {
    const f = await fixture({ server: { coreQuota: 10, vmQuota: 20 } });
    const { created } = await f.driver.createNodes(request(["dirac-pilot-C1"]));
    f.server.cloud.vms.get("dirac-pilot-C1")!.serialLog = "pilot says hello\n";
    expect(await f.driver.getConsoleOutput(created[0]!.id)).toBe("pilot says hello\n");
    expect(await f.driver.getLimits()).toEqual({ cores: 8, instances: 19 });
  });
});

describe("Azure credentials", () => {
  it("renews a revoked token once and goes on; never quotes the secret when it is refused", async () => {
    const f = await fixture();
    await f.driver.listNodes({ namePrefix: "x", metadata: {} });
    f.server.identity.revokeAll();
    await f.driver.listNodes({ namePrefix: "x", metadata: {} });
    expect(f.server.identity.issued).toBe(2);
    const wrong = await azureDriver(f.server, {
      credentials: async () => ({ key: TEST_CLIENT_ID, secret: "not-the-secret-at-all", extra: {} }),
      deps: { clock: NO_WAIT },
    });
    const err = await wrong.listNodes({ namePrefix: "x", metadata: {} }).catch((e: unknown) => e);
    await wrong.close();
    expect(isCloudceError(err, "AuthFailed")).toBe(true);
    expect(String((err as Error).message)).not.toContain("not-the-secret-at-all");
  });

  it("logs in with a certificate (a signed client assertion) and with a managed identity", async () => {
    const f = await fixture();
    const dir = mkdtempSync(join(tmpdir(), "cloudce-azure-cert-"));
    try {
      const pem = join(dir, "sp.pem");
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          join(dir, "k.pem"),
          "-out",
          join(dir, "c.pem"),
          "-days",
          "2",
          "-subj",
          "/CN=cloudce",
        ],
        { stdio: "ignore" },
      );
      const cert = readFileSync(join(dir, "c.pem"), "utf8");
      writeFileSync(pem, readFileSync(join(dir, "k.pem"), "utf8") + cert, { mode: 0o600 });
      f.server.addPrincipal({
        tenantId: TEST_TENANT,
        clientId: "22222222-1111-4222-8333-444444444444",
        certificate: cert,
      });
      const byCert = await azureDriver(f.server, {
        options: { credentials: "certificate" },
        credentials: async () => ({ key: "22222222-1111-4222-8333-444444444444", secret: pem, extra: {} }),
        deps: { clock: NO_WAIT },
      });
      expect(byCert.capabilities.secretIsPath).toBe(true);
      await expect(byCert.listNodes({ namePrefix: "x", metadata: {} })).resolves.toEqual([]);
      // The key stays registered with the scrubber beside the token while the driver lives.
      const key = readFileSync(join(dir, "k.pem"), "utf8").trim();
      expect(scrubSecrets(`key ${key} read`)).toBe("key [secret] read");
      await byCert.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const managed = await azureDriver(f.server, {
      options: { credentials: "managed-identity", identity_endpoint: f.server.identityEndpoint },
      credentials: async () => ({ extra: {} }),
      deps: { clock: NO_WAIT },
    });
    expect(managed.capabilities.requiresCredentials).toBe(false);
    await expect(managed.listNodes({ namePrefix: "x", metadata: {} })).resolves.toEqual([]);
    await managed.close();
    expect(f.server.requests.find((r) => r.call === "identity")?.query.get("resource")).toBe(`${f.server.endpoint}/`);
  });

  it("names a wrong resource group and a throttled listing by their codes", async () => {
    const f = await fixture({ options: { resource_group: "nope", max_attempts: "2" } });
    const err = await f.driver.listImages().catch((e: unknown) => e);
    expect(isCloudceError(err) && err.status).toBe("ResourceGroupNotFound");
    f.server.inject({ call: "virtualMachines.listAll", kind: "throttle", times: 2 });
    const throttled = await f.driver.listNodes({ namePrefix: "x", metadata: {} }).catch((e: unknown) => e);
    expect(isCloudceError(throttled, "RateLimited") && throttled.retryAfterSeconds).toBe(1);
    await until(() => f.server.inFlight() === 0, "no call in flight");
  });
});
