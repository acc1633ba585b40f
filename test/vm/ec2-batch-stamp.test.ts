/**
 * An EC2 batch on a real VM: the CE submits two pilots with one RunInstances
 * (test EC2 server), a pilot large enough that the user-data is gzipped; one
 * instance's user-data, exactly as RunInstances carried it, boots with that
 * instance's id in the seed's meta-data, and the guest derives the stamp the
 * CE returned for it.
 */

import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { startEc2Server, type Ec2Server } from "../servers/ec2/server.js";
import { bootUserData, itRanTheStampedPilot, submitBatch, writeAuthFile, type BootedPilot } from "./batch-stamp.js";
import { labImageReady, scratchDir } from "./vm-env.js";
import { probePilot } from "./probe-pilot.js";

const CE_NAME = "ec2-vm.example.org";

describe.skipIf(!labImageReady())("EC2 batch on a real VM: gzip user-data, stamp derived from the instance id", () => {
  // Over EC2's 16384 bytes: the CE must gzip it.
  const pilot = probePilot("ec2", 40);
  let server: Ec2Server;
  let ce: CloudComputingElement;
  let refs: string[];
  let stamps: Record<string, string>;
  let userData: Buffer;
  let booted: BootedPilot;

  beforeAll(async () => {
    const work = await scratchDir("ec2");
    server = await startEc2Server({ bootMs: 50, terminateMs: 50, accessKeyIds: [TEST_ACCESS_KEY] });
    const auth = await writeAuthFile(join(work, "auth.ini"), CE_NAME, TEST_ACCESS_KEY, TEST_SECRET_KEY);
    ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ({ refs, stamps } = await submitBatch(
      ce,
      {
        CloudType: "EC2",
        CloudAuth: auth,
        Driver_region: "eu-west-1",
        Driver_endpoint: server.url,
        Instance_Image: "name:el9-pilot-dup",
        Instance_Flavor: "t3.micro",
        Instance_Networks: "name:pilots-a",
      },
      work,
      pilot,
      2,
    ));
    const run = server.requests.filter((r) => r.action === "RunInstances");
    expect(run).toHaveLength(1);
    userData = Buffer.from(run[0]!.params.get("UserData")!, "base64");
    booted = await bootUserData(work, userData, refs[1]!.slice("cloud://".length), "ec2");
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

  itRanTheStampedPilot("instance", () => ({ pilot, booted, ref: refs[1]!, stamp: stamps[refs[1]!] }));
});
