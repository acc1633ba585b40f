/**
 * The lifecycle policies on the test clouds: what Nova and EC2 report
 * (quota faults, "No valid host", InsufficientInstanceCapacity, launch and
 * stop times) drives the CE's decisions. The CE's clock is injected; the
 * clouds' state changes are waited for, as the conformance suite does.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { parseReference } from "../../src/ce/pilot-reference.js";
import { silentLogger } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { eventually } from "../drivers/conformance.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { startEc2Server, type Ec2Server } from "../servers/ec2/server.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";
import { ok } from "./policy-harness.js";

let dir: string;
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs, random: () => 0.5 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-policy-clouds-"));
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});
beforeEach(() => {
  offsetMs = 0;
});

async function makeCe(
  name: string,
  writeAuth: (path: string) => Promise<void>,
  options: Record<string, string>,
): Promise<{ ce: CloudComputingElement; journal: string }> {
  await writeAuth(join(dir, `${name}.auth`));
  const journal = join(dir, `${name}.jsonl`);
  const ce = new CloudComputingElement(name, { logger: silentLogger, ...clock });
  ok(
    await ce.setParameters({
      CloudAuth: join(dir, `${name}.auth`),
      Journal_File: journal,
      MaxTotalJobs: "10",
      MaxWaitingJobs: "10",
      ...options,
    }),
  );
  return { ce, journal };
}

const decisions = async (journal: string): Promise<string[]> =>
  (await readJournal(journal)).entries.filter((e) => e.action === "policy").map((e) => e.reason);

describe("on OpenStack", () => {
  let cloud: OpenStackTestServer;
  let n = 0;
  beforeAll(async () => {
    cloud = await startOpenStackServer({ bootMs: 100, stopMs: 50, deleteMs: 50 });
  });
  afterAll(() => cloud.close());
  beforeEach(() => {
    cloud.state.servers.clear();
    cloud.state.noValidHost.clear();
    cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 10, cores: 20, ramMb: 51_200 });
  });

  const osCe = (options: Record<string, string>) => {
    const name = `os-policy-${++n}.example.org`;
    return makeCe(name, (path) => writeDemoAuth(path, name), {
      ...demoOpenStackOptions(cloud.authUrl, join(dir, `${name}.auth`)),
      ...options,
    });
  };

  it("a quota on cores falls back to the next flavor in the same submit", async () => {
    cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 10, cores: 1, ramMb: 51_200 });
    const { ce, journal } = await osCe({ Instance_Flavor: "name:m1.medium, name:m1.tiny" });
    const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    expect(cloud.state.servers.get(parseReference(ref!))?.flavor.name).toBe("m1.tiny");
    expect(await decisions(journal)).toEqual([
      expect.stringMatching(/^offering-unavailable: m1.medium@name:private until .*Quota exceeded for cores/),
      expect.stringMatching(/^fallback: 1 pilot from flavor m1.medium to m1.tiny: .*Quota exceeded for cores/),
    ]);
    expect(ok(await ce.listPilots())[0]).toMatchObject({ ref, flavor: "m1.tiny" });
    await ce.shutdown();
  });

  it("a server Nova failed with No valid host marks its flavor unavailable until Offering_CacheSeconds pass", async () => {
    cloud.state.noValidHost.add("m1.tiny");
    const { ce } = await osCe({ Instance_Flavor: "name:m1.tiny" });
    ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    const r = await ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: {
        Reason: expect.stringContaining("every offering of Instance_Flavor lacks capacity"),
        UnavailableOfferings: [expect.stringMatching(/^m1.tiny@name:private until /)],
      },
    });
    offsetMs = 180_000;
    expect(await ce.available()).toMatchObject({ OK: true, CEInfoDict: { Offering: "m1.tiny" } });
    await ce.shutdown();
  });

  it("a VM that powers off soon after launched_at is a fizzle, from Nova's own times", async () => {
    const { ce, journal } = await osCe({
      Instance_Flavor: "name:m1.tiny",
      Fizzle_Seconds: "600",
      Fizzle_Count: "1",
      Backoff_Seconds: "60",
    });
    const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    const id = parseReference(ref!);
    await eventually(
      async () => ok(await ce.getJobStatus([ref!]))[ref!],
      (s) => s === "Running",
      10_000,
      "running",
    );
    cloud.state.servers.get(id)!.stopAt = Date.now();
    await eventually(
      async () => ok(await ce.getJobStatus([ref!]))[ref!],
      (s) => s === "Done",
      10_000,
      "stopped",
    );
    expect(await ce.available()).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { BackoffUntil: expect.any(String) },
    });
    expect((await decisions(journal)).map((d) => d.split(":")[0])).toEqual(["fizzle", "backoff"]);
    offsetMs = 60_000;
    expect(ok(await ce.available())).toBeGreaterThan(0);
    await ce.shutdown();
  });
});

describe("on EC2", () => {
  let server: Ec2Server;
  let n = 0;
  beforeAll(async () => {
    server = await startEc2Server({ bootMs: 50, stopMs: 50, terminateMs: 50, accessKeyIds: [TEST_ACCESS_KEY] });
  });
  afterAll(() => server.close());

  const ec2Ce = (options: Record<string, string>) => {
    const name = `ec2-policy-${++n}.example.org`;
    const auth = `[${name}]\nkey = ${TEST_ACCESS_KEY}\nsecret = ${TEST_SECRET_KEY}\n`;
    return makeCe(name, (path) => writeFile(path, auth, { mode: 0o600 }), {
      CloudType: "EC2",
      Driver_region: "eu-west-1",
      Driver_endpoint: server.url,
      Instance_Image: "ami-0a1b2c3d4e5f60001",
      Instance_Networks: "name:pilots-a",
      ...options,
    });
  };

  it("InsufficientInstanceCapacity falls back to the next instance type; the offering is the type in its subnet", async () => {
    const { ce, journal } = await ec2Ce({ Instance_Flavor: "c5.xlarge, t3.micro" });
    server.inject({ action: "RunInstances", kind: "capacity" });
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 2));
    expect(refs).toHaveLength(2);
    expect(refs.map((r) => server.cloud.get(parseReference(r))?.spec.instanceType)).toEqual(["t3.micro", "t3.micro"]);
    expect(await decisions(journal)).toEqual([
      expect.stringMatching(/^offering-unavailable: c5.xlarge@name:pilots-a until .*InsufficientInstanceCapacity/),
      expect.stringMatching(/^fallback: 2 pilots from flavor c5.xlarge to t3.micro: /),
    ]);
    expect(await ce.available()).toMatchObject({
      OK: true,
      CEInfoDict: {
        Offering: "t3.micro",
        UnavailableOfferings: [expect.stringMatching(/^c5.xlarge@name:pilots-a until/)],
      },
    });
    await ce.shutdown();
  });

  it("a VM stopped soon after LaunchTime is a fizzle, from the state transition time", async () => {
    const { ce, journal } = await ec2Ce({
      Instance_Flavor: "t3.micro",
      Fizzle_Seconds: "600",
      Fizzle_Count: "1",
      Driver_shutdown_behavior: "stop",
    });
    const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
    const id = parseReference(ref!);
    await eventually(
      async () => server.cloud.get(id)?.state,
      (s) => s === "running",
      5_000,
      "running",
    );
    server.cloud.guestShutdown(id);
    await eventually(
      async () => server.cloud.get(id)?.state,
      (s) => s === "stopped",
      5_000,
      "stopped",
    );
    expect(await ce.available()).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { BackoffUntil: expect.any(String) },
    });
    expect(await decisions(journal)).toEqual([
      expect.stringMatching(/^fizzle: stopped \d+ s after it started/),
      expect.stringMatching(/^backoff: /),
    ]);
    await ce.shutdown();
  });
});
