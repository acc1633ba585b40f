/** The CE on EC2, end to end against the test server: one RunInstances per submission, one listing per status. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { decodeUserData, deriveStamp } from "../../src/context/index.js";
import { silentLogger } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { eventually } from "./conformance.js";
import { checkKeyedSubmission } from "./keyed-submission.js";
import { startEc2Server, type Ec2Server } from "../servers/ec2/server.js";
import { ok } from "../support/results.js";

const CE_NAME = "ec2-ce.example.org";
let server: Ec2Server;
let dir: string;
let ce: CloudComputingElement;

beforeAll(async () => {
  server = await startEc2Server({ bootMs: 50, terminateMs: 50, accessKeyIds: [TEST_ACCESS_KEY] });
  dir = await mkdtemp(join(tmpdir(), "cloudce-ec2-ce-"));
  const auth = join(dir, "auth.ini");
  await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_ACCESS_KEY}\nsecret = ${TEST_SECRET_KEY}\n`, { mode: 0o600 });
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
  ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
  ok(
    await ce.setParameters({
      CloudType: "EC2",
      CloudAuth: auth,
      Driver_region: "eu-west-1",
      Driver_endpoint: server.url,
      Instance_Image: "name:el9-pilot-dup",
      Instance_Flavor: "t3.micro",
      Instance_Networks: "name:pilots-a",
      MaxTotalJobs: "10",
      MaxWaitingJobs: "10",
      Driver_spot: "true",
    }),
  );
});

afterAll(async () => {
  await ce?.shutdown();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("CloudComputingElement with CloudType = EC2", () => {
  it("validates, and names an unknown Driver_ option", async () => {
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    const other = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ok(await other.setParameters({ ...ce.getParameters(), Driver_spot_price: "0.1" }));
    expect(await other.isValid()).toMatchObject({ OK: false, Message: expect.stringContaining("Driver_spot_price") });
    await other.shutdown();
  });

  it("scrubs the auth file's secret key from output", async () => {
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    expect(scrubSecrets(`signed with ${TEST_SECRET_KEY}`)).toBe("signed with [secret]");
  });

  it("a keyed submission is found again by its key, with its stamps, and the key never creates twice", async () => {
    await checkKeyedSubmission(ce, join(dir, "pilot.sh"), 3);
  });

  it("submits N pilots with one RunInstances, with stamps derived from the instance ids", async () => {
    server.reset();
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 4);
    const refs = ok(result);
    expect(refs).toHaveLength(4);
    expect(server.calls["RunInstances"]).toBe(1);
    const run = server.requests.find((r) => r.action === "RunInstances")!.params;
    // The newest image of that name, and the subnet named pilots-a.
    expect(run.get("ImageId")).toBe("ami-0a1b2c3d4e5f60003");
    expect(run.get("SubnetId")).toBe("subnet-0aaaaaaaaaaaaaaa1");
    const userData = decodeUserData(Buffer.from(run.get("UserData")!, "base64"))
      .map((p) => p.content)
      .join("\n");
    // The VM computes its stamp at boot from the batch seed in its user-data and its instance id.
    const seed = /printf '%s' "([0-9a-f]{32}):/.exec(userData)?.[1];
    expect(seed).toBeDefined();
    const stamps = result.OK ? result.PilotStampDict : {};
    for (const ref of refs) {
      const id = ref.slice("cloud://".length);
      expect(server.cloud.instances.get(id)?.spec.tags["cloudce-ce"]).toBe(CE_NAME);
      expect(stamps[ref]).toBe(deriveStamp(seed!, id));
    }
  });

  it("gets the status of all pilots with one listing, then kills them", async () => {
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 2));
    server.reset();
    const statuses = ok(await ce.getJobStatus(refs));
    expect(server.calls["DescribeInstances"]).toBe(1);
    for (const ref of refs) expect(["Waiting", "Running"]).toContain(statuses[ref]);
    ok(await ce.killJob(refs));
    expect(server.calls["TerminateInstances"]).toBe(1);
  });

  it("reports a spot VM the cloud reclaimed as Aborted", async () => {
    const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    server.cloud.interruptSpot(ref!.slice("cloud://".length));
    const status = async () => ok(await ce.getJobStatus([ref!]))[ref!];
    await eventually(status, (s) => s === "Aborted", 5_000, "the reclaimed pilot to read Aborted");
  });
});
