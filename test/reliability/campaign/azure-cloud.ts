/** The Azure test cloud for the fault campaign: single VMs where the scenario refuses multi-create, else scale-set batches. */

import azureFactory, { AZURE_NAME_RULE } from "../../../src/drivers/azure/index.js";
import { instantiateDriver, registerDriver } from "../../../src/drivers/registry.js";
import type { VmRecord } from "../../servers/azure/cloud.js";
import { serverOptions, TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_TENANT } from "../../servers/azure/driver-fixture.js";
import { startAzureServer, type AzureFaultSpec, type AzureServer } from "../../servers/azure/server.js";
import {
  beyondFirstCreate,
  CAMPAIGN_TIMEOUT_MS,
  connectionFault,
  pageChange,
  whenIdle,
  type CampaignCloud,
} from "./campaign-cloud.js";
import type { Fault, FaultTarget, Scenario } from "./scenario.js";

registerDriver(
  "AZURE_CAMPAIGN",
  (config) =>
    instantiateDriver(
      azureFactory,
      { ...config, options: { ...config.options, max_attempts: "3" }, requestTimeoutMs: CAMPAIGN_TIMEOUT_MS },
      "AZURE",
    ),
  AZURE_NAME_RULE,
);

/** The auth file section the campaign's Azure CEs read. */
export const AZURE_CAMPAIGN_AUTH = `[DEFAULT]\nkey = ${TEST_CLIENT_ID}\nsecret = ${TEST_CLIENT_SECRET}\ntenant_id = ${TEST_TENANT}\n`;

const SMALL = "Standard_D2s_v5";
const LARGE = "Standard_D4s_v5";

export async function startAzureCampaignCloud(sc: Scenario, authFile: string): Promise<CampaignCloud> {
  const server = await startAzureServer({ bootMs: 20, stopMs: 10, deleteMs: 10, pageSize: sc.smallPages ? 2 : 1000 });
  server.addPrincipal({ tenantId: TEST_TENANT, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
  const cloud = server.cloud;
  const scaleSets = !sc.multiCreateRefused;
  const calls: Record<FaultTarget, string> = {
    create: scaleSets ? "virtualMachineScaleSets.createOrUpdate" : "virtualMachines.createOrUpdate",
    list: "virtualMachines.listAll",
    delete: "virtualMachines.delete",
    lookup: "virtualMachines.get",
    auth: "token",
  };
  // Another CE's VM with this CE's prefix.
  cloud.addVm("dirac-pilot-0F0F0F0F", SMALL, { "cloudce-ce": "someone-else.example.org" }, {}, false);
  const tagsOf = (vm: VmRecord): Readonly<Record<string, string>> => ({ ...vm.setTags, ...vm.tags });
  const deleting = (vm: VmRecord | undefined): boolean => {
    cloud.sweep();
    return vm === undefined || cloud.vms.get(vm.name) !== vm || vm.deletingAt !== undefined;
  };
  // A VM that failed to allocate never held a pilot: once deleted it is no VM of the CE's (a
  // fallback then takes its name again); left behind, it still counts, and is lost.
  const ours = (ce: string): VmRecord[] =>
    [...cloud.history.values()].filter((v) => tagsOf(v)["cloudce-ce"] === ce && !(v.failed && deleting(v)));
  const first = sc.fallback ? LARGE : SMALL;
  const cores = (size: string): number => (size === LARGE ? 4 : 2);
  const options = Object.fromEntries(
    Object.entries(serverOptions(server))
      .filter(([k]) => k !== "tenant_id")
      .map(([k, v]) => [`Driver_${k}`, v]),
  );
  return {
    name: "azure",
    ceOptions: {
      CloudType: "AZURE_CAMPAIGN",
      CloudAuth: authFile,
      ...options,
      Driver_scale_set: String(scaleSets),
      Driver_operation_timeout: "10",
      Instance_Image: "name:el9-pilot-v2",
      Instance_Flavor: sc.fallback ? `${LARGE}, ${SMALL}` : SMALL,
      Instance_Networks: "name:grid-vnet/pilots",
    },
    secrets: () => [TEST_CLIENT_SECRET],
    inject: (f) => {
      // Room for fewer VMs than asked (or none); or a vCPU quota with room for times - 1 VMs of the first size, and one vCPU more.
      if (f.kind === "partial") {
        cloud.capacity[first] = f.times - 1;
        return;
      }
      if (f.kind === "clip") {
        cloud.sweep();
        cloud.coreQuota = cloud.usedCores() + (f.times - 1) * cores(first) + 1;
        return;
      }
      for (const spec of specs(server, f, calls)) server.inject(spec);
    },
    clearFaults: () => {
      server.reset();
      cloud.capacity = {};
      cloud.coreQuota = 1000;
    },
    createCalls: () =>
      (server.calls["virtualMachines.createOrUpdate"] ?? 0) +
      (server.calls["virtualMachineScaleSets.createOrUpdate"] ?? 0),
    // Creates in flight (the CE's concurrency) and their retries of the same PUT: up to Driver_max_attempts (3) each.
    createsAfterStop: 3 * 8,
    faultsFired: () => server.faultsFired(),
    vms: (ce) => ours(ce).map((v) => ({ id: v.vmId, name: v.name, live: !deleting(v) })),
    // A name is one VM on Azure (a PUT of it again is the same VM); a set is one per batch and size.
    doubled: (ce) =>
      beyondFirstCreate(
        ours(ce).map((v) => ({
          batch: `${tagsOf(v)["cloudce-batch"] ?? v.name} ${v.size} ${v.set ?? v.name}`,
          create: v.set ?? v.name,
        })),
      ),
    deleting: (id) => deleting(cloud.history.get(id)),
    quiesce: () => whenIdle(() => server.inFlight()),
    finish: (ids) => {
      for (const id of ids) {
        const vm = cloud.history.get(id);
        if (vm) cloud.guestPowerOff(vm.name);
      }
    },
    close: () => server.close(),
  };
}

function specs(server: AzureServer, f: Fault, calls: Record<FaultTarget, string>): AzureFaultSpec[] {
  const at = { call: calls[f.target] };
  const times = f.times;
  switch (f.kind) {
    case "latency":
    case "reset":
    case "lost":
      return [{ ...at, ...connectionFault(f.kind, times) }];
    case "5xx":
      return [{ ...at, kind: "error", status: 503, code: "ServiceUnavailable", times }];
    case "429":
      return [
        f.target === "auth"
          ? { ...at, kind: "error", status: 429, code: "temporarily_unavailable", times }
          : { ...at, kind: "throttle", times },
      ];
    case "pageChange":
      // Between two pages a VM being deleted vanishes: later pages shift.
      return pageChange(times, () => vanishOne(server)).map((spec) => ({ call: "virtualMachines.listAll", ...spec }));
    case "tokenRevoked":
      return [f.target === "auth" ? { kind: "unauthorized", times } : { ...at, kind: "unauthorized", times }];
    case "unfiltered":
    case "lag":
    case "partial":
    case "clip":
      // Azure's listing has no server-side filter to drop, and reads its own writes.
      return [];
  }
}

function vanishOne(server: AzureServer): void {
  const going = [...server.cloud.vms.values()].find((v) => v.deletingAt !== undefined);
  if (going) server.cloud.vms.delete(going.name);
}
