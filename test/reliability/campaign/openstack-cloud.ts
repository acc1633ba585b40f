/** The OpenStack test cloud for the fault campaign. */

import { createOpenStackDriver } from "../../../src/drivers/openstack/index.js";
import { registerDriver } from "../../../src/drivers/registry.js";
import { DEMO_CREDENTIALS, FAST_RETRY } from "../../servers/openstack/driver-fixture.js";
import { demoOpenStackOptions } from "../../support/openstack-ce.js";
import type { FaultRule } from "../../servers/openstack/faults.js";
import { PROJECTS, type ServerRecord } from "../../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../../servers/openstack/server.js";
import { CAMPAIGN_TIMEOUT_MS, whenIdle, type CampaignCloud, type CloudVm } from "./campaign-cloud.js";
import type { Fault, FaultTarget, Scenario } from "./scenario.js";

const ROUTES: Record<FaultTarget, string> = {
  create: "compute POST /servers",
  list: "compute GET /servers/detail",
  delete: "compute DELETE /servers/{id}",
  lookup: "compute GET /servers/{id}",
  auth: "identity POST /v3/auth/tokens",
};

registerDriver("OPENSTACK_CAMPAIGN", (config) =>
  createOpenStackDriver({ ...config, requestTimeoutMs: CAMPAIGN_TIMEOUT_MS }, { retry: FAST_RETRY }),
);

export async function startOpenStackCampaignCloud(sc: Scenario, authFile: string): Promise<CampaignCloud> {
  const cloud = await startOpenStackServer({ bootMs: 20, stopMs: 10, deleteMs: 10 });
  const quota = cloud.state.quotas.get(PROJECTS["demo"]!)!;
  Object.assign(quota, { instances: 1000, cores: 1000, ramMb: 1_000_000 });
  if (sc.smallPages) cloud.state.maxLimit = 2;
  // As the lab's Nova: a page after a marker still scheduling lists that server again.
  cloud.state.repeatBuildRequests = true;
  if (sc.multiCreateRefused)
    cloud.state.multiCreateRefusal = {
      status: 400,
      message:
        "Additional properties are not allowed ('min_count', 'max_count', 'return_reservation_id' were unexpected)",
    };
  const all = (): ServerRecord[] => [...cloud.state.servers.values(), ...cloud.state.deleted.values()];
  const ours = (ce: string): ServerRecord[] => all().filter((s) => s.metadata["cloudce-ce"] === ce);
  return {
    name: "openstack",
    ceOptions: {
      ...demoOpenStackOptions(cloud.authUrl, authFile),
      CloudType: "OPENSTACK_CAMPAIGN",
      Instance_Flavor: sc.fallback ? "name:m1.medium, name:m1.tiny" : "name:m1.tiny",
    },
    secrets: () => [DEMO_CREDENTIALS.secret!, ...cloud.state.tokens.keys()],
    inject: (f) => {
      for (const rule of rules(cloud, f, sc)) cloud.faults.add(rule);
    },
    clearFaults: () => {
      cloud.faults.clear();
      Object.assign(quota, { instances: 1000, cores: 1000, ramMb: 1_000_000 });
    },
    createCalls: () => cloud.count(ROUTES.create),
    // With room to spare: the CE lets at most Submit_Concurrency (3) creates out at once.
    createsAfterStop: 8,
    faultsFired: () => cloud.faults.fired,
    vms: (ce) =>
      ours(ce).map(
        (s): CloudVm => ({
          id: s.id,
          name: s.name,
          live: cloud.state.servers.has(s.id) && s.deleteAt === undefined && cloud.state.view(s) !== undefined,
        }),
      ),
    doubled: (ce) => {
      const byName = new Map<string, number>();
      // A fallback round sends the same name again with another flavor: only a name twice on one flavor is a double.
      for (const s of ours(ce))
        byName.set(`${s.name} ${s.flavor.name}`, (byName.get(`${s.name} ${s.flavor.name}`) ?? 0) + 1);
      return [...byName.values()].reduce((n, c) => n + c - 1, 0);
    },
    deleting: (id) => !cloud.state.servers.has(id) || cloud.state.servers.get(id)!.deleteAt !== undefined,
    quiesce: () => whenIdle(() => cloud.inFlight()),
    finish: (ids) => {
      for (const id of ids) {
        const s = cloud.state.servers.get(id);
        if (s && s.stopAt === undefined) s.stopAt = Date.now();
      }
    },
    close: () => cloud.close(),
  };
}

function rules(cloud: OpenStackTestServer, f: Fault, sc: Scenario): FaultRule[] {
  const route = ROUTES[f.target];
  const times = f.times;
  switch (f.kind) {
    case "latency":
      return [{ route, kind: "delay", delayMs: CAMPAIGN_TIMEOUT_MS + 150, times }];
    case "reset":
      return [{ route, kind: "reset", times }];
    case "5xx":
      return [{ route, kind: "status", status: [500, 502, 503][times - 1]!, times }];
    case "429":
      return [{ route, kind: "status", status: 429, retryAfter: "0", times }];
    case "lost":
      return [{ route, kind: "lost", times }];
    case "partial":
      // Some creates of a submission refused by the quota, the others made.
      return [{ route: ROUTES.create, kind: "quota", times }];
    case "pageChange":
      // Between two pages of a listing, another CE's server with the same prefix appears: every later page shifts.
      cloud.state.maxLimit = 2;
      return [
        { route: ROUTES.list, kind: "delay", delayMs: 0, times: 1 },
        { route: ROUTES.list, kind: "delay", delayMs: 0, times, before: () => addForeign(cloud) },
      ];
    case "tokenRevoked":
      return [{ route, kind: "delay", delayMs: 0, times: 1, before: () => cloud.state.revokeAllTokens() }];
    case "clip":
      clip(cloud, sc, times);
      return [];
    case "lag":
    case "unfiltered":
      // Nova lists a server as soon as it accepted its create, and always applies its filters.
      return [];
  }
}

/** The cores quota leaves room for `times - 1` more VMs of the first flavor, and one core more (a smaller flavor may fit). */
function clip(cloud: OpenStackTestServer, sc: Scenario, times: number): void {
  const quota = cloud.state.quotas.get(PROJECTS["demo"]!)!;
  const first = cloud.state.flavors.find((f) => f.name === (sc.fallback ? "m1.medium" : "m1.tiny"))!;
  quota.cores = cloud.state.usage(PROJECTS["demo"]!).cores + (times - 1) * first.vcpus + 1;
}

function addForeign(cloud: OpenStackTestServer): void {
  const flavor = cloud.state.flavors[0]!;
  // A reservation id too, for test clouds that record one per create.
  const record = {
    name: `VMDIRAC3_F${Math.floor(Math.random() * 1e7)
      .toString(16)
      .toUpperCase()
      .padStart(7, "0")}`,
    projectId: PROJECTS["demo"]!,
    userId: cloud.state.users[0]!.id,
    imageRef: cloud.state.images[0]!.id,
    flavor,
    networks: [],
    metadata: { "cloudce-ce": "someone-else.example.org" },
    tags: [],
    userData: undefined,
    keyName: undefined,
    reservationId: "r-foreign",
  };
  cloud.state.addServer(record as Parameters<typeof cloud.state.addServer>[0]);
}
