/**
 * An EC2 batch on a real VM: the CE submits two pilots with one RunInstances
 * (test EC2 server), a pilot large enough that the user-data is gzipped; one
 * instance's user-data, exactly as RunInstances carried it, boots with that
 * instance's id in the seed's meta-data, and the guest derives the stamp the
 * CE returned for it.
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { startEc2Server, type Ec2Server } from "../servers/ec2/server.js";
import { cloudInitReport, harnessVendorData, labBoot, labImageReady, scratchDir, type CloudInitReport, type LabBoot } from "./vm-env.js";
import { probePilot, readProbe, type ProbeReport } from "./probe-pilot.js";
import { writeExecutable } from "./qemu-ce.js";

const CE_NAME = "ec2-vm.example.org";

describe.skipIf(!labImageReady())("EC2 batch on a real VM: gzip user-data, stamp derived from the instance id", () => {
  // Over EC2's 16384 bytes: the CE must gzip it.
  const pilot = probePilot("ec2", 40);
  let server: Ec2Server;
  let ce: CloudComputingElement;
  let refs: string[];
  let stamps: Record<string, string>;
  let userData: Buffer;
  let boot: LabBoot;
  let probe: ProbeReport;
  let cloudInit: CloudInitReport;

  beforeAll(async () => {
    const work = await scratchDir("ec2");
    server = await startEc2Server({ bootMs: 50, terminateMs: 50, accessKeyIds: [TEST_ACCESS_KEY] });
    const auth = join(work, "auth.ini");
    await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_ACCESS_KEY}\nsecret = ${TEST_SECRET_KEY}\n`, { mode: 0o600 });
    ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    const set = await ce.setParameters({
      CloudType: "EC2", CloudAuth: auth, Driver_region: "eu-west-1", Driver_endpoint: server.url,
      Instance_Image: "name:el9-pilot-dup", Instance_Flavor: "t3.micro", Instance_Networks: "name:pilots-a",
    });
    if (!set.OK) throw new Error(set.Message);
    const submitted = await ce.submitJob(await writeExecutable(work, "pilot.sh", pilot.text), null, 2);
    if (!submitted.OK) throw new Error(submitted.Message);
    refs = submitted.Value;
    stamps = submitted.PilotStampDict;
    const run = server.requests.filter((r) => r.action === "RunInstances");
    expect(run).toHaveLength(1);
    userData = Buffer.from(run[0]!.params.get("UserData")!, "base64");
    const userDataFile = join(work, "user-data");
    await writeFile(userDataFile, userData);
    const results = join(work, "results");
    boot = await labBoot(userDataFile, refs[1]!.slice("cloud://".length), results, await harnessVendorData(work));
    [probe, cloudInit] = await Promise.all([readProbe(results, "ec2"), cloudInitReport(results)]);
  });

  afterAll(async () => {
    await ce?.shutdown();
    await server?.close();
  });

  it("sent one gzip-compressed MIME user-data for the batch, and two different stamps", () => {
    expect(refs).toHaveLength(2);
    expect([...userData.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(userData).toString()).toMatch(/^Content-Type: multipart\/mixed; boundary=/);
    expect(stamps[refs[0]!]).not.toBe(stamps[refs[1]!]);
  });

  it("runs the pilot byte-exact as dirac, with the derived stamp the CE returned for that instance", () => {
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
