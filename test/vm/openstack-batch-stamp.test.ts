/**
 * An OpenStack batch (Nova multi-create) on a real VM: the CE submits two
 * pilots with one POST /servers (test OpenStack cloud); one server's
 * user-data, exactly as Nova received it, boots with that server's id as the
 * seed's instance-id, and the guest derives the stamp the CE returned for it.
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { DEMO_CREDENTIALS } from "../servers/openstack/driver-fixture.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { cloudInitReport, harnessVendorData, labBoot, labImageReady, scratchDir, type CloudInitReport, type LabBoot } from "./vm-env.js";
import { probePilot, readProbe, type ProbeReport } from "./probe-pilot.js";
import { writeExecutable } from "./qemu-ce.js";

const CE_NAME = "os-vm.example.org";

describe.skipIf(!labImageReady())("OpenStack multi-create batch on a real VM: stamp derived from the server id", () => {
  const pilot = probePilot("openstack");
  let cloud: OpenStackTestServer;
  let ce: CloudComputingElement;
  let refs: string[];
  let stamps: Record<string, string>;
  let boot: LabBoot;
  let probe: ProbeReport;
  let cloudInit: CloudInitReport;

  beforeAll(async () => {
    const work = await scratchDir("openstack");
    cloud = await startOpenStackServer({ bootMs: 50, deleteMs: 20 });
    cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 10, cores: 10, ramMb: 100_000 });
    const auth = join(work, "cloud.auth");
    await writeFile(auth, `[${CE_NAME}]\nkey = ${DEMO_CREDENTIALS.key}\nsecret = ${DEMO_CREDENTIALS.secret}\n`, { mode: 0o600 });
    ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    const set = await ce.setParameters({
      CloudType: "OPENSTACK", CloudAuth: auth, Driver_ex_force_auth_url: cloud.authUrl, Driver_ex_tenant_name: "demo",
      Instance_Image: "name:cirros-fake", Instance_Flavor: "name:m1.tiny", Instance_Networks: "name:private",
    });
    if (!set.OK) throw new Error(set.Message);
    const submitted = await ce.submitJob(await writeExecutable(work, "pilot.sh", pilot.text), null, 2);
    if (!submitted.OK) throw new Error(submitted.Message);
    refs = submitted.Value;
    stamps = submitted.PilotStampDict;
    expect(cloud.count("compute POST /servers")).toBe(1);
    const server = cloud.state.servers.get(refs[1]!.slice("cloud://".length))!;
    const userDataFile = join(work, "user-data");
    await writeFile(userDataFile, Buffer.from(server.userData!, "base64"));
    const results = join(work, "results");
    boot = await labBoot(userDataFile, server.id, results, await harnessVendorData(work));
    [probe, cloudInit] = await Promise.all([readProbe(results, "openstack"), cloudInitReport(results)]);
  });

  afterAll(async () => {
    await ce?.shutdown();
    await cloud?.close();
  });

  it("created both VMs with one multi-create and gave them different stamps", () => {
    expect(refs).toHaveLength(2);
    expect(stamps[refs[0]!]).not.toBe(stamps[refs[1]!]);
  });

  it("runs the pilot byte-exact as dirac, with the derived stamp the CE returned for that server", () => {
    expect(probe.whoami).toMatchObject({ user: "dirac", path: "/mnt/dirac/run_pilot.sh" });
    expect(probe.sha256).toBe(pilot.sha256);
    expect(probe.env["PILOT_UUID"]).toBe(refs[1]);
    expect(probe.env["DIRAC_PILOT_STAMP"]).toBe(stamps[refs[1]!]);
  });

  it("powers off after the pilot, with no cloud-init errors", () => {
    expect(boot).toMatchObject({ code: 0, status: "poweroff" });
    expect(probe.started && probe.ended).toBe(true);
    expect(cloudInit.log).toMatch(/will execute: shutdown -P now/);
    expect(cloudInit.result?.v1.errors).toEqual([]);
  });
});
