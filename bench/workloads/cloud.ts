/**
 * The cloud workloads, per cloud: submit, status, cleanup, available and
 * the 10,000-VM scale run. "ours" goes through the real
 * CloudComputingElement; "baseline" follows DIRAC's serial call pattern on
 * the same driver. Every run gets a fresh cloud process, seeded directly.
 */

import { loadContextRenderer } from "../../src/context/index.js";
import { selectForCleanup } from "../../src/ce/cleanup-policy.js";
import type { CloudComputingElement } from "../../src/ce/index.js";
import { pilotStatus } from "../../src/ce/status-map.js";
import { parseReference, toReference } from "../../src/ce/pilot-reference.js";
import { ceFilter, createOne, resolveOnce, serial, type ResolvedIds } from "../baseline.js";
import { CE_NAME, QUEUE } from "../ce-setup.js";
import { measure } from "../measure.js";
import { TEMPLATE } from "../template-path.js";
import { novaBatchFloorMs } from "../openstack-floor.js";
import { OPENSTACK_EXTRA_WORKLOADS } from "./openstack-extra.js";
import { type CloudRun, type CloudWorkloadSpec, ok } from "./cloud-run.js";

const MAX_LIFETIME = 14 * 86_400;

/** With `--quick`, serial baselines run this many steps and are scaled up. */
const sample = (run: CloudRun, steps: number): { sample?: number } => (run.options.quick ? { sample: steps } : {});

/** Running VMs 10 minutes old, and powered-off ones an hour old. */
const population = (running: number, stopped: number): CloudWorkloadSpec["seed"] => [
  { count: running, state: "running", ageSeconds: 600 },
  { count: stopped, state: "stopped", ageSeconds: 3600 },
];

/** Half of the VMs are to go: 250 powered off, 250 past Context_MaxLifetime. */
const CLEANUP_SEED: CloudWorkloadSpec["seed"] = [
  { count: 500, state: "running", ageSeconds: 600 },
  { count: 250, state: "stopped", ageSeconds: 3600 },
  { count: 250, state: "running", ageSeconds: MAX_LIFETIME + 3600 },
];

/**
 * A cleanup row is a cold cleanup that lists: the warm-up's getCEStatus listed before the seed, and
 * a cleanup would otherwise judge that listing (Cleanup_ListingMaxAge) and find nothing to remove.
 */
const COLD_CLEANUP = { Cleanup_ListingMaxAge: "0" };

async function cleanupOurs(
  ce: CloudComputingElement,
  failuresAllowed = false,
): Promise<{ wallMs: number; cpuMs: number; notes: string }> {
  const t = await measure(() => ce.cleanupPilots());
  const report = ok(t.value, "cleanupPilots");
  const failed = report.failed.length;
  if (report.deleted.length + failed !== 500 || (failed > 0 && !failuresAllowed)) {
    throw new Error(
      `cleanupPilots: ${report.deleted.length} deleted, ${failed} failed (expected 500, 0): ${report.failed[0]?.error ?? ""}`,
    );
  }
  const failures = failed > 0 ? `; ${failed} deletions FAILED (${report.failed[0]?.error ?? ""})` : "";
  return { ...t, notes: `one listing, then destroys (EC2: one TerminateInstances)${failures}` };
}

/** The CE's cleanup of CLEANUP_SEED under other CE options (`failuresAllowed`: deletions may fail, as without a rate limit). */
function cleanupUnder(
  name: string,
  options: string,
  ceOptions: Record<string, string>,
  failuresAllowed = false,
): CloudWorkloadSpec {
  return {
    name,
    title: `cleanupPilots 1000 VMs (500 to remove), ${options}`,
    seed: CLEANUP_SEED,
    variants: ["ours"],
    ceOptions: { ...ceOptions, ...COLD_CLEANUP },
    ours: (_run, ce) => cleanupOurs(ce, failuresAllowed),
  };
}

/** Submit 200 pilots: the CE's first submit (`warm` false) or a later one of a long-lived CE. */
function submitWorkload(name: string, title: string, warm: boolean): CloudWorkloadSpec {
  return {
    name,
    title,
    variants: ["ours", "baseline"],
    ours: async (run, ce) => {
      let floorMs: number | undefined;
      if (warm) {
        // A site director's CE lives for many cycles: resolution is cached and the code is warm.
        ok(await ce.submitJob(run.site.executable, null, 1), "warm-up submitJob");
        if (run.cloud.kind === "openstack") {
          const o = run.site.options;
          floorMs = await novaBatchFloorMs(
            run.cloud.url,
            { image: o["Instance_Image"]!, flavor: o["Instance_Flavor"]!, network: o["Instance_Networks"]! },
            200,
          );
        }
        await run.cloud.resetCounts();
      }
      const t = await measure(() => ce.submitJob(run.site.executable, null, 200));
      const refs = ok(t.value, "submitJob");
      if (refs.length !== 200) throw new Error(`submitJob made ${refs.length} of 200 pilots`);
      let notes = warm
        ? "a later submit of the same CE: resolution cached, code warm"
        : "first submit of the CE: includes image/flavor/network resolution";
      if (floorMs !== undefined)
        notes += `; floor (one multi-create POST + its listing, bare HTTP) ${floorMs.toFixed(0)} ms: ours is ${(t.wallMs / floorMs).toFixed(2)}× the floor`;
      return { ...t, notes };
    },
    baseline: async (run) => {
      const renderer = await loadContextRenderer(TEMPLATE);
      const executable = "#!/bin/bash\necho pilot\n".repeat(50);
      const names = {
        image: run.site.options["Instance_Image"]!,
        flavor: run.site.options["Instance_Flavor"]!,
        network: run.site.options["Instance_Networks"]!,
      };
      const b = {
        driver: run.driver,
        renderer,
        executable,
        names,
        ceName: CE_NAME,
        queue: QUEUE,
        namePrefix: run.site.namePrefix,
      };
      let ids: ResolvedIds | undefined;
      const r = await serial(run.cloud, {
        fixed: async () => {
          ids = await resolveOnce(b);
        },
        items: () => Array.from({ length: 200 }),
        step: () => createOne(b, ids!),
        ...sample(run, 20),
      });
      return {
        ...r,
        notes:
          "one submitJob call: list images, flavors, networks once; then one create after another (OpenStack: POST + GET, as libcloud)",
      };
    },
  };
}

export const CLOUD_WORKLOADS: readonly CloudWorkloadSpec[] = [
  submitWorkload("submit", "submitJob 200 pilots", false),
  submitWorkload("submit-warm", "submitJob 200 pilots, the CE's next submit", true),
  ...OPENSTACK_EXTRA_WORKLOADS,
  {
    name: "status",
    title: "getJobStatus 1000 refs",
    seed: population(800, 200),
    variants: ["ours", "baseline"],
    ours: async (run, ce) => {
      const refs = run.seeded.map(toReference);
      const t = await measure(() => ce.getJobStatus(refs));
      const statuses = Object.values(ok(t.value, "getJobStatus"));
      const done = statuses.filter((s) => s === "Done").length;
      if (statuses.length !== 1000 || done !== 200)
        throw new Error(`getJobStatus: ${statuses.length} statuses, ${done} Done (expected 1000, 200)`);
      return { ...t, notes: "one filtered listing (paged)" };
    },
    baseline: async (run) => {
      const driver = run.driver;
      const r = await serial(run.cloud, {
        items: () => run.seeded,
        step: async (id) => void pilotStatus(await driver.getNode(id)),
        ...sample(run, 50),
      });
      return { ...r, notes: "one GET per ref" };
    },
  },
  {
    name: "cleanup",
    title: "cleanupPilots 1000 VMs (500 to remove)",
    seed: CLEANUP_SEED,
    variants: ["ours", "baseline"],
    ceOptions: COLD_CLEANUP,
    ours: (_run, ce) => cleanupOurs(ce),
    baseline: async (run) => {
      const driver = run.driver;
      let picked: string[] = [];
      const list = async (): Promise<void> => {
        const nodes = await driver.listNodes(ceFilter(CE_NAME, run.site.namePrefix));
        picked = selectForCleanup(nodes, { maxLifetime: MAX_LIFETIME, minLifetime: 0 }, new Date()).map((p) =>
          parseReference(p.ref),
        );
      };
      const r = await serial(run.cloud, {
        fixed: list,
        items: () => picked,
        step: async (id) => void (await driver.destroyNodes([id])),
        ...sample(run, 50),
      });
      return { ...r, notes: "one listing, then one destroy after another" };
    },
  },
  {
    name: "available",
    title: "available() over 1000 VMs",
    seed: population(900, 100),
    variants: ["ours", "baseline"],
    ours: async (run, ce) => {
      const cold = await measure(() => ce.available());
      ok(cold.value, "available");
      const coldCalls = (await run.cloud.counts()).total;
      await run.cloud.resetCounts();
      const t = await measure(() => ce.available());
      ok(t.value, "available");
      return {
        ...t,
        notes: `steady state (resources cached); the first call took ${cold.wallMs.toFixed(0)} ms and ${coldCalls} calls (resolution)`,
      };
    },
    baseline: async (run) => {
      const driver = run.driver;
      const filter = ceFilter(CE_NAME, run.site.namePrefix);
      const r = await serial(run.cloud, { items: () => [filter], step: async (f) => void (await driver.listNodes(f)) });
      return { ...r, notes: "one listing" };
    },
  },
  {
    name: "scale",
    title: "scale: 10000 VMs listed + status-mapped",
    seed: population(9000, 1000),
    variants: ["ours"],
    ours: async (run, ce) => {
      const refs = run.seeded.map(toReference);
      const t = await measure(() => ce.getJobStatus(refs));
      const statuses = Object.values(ok(t.value, "getJobStatus"));
      if (statuses.filter((s) => s === "Running").length !== 9000) throw new Error("scale: expected 9000 Running");
      return { ...t, notes: "getJobStatus of all 10000 refs" };
    },
  },
  {
    name: "submit-default-rate",
    title: "submitJob 200 pilots, Cloud_RateLimit 20 (default)",
    variants: ["ours"],
    ceOptions: { Cloud_RateLimit: "20" },
    ours: async (run, ce) => {
      const t = await measure(() => ce.submitJob(run.site.executable, null, 200));
      if (ok(t.value, "submitJob").length !== 200) throw new Error("submitJob: not 200 pilots");
      return { ...t, notes: "the default client-side limit bounds a cloud with one create per VM" };
    },
  },
  cleanupUnder("cleanup-default-rate", "Cloud_RateLimit 20 (default)", { Cloud_RateLimit: "20" }),
  cleanupUnder(
    "cleanup-c32-no-limit",
    "Submit_Concurrency 32, no Cloud_RateLimit",
    { Submit_Concurrency: "32", Cloud_RateLimit: "0" },
    true,
  ),
  cleanupUnder("cleanup-c32-limit", "Submit_Concurrency 32", { Submit_Concurrency: "32" }),
];
