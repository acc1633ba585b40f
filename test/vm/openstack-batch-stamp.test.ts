/**
 * An OpenStack batch (Nova multi-create) on a real VM: the CE submits two
 * pilots with one POST /servers (test OpenStack cloud); one server's
 * user-data, exactly as Nova received it, boots with that server's id as the
 * seed's instance-id, and the guest derives the stamp the CE returned for it.
 */

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";
import { bootUserData, itRanTheStampedPilot, submitBatch, type BootedPilot } from "./batch-stamp.js";
import { labImageReady, scratchDir } from "./vm-env.js";
import { probePilot } from "./probe-pilot.js";

const CE_NAME = "os-vm.example.org";

describe.skipIf(!labImageReady())("OpenStack multi-create batch on a real VM: stamp derived from the server id", () => {
  const pilot = probePilot("openstack");
  let cloud: OpenStackTestServer;
  let ce: CloudComputingElement;
  let refs: string[];
  let stamps: Record<string, string>;
  let booted: BootedPilot;

  beforeAll(async () => {
    const work = await scratchDir("openstack");
    cloud = await startOpenStackServer({ bootMs: 50, deleteMs: 20 });
    cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 10, cores: 10, ramMb: 100_000 });
    const auth = join(work, "cloud.auth");
    await writeDemoAuth(auth, CE_NAME);
    ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ({ refs, stamps } = await submitBatch(ce, demoOpenStackOptions(cloud.authUrl, auth), work, pilot, 2));
    expect(cloud.count("compute POST /servers")).toBe(1);
    const server = cloud.state.servers.get(refs[1]!.slice("cloud://".length))!;
    booted = await bootUserData(work, Buffer.from(server.userData!, "base64"), server.id, "openstack");
  });

  afterAll(async () => {
    await ce?.shutdown();
    await cloud?.close();
  });

  it("created both VMs with one multi-create and gave them different stamps", () => {
    expect(refs).toHaveLength(2);
    expect(stamps[refs[0]!]).not.toBe(stamps[refs[1]!]);
  });

  itRanTheStampedPilot("server", () => ({ pilot, booted, ref: refs[1]!, stamp: stamps[refs[1]!] }));
});
