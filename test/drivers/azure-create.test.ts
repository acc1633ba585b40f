/** Azure creation: one PUT per VM or one per scale set, idempotent by name, lost answers recovered, operations followed, errors typed. */

import { describe, expect, it } from "vitest";
import type { CreateNodesRequest } from "../../src/drivers/driver.js";
import { scaleSetName } from "../../src/drivers/azure/create.js";
import { isCloudceError } from "../../src/errors.js";
import { azureFixturePerTest } from "../servers/azure/vitest-scope.js";
import { until } from "../support/wait.js";

const fixture = azureFixturePerTest();

const SUB = "11111111-2222-4333-8444-555555555555";
const GROUP = `/subscriptions/${SUB}/resourceGroups/grid-pilots/providers`;
const OWNER = { "cloudce-ce": "cloud.mysite.example", "cloudce-queue": "Long_Queue", "cloudce-batch": "0a1b2c3d" };
const userData = new Uint8Array(Buffer.from("#cloud-config\nruncmd: [poweroff]\n"));

const request = (
  count: number,
  over: Partial<CreateNodesRequest> = {},
  name = "dirac-pilot-0A1B2C3D",
): CreateNodesRequest => ({
  imageId: `${GROUP}/Microsoft.Compute/images/el9-pilot-v2`,
  flavorId: "Standard_D2s_v5",
  networkIds: [`${GROUP}/Microsoft.Network/virtualNetworks/grid-vnet/subnets/pilots`],
  nodes: Array.from({ length: count }, () => ({ name, userData, metadata: OWNER })),
  requestId: "6f1c0d52-8a43-4c1e-9b7a-3d2e1f0a9b8c",
  ...over,
});

/** The parts of the PUT bodies these tests read. */
interface VmPut {
  tags: Record<string, string>;
  properties: {
    osProfile: { customData: string; linuxConfiguration: { ssh: { publicKeys: { keyData: string }[] } } };
    storageProfile: { osDisk: { deleteOption: string } };
    networkProfile: { networkInterfaceConfigurations: { properties: { deleteOption: string } }[] };
  };
}
interface ScaleSetPut {
  sku: { name: string; capacity: number };
  properties: { orchestrationMode: string };
}

describe("Azure VM create", () => {
  it("PUTs one VM: customData, tags, the NIC declared inside with the disk and NIC deleted with the VM, the api-version pinned", async () => {
    const f = await fixture();
    const result = await f.driver.createNodes(request(1));
    expect(result.failed).toEqual([]);
    const [node] = result.created;
    expect(node!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(node!.name).toBe("dirac-pilot-0A1B2C3D");
    expect(node!.metadata).toMatchObject(OWNER);
    const put = f.server.requests.find((r) => r.call === "virtualMachines.createOrUpdate")!;
    expect(put.query.get("api-version")).toBe("2024-07-01");
    const body = put.body as VmPut;
    const p = body.properties;
    expect(Buffer.from(p.osProfile.customData, "base64").toString()).toBe(Buffer.from(userData).toString());
    expect(body.tags).toEqual(OWNER);
    expect(p.storageProfile.osDisk.deleteOption).toBe("Delete");
    const nic = p.networkProfile.networkInterfaceConfigurations[0]!;
    expect(nic.properties.deleteOption).toBe("Delete");
    expect(p.osProfile.linuxConfiguration.ssh.publicKeys[0]!.keyData).toMatch(/^ssh-rsa AAAA/);
    // The operation was followed to its end: the VM has allocated.
    expect(f.server.calls["operations.get"]).toBeGreaterThanOrEqual(1);
    expect(f.server.calls["networkInterfaces.createOrUpdate"]).toBeUndefined();
  });

  it("refuses customData over 64 KiB before any call", async () => {
    const f = await fixture();
    const big = new Uint8Array(65_536);
    const err = await f.driver
      .createNodes({ ...request(1), nodes: [{ name: "dirac-pilot-BIG", userData: big, metadata: OWNER }] })
      .catch((e: unknown) => e);
    expect(isCloudceError(err, "UserDataTooLarge")).toBe(true);
    expect(f.server.requests).toEqual([]);
  });

  it("recovers a create whose answer was lost, by name and tags: one VM, never a twin", async () => {
    // The dropped connection ends the call at once: a long timeout keeps a busy machine from failing the look-ups.
    const f = await fixture({ requestTimeoutMs: 60_000, options: { max_attempts: "1" } });
    f.server.inject({ call: "virtualMachines.createOrUpdate", kind: "dropAfter" });
    const result = await f.driver.createNodes(request(1));
    expect(result.failed).toEqual([]);
    expect(result.created).toHaveLength(1);
    expect(f.server.cloud.created).toEqual(["dirac-pilot-0A1B2C3D"]);
  });

  it("retries a PUT after 429 and a reset: the same name, still one VM", async () => {
    const f = await fixture();
    f.server.inject({ call: "virtualMachines.createOrUpdate", kind: "throttle" });
    f.server.inject({ call: "virtualMachines.createOrUpdate", kind: "dropAfter" });
    const result = await f.driver.createNodes(request(1));
    expect(result.created).toHaveLength(1);
    expect(f.server.calls["virtualMachines.createOrUpdate"]).toBe(3);
    expect(f.server.cloud.created).toHaveLength(1);
  });

  it("maps a quota refusal to QuotaExceeded (cores) and an allocation failure to CapacityExceeded, deleting the failed VM", async () => {
    const f = await fixture({ server: { coreQuota: 1 } });
    const quota = await f.driver.createNodes(request(1)).catch((e: unknown) => e);
    expect(isCloudceError(quota, "QuotaExceeded") && quota.quotaResource).toBe("cores");
    f.server.cloud.coreQuota = 100;
    f.server.inject({ call: "virtualMachines.createOrUpdate", kind: "operationFailed", code: "AllocationFailed" });
    const capacity = await f.driver.createNodes(request(1)).catch((e: unknown) => e);
    expect(isCloudceError(capacity, "CapacityExceeded")).toBe(true);
    await until(() => {
      if (f.server.cloud.vms.size === 0) return true;
      f.server.cloud.sweep();
      return f.server.cloud.vms.size === 0;
    }, "the failed VM deleted");
  });

  it("a VM left failed (its delete refused) is provisioned again by the next PUT of its name, in the size that PUT names", async () => {
    const f = await fixture({ server: { capacity: { Standard_D4s_v5: 0 } } });
    f.server.inject({ call: "virtualMachines.delete", kind: "error", status: 409, code: "Conflict" });
    const first = await f.driver.createNodes({ ...request(1), flavorId: "Standard_D4s_v5" }).catch((e: unknown) => e);
    expect(isCloudceError(first, "CapacityExceeded")).toBe(true);
    expect(f.server.cloud.vms.get("dirac-pilot-0A1B2C3D")?.failed?.code).toBe("AllocationFailed");
    const second = await f.driver.createNodes(request(1));
    expect(second.created).toHaveLength(1);
    expect(f.server.cloud.vms.get("dirac-pilot-0A1B2C3D")).toMatchObject({
      size: "Standard_D2s_v5",
      vmId: second.created[0]!.id,
    });
    expect(f.server.cloud.vms.get("dirac-pilot-0A1B2C3D")?.failed).toBeUndefined();
  });

  it("returns a VM whose operation outlives the deadline, still booting", async () => {
    const f = await fixture({
      options: { operation_timeout: "10" },
      deps: {
        clock: {
          now: (() => {
            let t = 0;
            return () => (t += 4_000);
          })(),
          sleep: async () => undefined,
        },
      },
    });
    f.server.inject({ call: "virtualMachines.createOrUpdate", kind: "stuckOperation" });
    const result = await f.driver.createNodes(request(1));
    expect(result.created).toHaveLength(1);
  });
});

describe("Azure scale-set batch", () => {
  it("creates N pilots with ONE PUT of a flexible scale set; nodes are its VMs, with the set's tags", async () => {
    const f = await fixture({ options: { scale_set: "true" } });
    expect(f.driver.capabilities.uniformBatch).toBe(true);
    const result = await f.driver.createNodes(request(5));
    expect(result.failed).toEqual([]);
    expect(result.created).toHaveLength(5);
    expect(f.server.calls["virtualMachineScaleSets.createOrUpdate"]).toBe(1);
    expect(f.server.calls["virtualMachines.createOrUpdate"]).toBeUndefined();
    const put = f.server.requests.find((r) => r.call === "virtualMachineScaleSets.createOrUpdate")!.body as ScaleSetPut;
    expect(put.sku).toEqual({ name: "Standard_D2s_v5", capacity: 5 });
    expect(put.properties.orchestrationMode).toBe("Flexible");
    expect(new Set(result.created.map((n) => n.id)).size).toBe(5);
    for (const n of result.created) {
      expect(n.name).toMatch(/^dirac-pilot-0A1B2C3D-[0-9a-f]{4}_[0-9a-f]{8}$/);
      expect(n.metadata).toMatchObject(OWNER);
    }
    const listed = await f.driver.listNodes({ namePrefix: "dirac-pilot-", metadata: OWNER });
    expect(listed.map((n) => n.id).sort()).toEqual(result.created.map((n) => n.id).sort());
  });

  it("a retried PUT never grows the set; a partial allocation returns what exists and fails the rest as CapacityExceeded", async () => {
    const f = await fixture({ options: { scale_set: "true" }, server: { capacity: { Standard_D2s_v5: 3 } } });
    f.server.inject({ call: "virtualMachineScaleSets.createOrUpdate", kind: "dropAfter" });
    const result = await f.driver.createNodes(request(5));
    expect(result.created).toHaveLength(3);
    expect(result.failed).toHaveLength(2);
    expect(result.failed.every((x) => isCloudceError(x.error, "CapacityExceeded"))).toBe(true);
    expect(f.server.cloud.created).toHaveLength(3);
  });

  it("kills pilots one by one; the set is deleted with its last VM and never replaces one", async () => {
    const f = await fixture({ options: { scale_set: "true" } });
    const { created } = await f.driver.createNodes(request(2));
    await f.driver.destroyNodes([created[0]!.id]);
    const set = scaleSetName("dirac-pilot-0A1B2C3D", "Standard_D2s_v5");
    await until(() => {
      f.server.cloud.sweep();
      return f.server.cloud.sets.get(set)?.capacity === 1;
    }, "the first VM deleted");
    // Another VM is left: the set stays.
    expect(f.server.calls["virtualMachineScaleSets.delete"]).toBeUndefined();
    await f.driver.destroyNodes([created[1]!.id]);
    await until(() => !f.server.cloud.sets.has(set), "the empty set deleted");
    expect(f.server.cloud.created).toHaveLength(2);
  });
});
