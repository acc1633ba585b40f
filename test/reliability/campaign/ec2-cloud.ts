/** The EC2 test cloud for the fault campaign. */

import ec2Factory from "../../../src/drivers/ec2/index.js";
import { instantiateDriver, registerDriver } from "../../../src/drivers/registry.js";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "../../servers/ec2/driver-fixture.js";
import type { Ec2Instance } from "../../servers/ec2/cloud.js";
import { startEc2Server, type Ec2FaultSpec, type Ec2Server } from "../../servers/ec2/server.js";
import {
  beyondFirstCreate,
  CAMPAIGN_TIMEOUT_MS,
  connectionFault,
  pageChange,
  whenIdle,
  type CampaignCloud,
} from "./campaign-cloud.js";
import type { Fault, FaultTarget, Scenario } from "./scenario.js";

const ACTIONS: Record<FaultTarget, string | undefined> = {
  create: "RunInstances",
  list: "DescribeInstances",
  delete: "TerminateInstances",
  lookup: "DescribeInstances",
  // Static keys: no login call. A rejected signature (a rotated key) hits whatever call comes next.
  auth: undefined,
};

registerDriver("EC2_CAMPAIGN", (config) =>
  instantiateDriver(
    ec2Factory,
    { ...config, options: { ...config.options, max_attempts: "3" }, requestTimeoutMs: CAMPAIGN_TIMEOUT_MS },
    "EC2",
  ),
);

const ENDED = new Set(["shutting-down", "terminated"]);

export async function startEc2CampaignCloud(sc: Scenario, authFile: string): Promise<CampaignCloud> {
  const server = await startEc2Server({
    bootMs: 20,
    stopMs: 10,
    terminateMs: 10,
    pageSize: sc.smallPages ? 2 : 1000,
    accessKeyIds: [TEST_ACCESS_KEY],
  });
  // Instances the cloud has forgotten (pageChange) still count as made.
  const forgotten = new Map<string, Ec2Instance>();
  const ours = (ce: string): Ec2Instance[] =>
    [...server.cloud.instances.values(), ...forgotten.values()].filter((i) => i.spec.tags["cloudce-ce"] === ce);
  return {
    name: "ec2",
    ceOptions: {
      CloudType: "EC2_CAMPAIGN",
      CloudAuth: authFile,
      Driver_region: "eu-west-1",
      Driver_endpoint: server.url,
      Instance_Image: "name:el9-pilot-dup",
      Instance_Flavor: sc.fallback ? "t3.small, t3.micro" : "t3.micro",
    },
    secrets: () => [TEST_SECRET_KEY],
    inject: (f) => {
      if (f.kind === "partial" || f.kind === "clip") {
        // The next RunInstances finds room for fewer instances than asked (or none).
        server.cloud.capacity = f.times - 1;
        return;
      }
      for (const spec of specs(server, f, forgotten)) server.inject(spec);
    },
    clearFaults: () => {
      server.reset();
      server.cloud.capacity = Number.POSITIVE_INFINITY;
    },
    faultsFired: () => server.faultsFired(),
    // Counted until the final cleanup's reset, after the last submit.
    createCalls: () => server.calls["RunInstances"] ?? 0,
    // RunInstances in flight, and its retries with the same client token (Driver_max_attempts 3).
    createsAfterStop: 3,
    vms: (ce) =>
      ours(ce).map((i) => ({
        id: i.id,
        name: i.spec.tags["Name"] ?? "",
        live: !ENDED.has(server.cloud.get(i.id)?.state ?? "terminated"),
      })),
    // One RunInstances per batch and flavor (a fallback round is a batch's next flavor).
    doubled: (ce) =>
      beyondFirstCreate(
        ours(ce).map((i) => ({
          batch: `${i.spec.tags["cloudce-batch"] ?? ""} ${i.spec.tags["cloudce-flavor"] ?? ""}`,
          create: i.reservationId,
        })),
      ),
    deleting: (id) => ENDED.has(server.cloud.get(id)?.state ?? "terminated"),
    quiesce: () => whenIdle(() => server.inFlight()),
    finish: (ids) => {
      for (const id of ids) server.cloud.guestShutdown(id);
    },
    close: () => server.close(),
  };
}

function specs(server: Ec2Server, f: Fault, forgotten: Map<string, Ec2Instance>): Ec2FaultSpec[] {
  const action = ACTIONS[f.target];
  const at = action ? { action } : {};
  const times = f.times;
  switch (f.kind) {
    case "latency":
    case "reset":
    case "lost":
      return [{ ...at, ...connectionFault(f.kind, times) }];
    case "5xx":
      return [{ ...at, kind: "error", status: 503, code: "Unavailable", times }];
    case "429":
      return [{ ...at, kind: "throttle", times }];
    case "pageChange":
      // Between two pages, EC2 forgets an instance terminated long ago: later pages shift.
      return pageChange(times, () => forgetOne(server, forgotten)).map((spec) => ({
        action: "DescribeInstances",
        ...spec,
      }));
    case "tokenRevoked":
      return [
        {
          ...at,
          kind: "error",
          status: 401,
          code: "AuthFailure",
          message: "AWS was not able to validate the provided access credentials",
          times,
        },
      ];
    case "partial":
    case "clip":
      return [];
    case "lag":
    case "unfiltered":
      // EC2's test cloud lists what it made, and applies its filters.
      return [];
  }
}

function forgetOne(server: Ec2Server, forgotten: Map<string, Ec2Instance>): void {
  const gone = server.cloud.all().find((i) => i.state === "terminated");
  if (!gone) return;
  forgotten.set(gone.id, gone);
  server.cloud.instances.delete(gone.id);
}
