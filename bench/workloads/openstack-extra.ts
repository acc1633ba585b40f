/**
 * OpenStack workloads of what the cloud filters and what the process
 * shares: the status of a CE's 100 pilots in a project shared with 10,000
 * VMs of other owners (same prefix), and DIRAC's PilotManager pattern, a
 * fresh CE object for each of 50 kills.
 */

import { forgetSharedLogins } from "../../src/drivers/openstack/login-pool.js";
import { toReference } from "../../src/ce/pilot-reference.js";
import type { Result } from "../../src/ce/index.js";
import { serial } from "../baseline.js";
import { QUEUE } from "../ce-setup.js";
import { measure } from "../measure.js";
import type { CloudRun, CloudWorkloadSpec } from "./cloud-run.js";

const LOGINS = "identity POST /v3/auth/tokens";
const FOREIGN_OWNERS = 10;
const FOREIGN_EACH = 1000;

function ok<T>(r: Result<T>, what: string): T {
  if (!r.OK) throw new Error(`${what} failed: ${r.Message}`);
  return r.Value;
}

/** 10,000 VMs of ten other CEs with the same prefix, put straight into the project (not counted). */
async function foreignNeighbours(run: CloudRun): Promise<void> {
  for (let i = 0; i < FOREIGN_OWNERS; i++) {
    await run.cloud.seed({
      ceName: `neighbour-${i}.example.org`,
      queue: QUEUE,
      namePrefix: run.site.namePrefix,
      groups: [{ count: FOREIGN_EACH, state: "running", ageSeconds: 600 }],
    });
  }
  await run.cloud.resetCounts();
}

const kb = (bytes: number | undefined): string => (bytes === undefined ? "?" : `${(bytes / 1024).toFixed(0)} KB`);

export const OPENSTACK_EXTRA_WORKLOADS: readonly CloudWorkloadSpec[] = [
  {
    name: "status-shared",
    title: "getJobStatus 100 refs, project shared with 10000 VMs of other owners",
    seed: [{ count: 100, state: "running", ageSeconds: 600 }],
    variants: ["ours", "baseline"],
    ours: async (run, ce) => {
      await foreignNeighbours(run);
      const refs = run.seeded.map(toReference);
      // First the same status by name prefix alone, as on a cloud without tags (the project's 10,100 servers).
      const byName = await run.site.newCe({ Ownership_AdoptUntagged: "yes" });
      let plain: { calls: number; bytes: number | undefined; cpuMs: number; wallMs: number };
      try {
        ok(await byName.getCEStatus(), "warm-up of the name-prefix CE");
        await run.cloud.resetCounts();
        const n = await measure(() => byName.getJobStatus(refs));
        ok(n.value, "getJobStatus by name prefix");
        const counts = await run.cloud.counts();
        plain = { calls: counts.total, bytes: counts.bytes, cpuMs: n.cpuMs, wallMs: n.wallMs };
      } finally {
        await byName.shutdown();
      }
      await run.cloud.resetCounts();
      const t = await measure(() => ce.getJobStatus(refs));
      if (Object.values(ok(t.value, "getJobStatus")).filter((s) => s === "Running").length !== 100)
        throw new Error("status-shared: expected 100 Running");
      const tagged = await run.cloud.counts();
      return {
        ...t,
        notes: `by tag: ${tagged.total} call(s), ${kb(tagged.bytes)}, ${t.cpuMs.toFixed(0)} ms CPU; by name prefix (no tags): ${plain.calls} calls, ${kb(plain.bytes)}, ${plain.cpuMs.toFixed(0)} ms CPU, ${plain.wallMs.toFixed(0)} ms`,
      };
    },
    baseline: async (run) => {
      await foreignNeighbours(run);
      const r = await serial(run.cloud, {
        items: () => run.seeded,
        step: async (id) => void (await run.driver.getNode(id)),
      });
      return { ...r, notes: "one GET per ref" };
    },
  },
  {
    name: "kill-pilotmanager",
    title: "killJob of 50 pilots, a fresh CE object each (DIRAC's PilotManager)",
    seed: [{ count: 50, state: "running", ageSeconds: 600 }],
    variants: ["ours", "baseline"],
    ours: async (run) => {
      // The process starts without a login, as a PilotManager that was just started.
      forgetSharedLogins();
      const t = await measure(async () => {
        for (const id of run.seeded) {
          const ce = await run.site.newCe();
          try {
            ok(await ce.killJob([toReference(id)]), "killJob");
          } finally {
            await ce.shutdown();
          }
        }
      });
      const counts = await run.cloud.counts();
      return { ...t, notes: `${counts.byRoute[LOGINS] ?? 0} login(s) for 50 CE objects` };
    },
    baseline: async (run) => {
      // DIRAC: each request builds a driver, which logs in, reads the node and destroys it.
      const r = await serial(run.cloud, {
        items: () => run.seeded,
        step: async (id) => {
          forgetSharedLogins();
          const driver = await run.site.newDriver();
          try {
            await driver.getNode(id);
            await driver.destroyNodes([id]);
          } finally {
            await driver.close();
          }
        },
      });
      return { ...r, notes: `${r.byRoute[LOGINS] ?? 0} logins: one per request` };
    },
  },
];
