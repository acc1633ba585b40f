/**
 * An Azure batch on a real VM: the CE submits two pilots as one flexible
 * scale set (test Azure server); the scale set's customData, exactly as the
 * PUT carried it, boots with one VM's vmId as the instance id (what
 * cloud-init's Azure data source records), and the guest derives the stamp
 * the CE returned for it.
 */

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { serverOptions, TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_TENANT } from "../servers/azure/driver-fixture.js";
import { startAzureServer, type AzureServer } from "../servers/azure/server.js";
import { bootUserData, itRanTheStampedPilot, submitBatch, writeAuthFile, type BootedPilot } from "./batch-stamp.js";
import { labImageReady, scratchDir } from "./vm-env.js";
import { probePilot } from "./probe-pilot.js";

const CE_NAME = "azure-vm.example.org";

describe.skipIf(!labImageReady())("Azure scale-set batch on a real VM: stamp derived from the VM's id", () => {
  const pilot = probePilot("azure", 8);
  let server: AzureServer;
  let ce: CloudComputingElement;
  let refs: string[];
  let stamps: Record<string, string>;
  let customData: Buffer;
  let booted: BootedPilot;

  beforeAll(async () => {
    const work = await scratchDir("azure");
    server = await startAzureServer({ bootMs: 50, deleteMs: 50 });
    server.addPrincipal({ tenantId: TEST_TENANT, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
    const auth = await writeAuthFile(join(work, "auth.ini"), CE_NAME, TEST_CLIENT_ID, TEST_CLIENT_SECRET);
    ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    const driver = Object.fromEntries(Object.entries(serverOptions(server)).map(([k, v]) => [`Driver_${k}`, v]));
    ({ refs, stamps } = await submitBatch(
      ce,
      {
        CloudType: "AZURE",
        CloudAuth: auth,
        ...driver,
        Driver_scale_set: "true",
        Instance_Image: "name:el9-pilot-v2",
        Instance_Flavor: "Standard_D2s_v5",
        Instance_Networks: "name:grid-vnet/pilots",
      },
      work,
      pilot,
      2,
    ));
    const puts = server.requests.filter((r) => r.call === "virtualMachineScaleSets.createOrUpdate");
    expect(puts).toHaveLength(1);
    const body = puts[0]!.body as { properties: { virtualMachineProfile: { osProfile: { customData: string } } } };
    customData = Buffer.from(body.properties.virtualMachineProfile.osProfile.customData, "base64");
    booted = await bootUserData(work, customData, refs[1]!.slice("cloud://".length), "azure");
  });

  afterAll(async () => {
    await ce?.shutdown();
    await server?.close();
  });

  it("sent one customData for the batch within Azure's 64 KiB, and two different stamps", () => {
    expect(refs).toHaveLength(2);
    expect(customData.length).toBeLessThanOrEqual(65_535);
    expect(stamps[refs[0]!]).not.toBe(stamps[refs[1]!]);
  });

  itRanTheStampedPilot("VM", () => ({ pilot, booted, ref: refs[1]!, stamp: stamps[refs[1]!] }));
});
