/**
 * Faults on EC2, seen from the CE: whatever the cloud does, every instance
 * that exists was returned by submitJob or is owned (tagged) so that cleanup
 * finds it; no retry creates a second batch; kill and cleanup are idempotent.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { HANG_TIMEOUT_MS } from "../support/wait.js";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { startEc2Server, type Ec2FaultSpec, type Ec2Server } from "../servers/ec2/server.js";
import {
  expectIdempotentEnd,
  expectReturnedOrOwned,
  pilotDir,
  submitExpecting,
  type FaultScenario,
} from "./faults-invariant.js";
import { definedProps } from "../../src/util/defined.js";

const CE = "ec2-faults.example.org";
let dir: string;
let server: Ec2Server | undefined;

beforeAll(async () => {
  dir = await pilotDir("ec2-faults");
  await writeFile(join(dir, "auth.ini"), `[DEFAULT]\nkey = ${TEST_ACCESS_KEY}\nsecret = ${TEST_SECRET_KEY}\n`, {
    mode: 0o600,
  });
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(capacity?: number, instanceLimit?: number): Promise<CloudComputingElement> {
  server = await startEc2Server({
    bootMs: 20,
    stopMs: 20,
    terminateMs: 20,
    ...definedProps({ capacity, instanceLimit }),
  });
  const ce = new CloudComputingElement(CE, { logger: silentLogger });
  await ce.setParameters({
    CloudType: "EC2",
    CloudAuth: join(dir, "auth.ini"),
    Driver_region: "eu-west-1",
    Driver_endpoint: server.url,
    Instance_Image: "name:el9-pilot-dup",
    Instance_Flavor: "t3.micro",
    Cloud_RequestTimeout: HANG_TIMEOUT_MS / 1000,
    Cloud_RateLimit: 0,
  });
  return ce;
}

/** Instances the cloud still has (not terminated), with their tags. */
function live(s: Ec2Server): { id: string; tags: Record<string, string> }[] {
  return [...s.cloud.instances.values()]
    .filter((i) => i.state !== "terminated" && i.state !== "shutting-down")
    .map((i) => ({ id: i.id, tags: tagsOf(i.spec) }));
}

function tagsOf(spec: unknown): Record<string, string> {
  const tags = (spec as { tags?: Record<string, string> }).tags;
  return tags ?? {};
}

interface Scenario extends FaultScenario<Ec2FaultSpec> {
  readonly capacity?: number;
  readonly instanceLimit?: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "throttling burst on RunInstances",
    faults: [{ action: "RunInstances", kind: "throttle", times: 2 }],
    created: 5,
  },
  {
    name: "5xx burst on RunInstances",
    faults: [{ action: "RunInstances", kind: "error", status: 503, code: "Unavailable", times: 2 }],
    created: 5,
  },
  {
    name: "connection reset on RunInstances",
    faults: [{ action: "RunInstances", kind: "drop", times: 1 }],
    created: 5,
  },
  {
    name: "answer lost after the batch started",
    faults: [{ action: "RunInstances", kind: "dropAfter", times: 1 }],
    created: 5,
  },
  {
    name: "request hangs past the timeout after the batch started",
    faults: [{ action: "RunInstances", kind: "hangAfter", times: 1 }],
    created: 5,
  },
  { name: "partial capacity", capacity: 3, created: 3 },
  { name: "throttled listings", faults: [{ action: "DescribeInstances", kind: "throttle", times: 2 }], created: 5 },
  { name: "no capacity at all", capacity: 0, created: 0 },
];

describe("EC2 faults: nothing lost, nothing doubled", () => {
  it.each(SCENARIOS)("$name", async (sc) => {
    const ce = await setup(sc.capacity, sc.instanceLimit);
    for (const f of sc.faults ?? []) server!.inject(f);
    const refs = await submitExpecting(ce, dir, 5, sc.created);

    // The invariant: every live instance was returned, or carries this CE's tag and name prefix.
    const instances = live(server!);
    expect(instances.length).toBe(sc.created);
    expect(server!.calls["RunInstances"] ?? 0).toBeGreaterThanOrEqual(1);
    const reservations = new Set([...server!.cloud.instances.values()].map((i) => i.reservationId));
    expect(reservations.size).toBeLessThanOrEqual(1);
    expectReturnedOrOwned(
      refs,
      instances.map((i) => ({
        id: i.id,
        owned: i.tags["cloudce-ce"] === CE && i.tags["Name"]?.startsWith("VMDIRAC3_") === true,
      })),
    );
    await expectIdempotentEnd(ce, refs);
  });
});
