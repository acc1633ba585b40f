/**
 * Hedged requests through the CE, on the OpenStack test cloud: a kill whose
 * listing and one of whose DELETEs the cloud holds (never answers) returns
 * all the same, as soon as their duplicates answered; every VM is deleted,
 * the journal holds one delete line per VM, and the held requests are
 * stopped, so the CE shuts down while the cloud still holds them.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resetEndpointHedges } from "../../src/ce/hedge.js";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CE_NAME = "os-hedge.example.org";
let dir: string;
let cloud: OpenStackTestServer;
let ce: CloudComputingElement;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-os-hedge-"));
  await writeDemoAuth(join(dir, "cloud.auth"), CE_NAME);
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
  cloud = await startOpenStackServer({ bootMs: 10, deleteMs: 10 });
  cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 100, cores: 100, ramMb: 1_000_000 });
  resetEndpointHedges();
});
afterAll(async () => {
  await ce?.shutdown();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

async function hedges(registry: Registry, operation: string): Promise<number> {
  const metric = await registry.getSingleMetric("cloudce_cloud_hedges_total")?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels["operation"] === operation && v.labels["outcome"] === "won")
    .reduce((a, v) => a + v.value, 0);
}

it("kills pilots whose listing and one DELETE the cloud holds, each VM deleted once", async () => {
  const registry = new Registry();
  const journal = join(dir, "journal.jsonl");
  ce = new CloudComputingElement(CE_NAME, { logger: silentLogger, metrics: registry });
  const set = await ce.setParameters({
    ...demoOpenStackOptions(cloud.authUrl, join(dir, "cloud.auth")),
    Instance_NamePrefix: "HEDGE_",
    MaxTotalJobs: "100",
    MaxWaitingJobs: "100",
    Cloud_RateLimit: "0",
    // A held request is never abandoned: the kill can only return through the duplicates.
    Cloud_RequestTimeout: "3600",
    Journal_File: journal,
  });
  expect(set.OK).toBe(true);
  const submitted = await ce.submitJob(join(dir, "pilot.sh"), null, 14);
  if (!submitted.OK) throw new Error(submitted.Message);
  const refs = submitted.Value;

  // The endpoint's pace: a few listings, look-ups and deletes answered.
  for (let i = 0; i < 5; i++) expect((await ce.getJobStatus(refs)).OK).toBe(true);
  for (const ref of refs.slice(0, 6)) expect(await ce.killJob([ref])).toMatchObject({ OK: true });

  const listings = cloud.count("compute GET /servers/detail");
  const deletes = cloud.count("compute DELETE /servers/{id}");
  cloud.faults.add({ route: "compute GET /servers/detail", kind: "hang" });
  cloud.faults.add({ route: "compute DELETE /servers/{id}", kind: "hang" });
  const rest = refs.slice(6);
  const killed = await ce.killJob(rest);
  expect(killed).toMatchObject({ OK: true });
  if (!killed.OK) return;
  expect([...killed.Value.killed].sort()).toEqual([...rest].sort());

  // One duplicate each for the held listing and the held DELETE, none for the calls that answered.
  expect(cloud.count("compute GET /servers/detail") - listings).toBe(2);
  expect(cloud.count("compute DELETE /servers/{id}") - deletes).toBe(rest.length + 1);
  expect(await hedges(registry, "list")).toBe(1);
  expect(await hedges(registry, "delete")).toBe(1);

  const lines = (await readJournal(journal)).entries.filter((e) => e.action === "delete");
  expect(lines.map((e) => e.ref).sort()).toEqual([...refs].sort());
  expect(lines.every((e) => e.outcome === "ok")).toBe(true);
  const left = [...cloud.state.servers.values()].filter((s) => s.name.startsWith("HEDGE_"));
  expect(left.every((s) => s.deleteAt !== undefined)).toBe(true);
  // The held requests lost and were stopped: shutting down waits for none of them (the cloud still holds them).
  await ce.shutdown();
});
