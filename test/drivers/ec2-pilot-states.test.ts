/**
 * EC2 pilot states under the default shutdown_behavior = terminate: a pilot
 * that powered its VM off is Done, one cloudce terminated is Deleted, a spot
 * VM the cloud reclaimed is Aborted. Also: AccessDenied is Forbidden, and
 * listPilots shows the (derived) stamps of batch-created pilots.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement, type PilotStatus } from "../../src/ce/index.js";
import { toEc2Error } from "../../src/drivers/ec2/errors.js";
import { silentLogger } from "../../src/log.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { startEc2Server, type Ec2Server } from "../servers/ec2/server.js";
import { eventually } from "./conformance.js";

const CE = "ec2-states.example.org";
let dir: string;
let server: Ec2Server | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-ec2-states-"));
  await writeFile(join(dir, "auth.ini"), `[DEFAULT]\nkey = ${TEST_ACCESS_KEY}\nsecret = ${TEST_SECRET_KEY}\n`, {
    mode: 0o600,
  });
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(extra: Record<string, string> = {}): Promise<CloudComputingElement> {
  server = await startEc2Server({ bootMs: 10, stopMs: 10, terminateMs: 10 });
  const ce = new CloudComputingElement(CE, { logger: silentLogger });
  const set = await ce.setParameters({
    CloudType: "EC2",
    CloudAuth: join(dir, "auth.ini"),
    Driver_region: "eu-west-1",
    Driver_endpoint: server.url,
    Instance_Image: "name:el9-pilot-dup",
    Instance_Flavor: "t3.micro",
    Cloud_RateLimit: 0,
    ...extra,
  });
  expect(set.OK).toBe(true);
  return ce;
}

async function statusOf(ce: CloudComputingElement, ref: string): Promise<PilotStatus | undefined> {
  const r = await ce.getJobStatus([ref]);
  return r.OK ? r.Value[ref] : undefined;
}

describe("EC2 pilot states", () => {
  it("a pilot that shut its VM down is Done; one cloudce terminated is Deleted", async () => {
    const ce = await setup();
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 2);
    const [finished, killed] = r.OK ? r.Value : [];
    server!.cloud.guestShutdown(finished!.slice("cloud://".length));
    expect((await ce.killJob([killed!])).OK).toBe(true);
    await eventually(
      () => statusOf(ce, finished!),
      (s) => s === "Done",
      5_000,
      "the finished pilot Done",
    );
    await eventually(
      () => statusOf(ce, killed!),
      (s) => s === "Deleted",
      5_000,
      "the killed pilot Deleted",
    );
    // A finished pilot leaves nothing for cleanup to do (its VM is gone already).
    expect(await ce.cleanupPilots()).toMatchObject({ OK: true, Value: { deleted: [], failed: [] } });
    await ce.shutdown();
  });

  it("a spot VM the cloud reclaimed is Aborted", async () => {
    const ce = await setup({ Driver_spot: "true" });
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 1);
    const ref = r.OK ? r.Value[0]! : "";
    server!.cloud.interruptSpot(ref.slice("cloud://".length));
    await eventually(
      () => statusOf(ce, ref),
      (s) => s === "Aborted",
      5_000,
      "the reclaimed pilot Aborted",
    );
    await ce.shutdown();
  });

  it("listPilots shows the stamps the submission returned", async () => {
    const ce = await setup();
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 3);
    const stamps = r.OK ? r.PilotStampDict : {};
    const listed = await ce.listPilots();
    expect(listed.OK && Object.fromEntries(listed.Value.map((p) => [p.ref, p.stamp]))).toEqual(stamps);
    await ce.shutdown();
  });

  it("maps AccessDenied to Forbidden", () => {
    const err = Object.assign(new Error("User is not authorized"), {
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
    });
    expect(toEc2Error(err, "RunInstances")).toMatchObject({ code: "Forbidden" });
  });
});
