/**
 * A submission stopped while the OpenStack driver creates a batch one VM per
 * call (the cloud refused multi-create): no create starts after the stop, and
 * every server the cloud made is returned or journaled.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { readJournal } from "../../src/ops/journal.js";
import { PROJECTS } from "../servers/openstack/cloud-state.js";
import { startOpenStackServer, type OpenStackTestServer } from "../servers/openstack/server.js";
import { eventually } from "./conformance.js";
import { demoOpenStackOptions, writeDemoAuth } from "../support/openstack-ce.js";

const CE_NAME = "os-stop.example.org";
const POSTS = "compute POST /servers";
let cloud: OpenStackTestServer;
let dir: string;
const ces: CloudComputingElement[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-os-stop-"));
  await writeDemoAuth(join(dir, "cloud.auth"), CE_NAME);
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  cloud = await startOpenStackServer({ bootMs: 50, deleteMs: 20 });
  cloud.state.quotas.set(PROJECTS["demo"]!, { instances: 200, cores: 200, ramMb: 1_000_000 });
  cloud.state.multiCreateRefusal = {
    status: 400,
    message:
      "Additional properties are not allowed ('min_count', 'max_count', 'return_reservation_id' were unexpected)",
  };
});
afterEach(async () => {
  await Promise.all(ces.splice(0).map((ce) => ce.shutdown()));
  await cloud.close();
});

async function makeCe(journal: string): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
  ces.push(ce);
  const r = await ce.setParameters({
    ...demoOpenStackOptions(cloud.authUrl, join(dir, "cloud.auth")),
    Instance_NamePrefix: "STOP_",
    MaxTotalJobs: "200",
    MaxWaitingJobs: "200",
    Journal_File: journal,
    Cloud_RequestTimeout: "5",
  });
  if (!r.OK) throw new Error(r.Message);
  return ce;
}

it("after a refused multi-create, a stop ends the per-VM creates; every server made is returned or journaled", async () => {
  const journal = join(dir, `journal-${Date.now()}.jsonl`);
  const ce = await makeCe(journal);
  const stop = new AbortController();
  // Each per-VM POST is slow; the stop comes as the 16th one arrives (the refused multi-create was the first).
  let arrived = 0;
  cloud.faults.add({
    route: POSTS,
    kind: "delay",
    delayMs: 40,
    times: Infinity,
    before: () => {
      arrived += 1;
      if (arrived === 17) stop.abort();
    },
  });
  const result = await ce.submitJob(join(dir, "pilot.sh"), null, 64, { signal: stop.signal });
  expect(result.OK).toBe(true);
  const refs = result.OK ? result.Value : [];
  // The cloud finishes whatever was in flight; nothing else arrives after that.
  await eventually(
    async () => cloud.inFlight(),
    (n) => n === 0,
    10_000,
    "the cloud to answer every request",
  );
  const made = [...cloud.state.servers.values()].filter((s) => s.name.startsWith("STOP_"));
  // At most the creates already in flight at the stop (one pool of 8) were sent after it.
  expect(cloud.count(POSTS)).toBeLessThanOrEqual(17 + 8);
  expect(made.length).toBeLessThan(64);
  expect(refs.length).toBeGreaterThan(0);
  expect(result.OK ? result.Interrupted : "").toMatch(new RegExp(`${refs.length} of 64 pilots created`));
  const shown = async (): Promise<Set<string>> =>
    new Set(
      (await readJournal(journal)).entries.filter((e) => e.action === "create" && e.outcome === "ok").map((e) => e.ref),
    );
  const unshown = (seen: Set<string>): string[] =>
    made.map((s) => `cloud://${s.id}`).filter((ref) => !refs.includes(ref) && !seen.has(ref));
  await eventually(
    shown,
    (seen) => unshown(seen).length === 0,
    10_000,
    "every server made to be returned or journaled",
  );
});

it("a deadline in the middle of such a batch starts no create after it; what was made is returned or journaled", async () => {
  const journal = join(dir, `journal-deadline-${Date.now()}.jsonl`);
  const ce = await makeCe(journal);
  cloud.faults.add({ route: POSTS, kind: "delay", delayMs: 40, times: Infinity });
  // As `serve` ends a submission at its deadline. However late a busy machine fires it, the calls after it are counted from then.
  const deadline = AbortSignal.timeout(150);
  let atDeadline = -1;
  deadline.addEventListener(
    "abort",
    () => {
      atDeadline = cloud.count(POSTS);
    },
    { once: true },
  );
  const result = await ce.submitJob(join(dir, "pilot.sh"), null, 64, { signal: deadline });
  // A machine slow enough to fire the deadline before the first server is made gets an error with
  // no reference: then every server made later must be in the journal, which the checks below hold.
  const refs = result.OK ? result.Value : [];
  await eventually(
    async () => cloud.inFlight(),
    (n) => n === 0,
    10_000,
    "the cloud to answer every request",
  );
  if (atDeadline >= 0) expect(cloud.count(POSTS) - atDeadline).toBeLessThanOrEqual(8);
  const made = [...cloud.state.servers.values()]
    .filter((s) => s.name.startsWith("STOP_"))
    .map((s) => `cloud://${s.id}`);
  const shown = async (): Promise<Set<string>> =>
    new Set(
      (await readJournal(journal)).entries.filter((e) => e.action === "create" && e.outcome === "ok").map((e) => e.ref),
    );
  await eventually(
    shown,
    (seen) => made.every((ref) => refs.includes(ref) || seen.has(ref)),
    10_000,
    "every server made to be returned or journaled",
  );
});
