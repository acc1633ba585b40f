/** The GCE test cloud for the fault campaign. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import gceFactory from "../../../src/drivers/gce/index.js";
import { encodeLabelValue, GCE_NAME_RULE } from "../../../src/drivers/gce/names.js";
import { instantiateDriver, registerDriver } from "../../../src/drivers/registry.js";
import type { InstanceRecord } from "../../servers/gce/records.js";
import { testKeyPair, writeKeyFile } from "../../servers/gce/driver-fixture.js";
import { startGceServer, type GceFaultSpec, type GceServer } from "../../servers/gce/server.js";
import {
  beyondFirstCreate,
  CAMPAIGN_TIMEOUT_MS,
  connectionFault,
  pageChange,
  whenIdle,
  type CampaignCloud,
} from "./campaign-cloud.js";
import type { Fault, FaultTarget, Scenario } from "./scenario.js";

const ZONE = "europe-west1-b";

const CALLS: Record<FaultTarget, string> = {
  create: "instances.bulkInsert",
  list: "instances.list",
  delete: "instances.delete",
  lookup: "instances.get",
  // GCE logs in: a service-account assertion exchanged at the token endpoint.
  auth: "token",
};

registerDriver(
  "GCE_CAMPAIGN",
  (config) =>
    instantiateDriver(
      gceFactory,
      { ...config, options: { ...config.options, max_attempts: "3" }, requestTimeoutMs: CAMPAIGN_TIMEOUT_MS },
      "GCE",
    ),
  GCE_NAME_RULE,
);

/** Deleted, or being deleted. */
const deleting = (server: GceServer, id: string): boolean => {
  const inst = server.cloud.instances.get(id);
  return inst === undefined || inst.transition?.to === "GONE";
};

export async function startGceCampaignCloud(sc: Scenario): Promise<CampaignCloud> {
  const server = await startGceServer({
    pendingMs: 5,
    runningMs: 5,
    bootMs: 20,
    stopMs: 10,
    pageSize: sc.smallPages ? 2 : 500,
  });
  const dir = mkdtempSync(join(tmpdir(), "cloudce-campaign-gce-"));
  const keyFile = writeKeyFile(server, dir);
  if (sc.strictFilters) server.cloud.regexOnOneField = true;
  // Another CE's VM with this CE's prefix: a listing that drops its filter shows it.
  server.cloud.createInstance(
    ZONE,
    "dirac-pilot-0f0f0f0f-0001",
    { labels: { "cloudce-ce": encodeLabelValue("someone-else.example.org") } },
    "e2-small",
  );
  const cpus = (type: string): number => server.cloud.machineTypes.find((m) => m.name === type)!.guestCpus;
  const first = sc.fallback ? "e2-standard-4" : "e2-small";
  const ours = (ce: string): InstanceRecord[] =>
    [...server.cloud.history.values()].filter((i) => i.labels["cloudce-ce"] === encodeLabelValue(ce));
  return {
    name: "gce",
    ceOptions: {
      CloudType: "GCE_CAMPAIGN",
      Driver_key_file: keyFile,
      Driver_endpoint: server.endpoint,
      Driver_zone: ZONE,
      Instance_Image: "name:el9-pilot-v2",
      Instance_Flavor: sc.fallback ? "e2-standard-4, e2-small" : "e2-small",
    },
    secrets: () => [testKeyPair().privateKey.split("\n")[1]!, "ya29.test-"],
    inject: (f) => {
      if (f.kind === "partial") {
        // The next bulk insert finds room for fewer VMs than asked (or none).
        server.cloud.capacity[ZONE] = f.times - 1;
        return;
      }
      if (f.kind === "clip") {
        // The CPUS quota leaves room for times - 1 more VMs of the first flavor, and one CPU more.
        server.cloud.quotas["CPUS"] = server.cloud.usage(false).cpus + (f.times - 1) * cpus(first) + 1;
        return;
      }
      if (f.kind === "lag") {
        // New VMs are missing from their zone's next listings: more than the read-back tries, at times.
        server.cloud.listLag = f.times + 1;
        return;
      }
      for (const spec of specs(server, f)) server.inject(spec);
    },
    clearFaults: () => {
      server.reset();
      delete server.cloud.capacity[ZONE];
      server.cloud.quotas["CPUS"] = 4000;
      server.cloud.listLag = 0;
      for (const i of server.cloud.instances.values()) i.unlisted = 0;
    },
    createCalls: () => (server.calls["instances.bulkInsert"] ?? 0) + (server.calls["regionInstances.bulkInsert"] ?? 0),
    // One insert in flight and its retries with the same requestId: up to Driver_max_attempts (3), asked for again once more.
    createsAfterStop: 6,
    faultsFired: () => server.faultsFired(),
    vms: (ce) => ours(ce).map((i) => ({ id: i.id, name: i.name, live: !deleting(server, i.id) })),
    // One bulkInsert (one operation) per batch and flavor: a fallback round is a batch's next flavor.
    doubled: (ce) =>
      beyondFirstCreate(
        ours(ce).map((i) => ({
          batch: `${i.labels["cloudce-batch"] ?? ""} ${i.labels["cloudce-flavor"] ?? ""}`,
          create: i.operation ?? "",
        })),
      ),
    deleting: (id) => deleting(server, id),
    quiesce: () => whenIdle(() => server.inFlight()),
    finish: (ids) => {
      for (const id of ids) server.cloud.powerOff(id);
    },
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function specs(server: GceServer, f: Fault): GceFaultSpec[] {
  const at = { call: CALLS[f.target] };
  const times = f.times;
  switch (f.kind) {
    case "latency":
    case "reset":
    case "lost":
      return [{ ...at, ...connectionFault(f.kind, times) }];
    case "5xx":
      return [{ ...at, kind: "error", status: 503, reason: "backendError", times }];
    case "429":
      // GCE throttles its API with 403 rateLimitExceeded; the token endpoint with 429.
      return [
        f.target === "auth"
          ? { ...at, kind: "error", status: 429, reason: "rateLimitExceeded", times }
          : { ...at, kind: "rateLimit", times },
      ];
    case "pageChange":
      // Between two pages a VM being deleted vanishes: later pages shift.
      return pageChange(times, () => vanishOne(server)).map((spec) => ({ call: "instances.list", ...spec }));
    case "tokenRevoked":
      // The token in hand is refused (401) by the next call(s): the driver fetches a new one.
      return [f.target === "auth" ? { kind: "unauthorized", times } : { ...at, kind: "unauthorized", times }];
    case "unfiltered":
      return [{ call: "instances.list", kind: "unfiltered", times }];
    case "partial":
    case "clip":
    case "lag":
      return [];
  }
}

function vanishOne(server: GceServer): void {
  const going = [...server.cloud.instances.values()].find((i) => i.transition?.to === "GONE");
  if (going) server.cloud.instances.delete(going.id);
}
