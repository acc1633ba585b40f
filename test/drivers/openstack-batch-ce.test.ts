/**
 * The CE on OPENSTACK with Nova multi-create: one POST per submission,
 * stamps each VM derives from its instance id (default and DIRAC-format
 * templates), Nova's names still owned, quota shortfalls as failures, and
 * the fallback to one create per VM (remembered) where a cloud refuses.
 */

import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { decodeUserData, deriveStamp } from "../../src/context/index.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";
import { eventually } from "./conformance.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { ok } from "../support/results.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CE_NAME = "os-batch.example.org";
/** DIRAC's own cloud-init template, as sites use it. */
const DIRAC_TEMPLATE = fileURLToPath(new URL("../context/fixtures/dirac-cloudinit.template", import.meta.url));

let cloud: OpenStackTestServer;
let dir: string;
let records: LogRecord[];
const ces: CloudComputingElement[] = [];

async function makeCe(extra: Record<string, string> = {}): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement(CE_NAME, {
    logger: createLogger({ level: "debug", sink: (r) => records.push(r) }),
  });
  ces.push(ce);
  ok(
    await ce.setParameters({
      ...demoOpenStackOptions(cloud.authUrl, join(dir, "cloud.auth")),
      Instance_NamePrefix: "BATCH_",
      ...extra,
    }),
  );
  return ce;
}

const posts = () => cloud.count("compute POST /servers");
const serverOf = (ref: string) => cloud.state.servers.get(ref.slice("cloud://".length))!;
const userDataOf = (ref: string) =>
  decodeUserData(Buffer.from(serverOf(ref).userData!, "base64"))
    .map((p) => p.content)
    .join("\n");

/** Runs the stamp line of the user-data as the VM would, with its instance id. */
function bootStamp(line: string, instanceId: string): string {
  return execFileSync("bash", ["-c", `${line}; printf '%s' "$DIRAC_PILOT_STAMP"`], {
    env: { PATH: process.env["PATH"], INSTANCE_ID: instanceId },
  }).toString();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-os-batch-"));
  await writeDemoAuth(join(dir, "cloud.auth"), CE_NAME);
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  records = [];
  cloud = await startOpenStackServer({ bootMs: 50, deleteMs: 20 });
  cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 50, cores: 50, ramMb: 100_000 });
});
afterEach(async () => {
  await Promise.all(ces.splice(0).map((ce) => ce.shutdown()));
  await cloud.close();
});

describe("OPENSTACK batches through the CE", () => {
  it("submits 5 pilots with one multi-create POST; each stamp is derived from the VM's instance id (default template)", async () => {
    const ce = await makeCe();
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 5);
    const refs = ok(result);
    expect(refs).toHaveLength(5);
    expect(posts()).toBe(1);
    const names = refs.map((r) => serverOf(r).name).sort();
    const base = names[0]!.replace(/-1$/, "");
    expect(base).toMatch(/^BATCH_[0-9A-F]{8}$/);
    expect(names).toEqual([1, 2, 3, 4, 5].map((i) => `${base}-${i}`));
    const stamps = result.OK ? result.PilotStampDict : {};
    for (const ref of refs) {
      const line = userDataOf(ref)
        .split("\n")
        .find((l) => l.includes("DIRAC_PILOT_STAMP="))!
        .trim();
      expect(bootStamp(line, serverOf(ref).id)).toBe(stamps[ref]);
    }
    expect(new Set(Object.values(stamps)).size).toBe(5);
    // Nova's names are still this CE's: status, listing and cleanup see them.
    const status = ok(await ce.getJobStatus(refs));
    for (const ref of refs) expect(["Waiting", "Running"]).toContain(status[ref]);
    expect(
      ok(await ce.listPilots())
        .map((p) => p.ref)
        .sort(),
    ).toEqual([...refs].sort());
  });

  it("gives the same stamps with a DIRAC-format template used unchanged", async () => {
    const ce = await makeCe({ Context_Template: DIRAC_TEMPLATE });
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 3);
    const refs = ok(result);
    expect(posts()).toBe(1);
    for (const ref of refs) {
      const line = userDataOf(ref)
        .split("\n")
        .find((l) => l.includes("DIRAC_PILOT_STAMP="))!
        .trim();
      expect(bootStamp(line, serverOf(ref).id)).toBe(result.OK ? result.PilotStampDict[ref] : "");
      // The seed in the user-data and the instance id give that stamp, as PilotStampDict says.
      const seed = /printf '%s' "([0-9a-f]{32}):/.exec(line)![1]!;
      expect(deriveStamp(seed, serverOf(ref).id)).toBe(result.OK ? result.PilotStampDict[ref] : "");
    }
  });

  it("reports what the quota clipped as failures, returning the VMs Nova made", async () => {
    cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 3, cores: 50, ramMb: 100_000 });
    const ce = await makeCe();
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 5));
    expect(refs).toHaveLength(3);
    expect(posts()).toBe(1);
    const failures = records.filter((r) => r.msg === "failed to create pilot VM");
    expect(failures).toHaveLength(2);
    expect(failures[0]!.fields["code"]).toBe("QuotaExceeded");
    expect(String(failures[0]!.fields["reason"])).toMatch(/Nova made 3 of 5/);
  });

  it("a batch clipped by the RAM quota falls back to the next flavor for the servers Nova did not make", async () => {
    cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 50, cores: 50, ramMb: 10_000 });
    const ce = await makeCe({ Instance_Flavor: "name:m1.medium, name:m1.tiny" });
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 5));
    expect(refs.map((r) => serverOf(r).flavor.name).sort()).toEqual([
      "m1.medium",
      "m1.medium",
      "m1.tiny",
      "m1.tiny",
      "m1.tiny",
    ]);
  });

  it("falls back to one create per VM where the cloud refuses multi-create, and remembers it", async () => {
    cloud.state.multiCreateRefusal = {
      status: 400,
      message:
        "Additional properties are not allowed ('min_count', 'max_count', 'return_reservation_id' were unexpected)",
    };
    const ce = await makeCe();
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 3));
    expect(refs).toHaveLength(3);
    expect(posts()).toBe(4);
    const names = refs.map((r) => serverOf(r).name).sort();
    expect(names.map((n) => n.slice(-2))).toEqual(["-1", "-2", "-3"]);
    expect(records.some((r) => r.msg.includes("refuses multi-create"))).toBe(true);
    cloud.resetCounts();
    const next = await ce.submitJob(join(dir, "pilot.sh"), null, 2);
    expect(ok(next)).toHaveLength(2);
    // No multi-create is tried again: one create per VM, each with its own name and stamp.
    expect(posts()).toBe(2);
    for (const ref of ok(next))
      expect(serverOf(ref).metadata["cloudce-stamp"]).toBe(next.OK ? next.PilotStampDict[ref] : "");
  });

  it("with Driver_ex_multi_create = on, a refusal fails the batch and says what to set", async () => {
    cloud.state.multiCreateRefusal = {
      status: 403,
      message: "Policy doesn't allow os_compute_api:servers:create:multiple to be performed.",
    };
    const ce = await makeCe({ Driver_ex_multi_create: "on" });
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 2);
    expect(r.OK).toBe(false);
    expect(r.OK ? "" : r.Message).toMatch(/Driver_ex_multi_create = on.*auto or off/);
    // Nova's fault became a code at the compute API: a refusal of multi-create itself, not of the servers.
    expect(r).toMatchObject({ OK: false, Code: "NotSupported" });
    expect(posts()).toBe(1);
  });

  it("does not take a refusal about something else for a multi-create refusal", async () => {
    const ce = await makeCe();
    cloud.faults.add({
      route: "compute POST /servers",
      kind: "status",
      status: 400,
      message: "Multiple possible networks found, use a Network ID to be more specific.",
    });
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 2);
    expect(r.OK ? "" : r.Message).toMatch(/Multiple possible networks/);
    expect(posts()).toBe(1);
    cloud.resetCounts();
    expect(ok(await ce.submitJob(join(dir, "pilot.sh"), null, 2))).toHaveLength(2);
    expect(posts()).toBe(1);
  });

  it("with Driver_ex_multi_create = off, makes one create per VM with its own name and stamp", async () => {
    const ce = await makeCe({ Driver_ex_multi_create: "off" });
    const result = await ce.submitJob(join(dir, "pilot.sh"), null, 3);
    const refs = ok(result);
    expect(posts()).toBe(3);
    expect(new Set(refs.map((r) => serverOf(r).name)).size).toBe(3);
    for (const ref of refs)
      expect(serverOf(ref).metadata["cloudce-stamp"]).toBe(result.OK ? result.PilotStampDict[ref] : "");
  });

  it("names a bad Driver_ex_multi_create value and the fix", async () => {
    const ce = await makeCe({ Driver_ex_multi_create: "sometimes" });
    const r = await ce.submitJob(join(dir, "pilot.sh"), null, 1);
    expect(r.OK ? "" : r.Message).toMatch(/Driver_ex_multi_create: 'sometimes' must be auto, on or off/);
  });

  it("returns the VMs of a batch whose answer was lost even when every look-up of the driver failed", async () => {
    // The lost answer ends at the timeout; every other call must answer within it, however busy the machine.
    const ce = await makeCe({ Cloud_RequestTimeout: String(HANG_TIMEOUT_MS / 1000) });
    cloud.faults.add({ route: "compute POST /servers", kind: "lost" });
    // The driver's three look-ups, each with its retries, fail; the CE's listing by batch tag works.
    cloud.faults.add({ route: "compute GET /servers/detail", kind: "status", status: 503, times: 12 });
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 3));
    expect(refs).toHaveLength(3);
    expect(posts()).toBe(1);
    expect(cloud.state.servers.size).toBe(3);
    expect(cloud.count("compute GET /servers/detail")).toBeGreaterThan(12);
  });

  it("lists a batch larger than Nova's page size by reservation id, page by page", async () => {
    cloud.state.maxLimit = 2;
    const ce = await makeCe();
    expect(ok(await ce.submitJob(join(dir, "pilot.sh"), null, 5))).toHaveLength(5);
    expect(posts()).toBe(1);
  });

  it("counts each pilot once while Nova's pages repeat servers still scheduling", async () => {
    cloud.state.timings.bootMs = 600_000;
    cloud.state.maxLimit = 2;
    cloud.state.repeatBuildRequests = true;
    const ce = await makeCe();
    const refs = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 5));
    expect(new Set(refs).size).toBe(5);
    expect(
      ok(await ce.listPilots())
        .map((p) => p.ref)
        .sort(),
    ).toEqual([...refs].sort());
    expect(ok(await ce.getCEStatus())).toMatchObject({ SubmittedJobs: 5, RunningJobs: 0 });
  });
});

describe("OPENSTACK VMs an operator froze", () => {
  it.each(["pause", "suspend", "shelve"])(
    "after a %s action, the pilot reads Running and cleanup leaves it alone",
    async (action) => {
      const ce = await makeCe();
      const [ref] = ok(await ce.submitJob(join(dir, "pilot.sh"), null, 1));
      const id = ref!.slice("cloud://".length);
      await eventually(
        async () => ok(await ce.getJobStatus([ref!]))[ref!],
        (s) => s === "Running",
        5_000,
        "the pilot to run",
      );
      const token = [...cloud.state.tokens.keys()][0]!;
      const res = await fetch(`${cloud.url}/compute/v2.1/servers/${id}/action`, {
        method: "POST",
        headers: { "x-auth-token": token, "content-type": "application/json" },
        body: JSON.stringify({ [action]: null }),
      });
      expect(res.status).toBe(202);
      expect(ok(await ce.getJobStatus([ref!]))[ref!]).toBe("Running");
      expect(ok(await ce.cleanupPilots()).deleted).toEqual([]);
      expect(cloud.state.servers.get(id)?.deleteAt).toBeUndefined();
    },
  );
});
