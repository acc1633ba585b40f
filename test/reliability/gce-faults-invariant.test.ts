/**
 * Faults on GCE, seen from the CE: whatever the cloud does, every instance
 * that exists was returned by submitJob or carries this CE's label and name
 * prefix, so status and cleanup find it; no retry starts a second bulk
 * insert; kill and cleanup are idempotent.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { HANG_TIMEOUT_MS } from "../support/wait.js";
import { CloudComputingElement } from "../../src/ce/index.js";
import { encodeLabelValue } from "../../src/drivers/gce/names.js";
import { silentLogger } from "../../src/log.js";
import { writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceFaultSpec, type GceServer } from "../servers/gce/server.js";
import {
  expectIdempotentEnd,
  expectReturnedOrOwned,
  pilotDir,
  submitExpecting,
  type FaultScenario,
} from "./faults-invariant.js";

const CE = "gce-faults.example.org";
let dir: string;
let server: GceServer | undefined;

beforeAll(async () => {
  dir = await pilotDir("gce-faults");
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Scenario extends FaultScenario<GceFaultSpec> {
  readonly capacity?: number;
  readonly cpuQuota?: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "rateLimitExceeded burst on bulkInsert",
    faults: [{ call: "instances.bulkInsert", kind: "rateLimit", times: 2 }],
    created: 5,
  },
  {
    name: "5xx burst on bulkInsert",
    faults: [{ call: "instances.bulkInsert", kind: "error", status: 503, times: 2 }],
    created: 5,
  },
  { name: "connection reset on bulkInsert", faults: [{ call: "instances.bulkInsert", kind: "drop" }], created: 5 },
  {
    name: "answer lost after the batch started",
    faults: [{ call: "instances.bulkInsert", kind: "dropAfter" }],
    created: 5,
  },
  {
    name: "request hangs past the timeout after the batch started",
    faults: [{ call: "instances.bulkInsert", kind: "hangAfter" }],
    created: 5,
  },
  {
    name: "operation polls throttled and failing",
    faults: [
      { call: "zoneOperations.get", kind: "rateLimit", times: 2 },
      { call: "zoneOperations.get", kind: "drop" },
    ],
    created: 5,
  },
  { name: "token revoked mid-run", faults: [{ call: "zoneOperations.get", kind: "unauthorized" }], created: 5 },
  { name: "partial capacity (ZONE_RESOURCE_POOL_EXHAUSTED after 3)", capacity: 3, created: 3 },
  { name: "CPU quota reached after 2", cpuQuota: 4, created: 2 },
  {
    name: "operation ends in QUOTA_EXCEEDED",
    faults: [{ call: "instances.bulkInsert", kind: "operationError", code: "QUOTA_EXCEEDED" }],
    created: 0,
  },
  { name: "throttled listings", faults: [{ call: "instances.list", kind: "rateLimit", times: 2 }], created: 5 },
  { name: "no capacity at all", capacity: 0, created: 0 },
];

async function setup(sc: Scenario): Promise<CloudComputingElement> {
  server = await startGceServer({
    pendingMs: 5,
    runningMs: 5,
    bootMs: 20,
    stopMs: 20,
    ...(sc.capacity !== undefined ? { capacity: { "europe-west1-b": sc.capacity } } : {}),
    ...(sc.cpuQuota !== undefined ? { quotas: { CPUS: sc.cpuQuota } } : {}),
  });
  const keyFile = writeKeyFile(server, dir);
  const ce = new CloudComputingElement(CE, { logger: silentLogger });
  await ce.setParameters({
    CloudType: "GCE",
    Driver_key_file: keyFile,
    Driver_endpoint: server.endpoint,
    Driver_zone: "europe-west1-b",
    Instance_Image: "name:el9-pilot-v2",
    Instance_Flavor: "e2-small",
    Cloud_RequestTimeout: HANG_TIMEOUT_MS / 1000,
    Cloud_RateLimit: 0,
  });
  return ce;
}

describe("GCE faults: nothing lost, nothing doubled", () => {
  it.each(SCENARIOS)("$name", async (sc) => {
    const ce = await setup(sc);
    for (const f of sc.faults ?? []) server!.inject(f);
    const refs = await submitExpecting(ce, dir, 5, sc.created);

    // The invariant: every instance that exists was returned, or is labelled as this CE's with its name prefix.
    const instances = [...server!.cloud.instances.values()];
    expect(instances.length).toBe(sc.created);
    expectReturnedOrOwned(
      refs,
      instances.map((i) => ({
        id: i.id,
        owned: i.labels["cloudce-ce"] === encodeLabelValue(CE) && i.name.startsWith("dirac-pilot-"),
      })),
    );
    // One bulk insert, however often the call was retried.
    expect(
      [...server!.cloud.operations.values()].filter((o) => o.operationType === "bulkInsert").length,
    ).toBeLessThanOrEqual(1);
    await expectIdempotentEnd(ce, refs);
  });
});
