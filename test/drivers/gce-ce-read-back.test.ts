/**
 * The CE on GCE when what the cloud shows lags or hides something: a
 * read-back that lags behind bulkInsert, a CE whose name is hashed in its
 * label while untagged VMs are adopted, a preemption look-up refused.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { TEST_SERVICE_ACCOUNT, writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceServer, type GceServerOptions } from "../servers/gce/server.js";
import { ok } from "../support/results.js";

const LONG_CE = "a-computing-element-with-a-rather-long-name.grid-site.example.org";
const open: { server: GceServer; dir: string; ces: CloudComputingElement[] }[] = [];

afterEach(async () => {
  for (const o of open.splice(0)) {
    for (const ce of o.ces) await ce.shutdown();
    await o.server.close();
    await rm(o.dir, { recursive: true, force: true });
  }
});

async function setup(
  ceName: string,
  options: Record<string, string>,
  server: GceServerOptions = {},
  metrics: Registry | null = null,
) {
  const gce = await startGceServer({ pendingMs: 10, runningMs: 10, bootMs: 40, stopMs: 20, ...server });
  const dir = await mkdtemp(join(tmpdir(), "cloudce-gce-rb-"));
  const keyFile = writeKeyFile(gce, dir);
  const auth = join(dir, "auth.ini");
  await writeFile(auth, `[${ceName}]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = ${keyFile}\n`, { mode: 0o600 });
  const pilot = join(dir, "pilot.sh");
  await writeFile(pilot, "#!/bin/bash\necho pilot\n");
  const journal = join(dir, "journal.jsonl");
  const all = {
    CloudType: "GCE",
    CloudAuth: auth,
    Driver_endpoint: gce.endpoint,
    Driver_zone: "europe-west1-b",
    Instance_Image: "name:el9-pilot-v2",
    Instance_Flavor: "e2-small",
    MaxTotalJobs: "30",
    MaxWaitingJobs: "30",
    Journal_File: journal,
    ...options,
  };
  const entry = { server: gce, dir, ces: [] as CloudComputingElement[] };
  open.push(entry);
  const newCe = async (): Promise<CloudComputingElement> => {
    const ce = new CloudComputingElement(ceName, { logger: silentLogger, metrics });
    entry.ces.push(ce);
    ok(await ce.setParameters(all));
    return ce;
  };
  return { gce, pilot, journal, newCe };
}

describe("GCE read-back that lags behind bulkInsert", () => {
  it("VMs the operation made are never refused for capacity: no flavor fallback makes them twice, and the CE returns them", async () => {
    const { gce, pilot, journal, newCe } = await setup("cloud.mysite.example", {
      Instance_Flavor: "e2-small, e2-standard-4",
    });
    // The driver's read-back listings all miss the new VMs; the CE's look-up by batch label sees them.
    gce.cloud.listLag = 3;
    const ce = await newCe();
    const refs = ok(await ce.submitJob(pilot, null, 3));
    expect(gce.cloud.history.size).toBe(3);
    expect(refs).toHaveLength(3);
    const { entries } = await readJournal(journal);
    expect(entries.filter((e) => e.action === "create" && e.outcome === "ok")).toHaveLength(3);
  });
});

describe("GCE bulkInsert whose answer says DONE before any count (a loaded machine)", () => {
  const twoFlavors = { Instance_Flavor: "e2-small, e2-standard-4" };
  const expectThreeOnce = async (gce: GceServer, refs: string[], journal: string) => {
    expect(gce.cloud.history.size).toBe(3);
    expect(refs).toHaveLength(3);
    const { entries } = await readJournal(journal);
    expect(entries.filter((e) => e.action === "create" && e.outcome === "ok")).toHaveLength(3);
  };

  it("a cloud paused between starting the operation and answering it makes each pilot once", async () => {
    // Every read of the cloud's clock is 30 ms later: the POST's answer is past the operation's end,
    // as when the process is descheduled there.
    let skew = 0;
    const clock = {
      now: () => {
        skew += 30;
        return Date.now() + skew;
      },
    };
    const { gce, pilot, journal, newCe } = await setup("cloud.mysite.example", twoFlavors, { clock });
    gce.cloud.listLag = 3;
    const ce = await newCe();
    await expectThreeOnce(gce, ok(await ce.submitJob(pilot, null, 3)), journal);
  });

  it("an operation DONE without counts and a lagging read-back: no flavor fallback makes the pilots twice", async () => {
    const { gce, pilot, journal, newCe } = await setup("cloud.mysite.example", twoFlavors);
    gce.inject({ call: "instances.bulkInsert", kind: "uncountedOperation" });
    gce.cloud.listLag = 3;
    const ce = await newCe();
    await expectThreeOnce(gce, ok(await ce.submitJob(pilot, null, 3)), journal);
  });
});

describe("GCE with Ownership_AdoptUntagged and a CE name whose label is hashed", () => {
  it("keeps its VMs: status reads them, and cleanup removes them once finished", async () => {
    const { gce, pilot, newCe } = await setup(LONG_CE, { Ownership_AdoptUntagged: "yes" });
    const ce = await newCe();
    const refs = ok(await ce.submitJob(pilot, null, 2));
    expect(refs).toHaveLength(2);
    const statuses = ok(await ce.getJobStatus(refs));
    for (const ref of refs) expect(statuses[ref]).not.toBe("Deleted");
    for (const ref of refs) gce.cloud.powerOff(ref.slice("cloud://".length));
    expect(Object.values(ok(await ce.getJobStatus(refs)))).toEqual(["Done", "Done"]);
    const cleaned = ok(await ce.cleanupPilots());
    expect(cleaned.deleted ?? cleaned).toBeTruthy();
    for (const ref of refs)
      expect(gce.cloud.instances.get(ref.slice("cloud://".length))?.status ?? "GONE").toMatch(/STOPPING|GONE/);
  });
});

describe("GCE preemption look-up refused", () => {
  it("is counted in cloudce_cloud_lookups_failed_total", async () => {
    const registry = new Registry();
    const { gce, pilot, newCe } = await setup("cloud.mysite.example", { Driver_spot: "true" }, {}, registry);
    const ce = await newCe();
    const refs = ok(await ce.submitJob(pilot, null, 1));
    gce.cloud.preempt(refs[0]!.slice("cloud://".length));
    gce.inject({ call: "zoneOperations.list", kind: "error", status: 403, reason: "forbidden", times: 2 });
    ok(await ce.getJobStatus(refs));
    ok(await ce.getJobStatus(refs));
    const text = await registry.metrics();
    expect(text).toMatch(/cloudce_cloud_lookups_failed_total\{[^}]*driver="GCE"[^}]*lookup="preemptions"[^}]*\} 2/);
  });
});
