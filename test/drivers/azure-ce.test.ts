/** The CE on Azure, end to end against the test cloud: single VMs and scale-set batches, one listing per status, tags as ownership. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { decodeUserData, deriveStamp } from "../../src/context/index.js";
import { silentLogger } from "../../src/log.js";
import { serverOptions, TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_TENANT } from "../servers/azure/driver-fixture.js";
import { startAzureServer, type AzureServer } from "../servers/azure/server.js";
import { captureLogs, expectNoSecrets } from "../auth/helpers.js";
import { eventually } from "./conformance.js";
import { checkKeyedSubmission } from "./keyed-submission.js";
import { ok } from "../support/results.js";

const CE_NAME = "azure.mysite.example";
let server: AzureServer;
let dir: string;
let auth: string;
const open: CloudComputingElement[] = [];

const idOf = (ref: string): string => ref.slice("cloud://".length);
const vmOf = (ref: string) => [...server.cloud.vms.values()].find((v) => v.vmId === idOf(ref));

async function newCe(extra: Record<string, string> = {}): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
  open.push(ce);
  const driver = Object.fromEntries(Object.entries(serverOptions(server)).map(([k, v]) => [`Driver_${k}`, v]));
  ok(
    await ce.setParameters({
      CloudType: "AZURE",
      CloudAuth: auth,
      ...driver,
      Driver_operation_timeout: "10",
      Instance_Image: "name:el9-pilot-v2",
      Instance_Flavor: "Standard_D2s_v5",
      Instance_Networks: "name:grid-vnet/pilots",
      MaxTotalJobs: "30",
      MaxWaitingJobs: "30",
      Queue: "Long_Queue",
      ...extra,
    }),
  );
  return ce;
}

beforeAll(async () => {
  server = await startAzureServer({ bootMs: 60, stopMs: 30, deleteMs: 30, coreQuota: 40 });
  server.addPrincipal({ tenantId: TEST_TENANT, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
  dir = await mkdtemp(join(tmpdir(), "cloudce-azure-ce-"));
  auth = join(dir, "auth.ini");
  await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_CLIENT_ID}\nsecret = ${TEST_CLIENT_SECRET}\n`, { mode: 0o600 });
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});

afterAll(async () => {
  for (const ce of open) await ce.shutdown();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("CloudComputingElement with CloudType = AZURE", () => {
  it("validates, and names an unknown Driver_ option and a prefix Azure cannot use", async () => {
    const ce = await newCe();
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    const other = await newCe({ Driver_spot_price: "0.1" });
    expect(await other.isValid()).toMatchObject({ OK: false, Message: expect.stringContaining("Driver_spot_price") });
    expect(await other.setParameters({ Instance_NamePrefix: "VMDIRAC3_" })).toMatchObject({
      OK: false,
      Message: expect.stringMatching(/^Instance_NamePrefix: 'VMDIRAC3_' cannot start an Azure VM name.*dirac-pilot-/),
    });
  });

  it("submits single VMs (one PUT each), reads their status in one listing; a guest power-off is Done and cleanup deletes it", async () => {
    const ce = await newCe();
    server.reset();
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 3));
    expect(refs).toHaveLength(3);
    expect(server.calls["virtualMachines.createOrUpdate"]).toBe(3);
    for (const ref of refs) expect(vmOf(ref)?.tags["cloudce-ce"]).toBe(CE_NAME);
    server.reset();
    const statuses = ok(await ce.getJobStatus(refs));
    expect(server.calls["virtualMachines.listAll"]).toBe(1);
    for (const ref of refs) expect(["Waiting", "Running"]).toContain(statuses[ref]);
    server.cloud.guestPowerOff(vmOf(refs[0]!)!.name);
    expect(ok(await ce.getJobStatus([refs[0]!]))[refs[0]!]).toBe("Done");
    const report = ok(await ce.cleanupPilots());
    expect(report.deleted.map((d) => d.ref)).toContain(refs[0]);
    await eventually(
      async () => ok(await ce.listPilots()).some((p) => p.ref === refs[0]),
      (listed) => !listed,
      5_000,
      "the cleaned-up pilot to be gone",
    );
    expect(await ce.killJob(refs)).toMatchObject({ OK: true });
    expect(await ce.killJob(refs)).toMatchObject({ OK: true });
  });

  it("submits N pilots as ONE flexible scale set; each stamp derives from the VM's id", async () => {
    const ce = await newCe({ Driver_scale_set: "true" });
    server.reset();
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 4);
    const refs = ok(result);
    expect(refs).toHaveLength(4);
    expect(server.calls["virtualMachineScaleSets.createOrUpdate"]).toBe(1);
    const body = server.requests.find((r) => r.call === "virtualMachineScaleSets.createOrUpdate")!.body as {
      sku: { capacity: number };
      properties: { virtualMachineProfile: { osProfile: { customData: string } } };
    };
    expect(body.sku.capacity).toBe(4);
    const userData = decodeUserData(Buffer.from(body.properties.virtualMachineProfile.osProfile.customData, "base64"))
      .map((p) => p.content)
      .join("\n");
    const seed = /printf '%s' "([0-9a-f]{32}):/.exec(userData)?.[1];
    expect(seed).toBeDefined();
    const stamps = result.OK ? result.PilotStampDict : {};
    for (const ref of refs) expect(stamps[ref]).toBe(deriveStamp(seed!, idOf(ref)));
    const pilots = ok(await ce.listPilots());
    expect(pilots.filter((p) => refs.includes(p.ref)).map((p) => p.queue)).toEqual([
      "Long_Queue",
      "Long_Queue",
      "Long_Queue",
      "Long_Queue",
    ]);
    // The status of a set's pilots is one listing: the set's tags are known since the create.
    server.reset();
    for (const s of Object.values(ok(await ce.getJobStatus(refs)))) expect(["Waiting", "Running"]).toContain(s);
    expect(server.calls).toEqual({ "virtualMachines.listAll": 1 });
    // Killed one by one; the set never replaces a pilot.
    expect(await ce.killJob([refs[0]!])).toMatchObject({ OK: true });
    server.cloud.sweep();
    expect(server.cloud.created.filter((n) => n.startsWith(vmOf(refs[1]!)!.set!))).toHaveLength(4);
    expect(await ce.killJob(refs)).toMatchObject({ OK: true });
  });

  it("without Instance_Networks, refuses in one line naming the option and the form it takes", async () => {
    const ce = await newCe({ Instance_Networks: "" });
    server.reset();
    expect(await ce.submitJob(join(dir, "pilot.sh"), null, 2)).toMatchObject({
      OK: false,
      Code: "OptionMissing",
      Message: "AZURE: a VM needs a subnet; set Instance_Networks (a subnet, e.g. name:pilots-vnet/pilots)",
    });
    expect(server.calls["virtualMachines.createOrUpdate"]).toBeUndefined();
  });

  it("a keyed submission is found again by its key, with its stamps, and the key never creates twice", async () => {
    await checkKeyedSubmission(await newCe({ Driver_scale_set: "true" }), join(dir, "pilot.sh"), 3);
  });

  it("reports an evicted spot pilot as Aborted, gives the serial log as output, and caps available() by the vCPU quota", async () => {
    const ce = await newCe({ Driver_spot: "true" });
    const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    server.cloud.evict(vmOf(ref!)!.name);
    expect(ok(await ce.getJobStatus([ref!]))[ref!]).toBe("Aborted");
    expect(ok(await ce.getJobOutput(ref!))[0]).toContain("cloud-init");
    const counts = await ce.available();
    const info = counts.OK ? counts.CEInfoDict : undefined;
    server.cloud.sweep();
    expect(info?.CloudCapacity).toBe(Math.floor((40 - server.cloud.usedCores()) / 2));
  });

  it("never shows the client secret in errors or logs when Entra ID refuses it", async () => {
    const wrong = join(dir, "wrong.auth");
    const secret = "Wr0ng~Secret.Value-That-Is-Long";
    await writeFile(wrong, `[${CE_NAME}]\nkey = ${TEST_CLIENT_ID}\nsecret = ${secret}\n`, { mode: 0o600 });
    const logs = captureLogs();
    const ce = new CloudComputingElement(CE_NAME, { logger: logs.logger });
    open.push(ce);
    const base = await newCe();
    ok(await ce.setParameters({ ...base.getParameters(), CloudAuth: wrong }));
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 1);
    expect(r).toMatchObject({ OK: false, Message: expect.stringContaining("invalid_client") });
    logs.errors.push((r as { Message: string }).Message);
    expectNoSecrets(logs, [secret]);
  });
});
