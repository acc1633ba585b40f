import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { HANG_TIMEOUT_MS } from "../support/wait.js";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../drivers/conformance.js";
import { serverOrder, type ServerRecord } from "../servers/openstack/cloud-state.js";
import type { FaultRule } from "../servers/openstack/faults.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { expectIdempotentEnd, expectReturnedOrOwned, pilotDir, type FaultScenario } from "./faults-invariant.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CE = "os-faults.example.org";
const CREATE = "compute POST /servers";
const LIST = "compute GET /servers/detail";
let dir: string;
let cloud: OpenStackTestServer | undefined;

beforeAll(async () => {
  dir = await pilotDir("os-faults");
  await writeDemoAuth(join(dir, "auth.ini"));
});

afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

async function setup(): Promise<CloudComputingElement> {
  cloud = await startOpenStackServer({ bootMs: 40, stopMs: 20, deleteMs: 20 });
  const ce = new CloudComputingElement(CE, { logger: silentLogger });
  await ce.setParameters({
    ...demoOpenStackOptions(cloud.authUrl, join(dir, "auth.ini")),
    Cloud_RequestTimeout: HANG_TIMEOUT_MS / 1000,
    Cloud_RateLimit: 0,
    MaxTotalJobs: 10,
    MaxWaitingJobs: 10,
  });
  return ce;
}

function liveServers(c: OpenStackTestServer) {
  return [...c.state.servers.values()].filter((s) => c.state.view(s) !== undefined);
}

function expectInvariant(c: OpenStackTestServer, refs: readonly string[], created: number): void {
  const live = liveServers(c);
  expect(live).toHaveLength(created);
  expect(new Set(live.map((s) => s.name)).size).toBe(live.length);
  expectReturnedOrOwned(
    refs,
    live.map((s) => ({ id: s.id, owned: s.name.startsWith("VMDIRAC3_") && s.metadata["cloudce-ce"] === CE })),
  );
}

interface Scenario extends FaultScenario<FaultRule> {
  readonly faults: readonly FaultRule[];
  /** The project's instance quota (default: the test cloud's 10). */
  readonly quota?: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: "5xx burst on create", faults: [{ route: CREATE, kind: "status", status: 503, times: 3 }], created: 5 },
  {
    name: "429 with Retry-After",
    faults: [{ route: CREATE, kind: "status", status: 429, retryAfter: "1", times: 2 }],
    created: 5,
  },
  { name: "429 without Retry-After", faults: [{ route: CREATE, kind: "status", status: 429, times: 2 }], created: 5 },
  { name: "connection resets on create", faults: [{ route: CREATE, kind: "reset", times: 2 }], created: 5 },
  {
    name: "create whose answer is lost (server made, no reply)",
    faults: [{ route: CREATE, kind: "lost", times: 2 }],
    created: 5,
  },
  { name: "create that hangs past the timeout", faults: [{ route: CREATE, kind: "hang", times: 1 }], created: 5 },
  // A batch is one multi-create: Nova makes what the quota allows, and refuses only when nothing fits.
  { name: "quota exceeded for some creates", faults: [], quota: 3, created: 3 },
  { name: "quota refuses the whole batch", faults: [{ route: CREATE, kind: "quota", times: 1 }], created: 0 },
  { name: "5xx burst on listings", faults: [{ route: LIST, kind: "status", status: 502, times: 2 }], created: 5 },
];

describe("OpenStack faults: nothing lost, nothing doubled", () => {
  it.each(SCENARIOS)("$name", async (sc) => {
    const ce = await setup();
    if (sc.quota !== undefined)
      for (const p of cloud!.state.quotas.keys())
        cloud!.state.quotas.set(p, { instances: sc.quota, cores: 100, ramMb: 100_000 });
    for (const f of sc.faults) cloud!.faults.add(f);
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 5);
    const refs = result.OK ? result.Value : [];
    expect(refs).toHaveLength(sc.created);
    expectInvariant(cloud!, refs, sc.created);
    await expectIdempotentEnd(ce, refs);
  });

  it("re-authenticates when the token is revoked mid-run", async () => {
    const ce = await setup();
    const refs = await ce.submitJob(join(dir, "pilot.sh"), null, 2);
    expect(refs.OK).toBe(true);
    cloud!.state.revokeAllTokens();
    const status = await ce.getJobStatus(refs.OK ? refs.Value : []);
    expect(status.OK && Object.values(status.Value).every((s) => s !== "Unknown")).toBe(true);
    await ce.shutdown();
  });

  it("lists correctly when servers are deleted and created between pages", async () => {
    const ce = await setup();
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 6);
    const refs = r.OK ? r.Value : [];
    cloud!.state.maxLimit = 2;
    // Between the first page and the second, another process deletes the first page's marker.
    let firstPage: ServerRecord[] = [];
    const deleteMarker = (): void => {
      firstPage = [...cloud!.state.servers.values()].sort(serverOrder).slice(0, 2);
      cloud!.state.servers.delete(firstPage[1]!.id);
      cloud!.state.deleted.set(firstPage[1]!.id, firstPage[1]!);
    };
    cloud!.faults.add({ route: LIST, kind: "delay", delayMs: 0, times: 1 });
    cloud!.faults.add({ route: LIST, kind: "delay", delayMs: 0, times: 1, before: deleteMarker });
    const status = await ce.getJobStatus(refs);
    expect(status.OK).toBe(true);
    const values = status.OK ? status.Value : {};
    expect(Object.values(values).filter((s) => s === "Unknown")).toEqual([]);
    expect(values[`cloud://${firstPage[0]!.id}`]).not.toBe("Deleted");
    await ce.shutdown();
  });

  it("reports a server that went to ERROR as Aborted and cleans it up", async () => {
    const ce = await setup();
    cloud!.state.failName = /^VMDIRAC3_/;
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 2);
    const refs = r.OK ? r.Value : [];
    await eventually(
      async () => ((await ce.getJobStatus(refs)) as { Value: Record<string, string> }).Value,
      (v) => Object.values(v).every((s) => s === "Aborted"),
      5_000,
      "ERROR servers",
    );
    const cleaned = await ce.cleanupPilots();
    expect(cleaned.OK && cleaned.Value.deleted.map((d) => d.reason)).toEqual(["error", "error"]);
    await ce.shutdown();
  });
});
