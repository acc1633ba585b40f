/**
 * The cleanup rows: `cleanupPilots` of 8 pilots past their lifetime, once all are ACTIVE, right
 * after their column's getJobStatus (untimed), as SiteDirector's cycle calls them for each queue.
 * `cleanup` is cloudce as configured by default (its cleanup reuses that status's listing);
 * `cleanup-cold` the same with `Cleanup_ListingMaxAge = 0` (one listing, then the deletes, as
 * DIRAC's), so that the delete path stays measured on its own.
 */

import { CloudComputingElement } from "../../src/ce/index.js";
import { selectForCleanup } from "../../src/ce/cleanup-policy.js";
import { parseReference } from "../../src/ce/pilot-reference.js";
import { silentLogger } from "../../src/log.js";
import type { CloudDriver } from "../../src/drivers/driver.js";
import type { NodeFilter } from "../../src/drivers/node-types.js";
import { drained, olderThan, ok, PILOTS, running, type Lab } from "./lab-steps.js";
import type { Sample, Workload } from "./report.js";

export type CleanupRow = Extract<Workload, "cleanup" | "cleanup-cold">;
/** Times `fn` as the workload (or runs it untimed when that workload is not selected). */
export type Timer = (what: Workload, fn: () => Promise<unknown>) => Promise<Sample | undefined>;

/** cloudce: a CE of the same name and prefix whose lifetime (1 s) the 8 are past. */
export async function cleanupCloudce(
  lab: Lab,
  prefix: string,
  refs: readonly string[],
  options: (extra: Record<string, string>) => Record<string, string>,
  timer: Timer,
  row: CleanupRow,
): Promise<Sample | undefined> {
  await running(lab, prefix);
  await olderThan(lab, prefix, 1);
  const extra: Record<string, string> = { Context_MaxLifetime: "1" };
  if (row === "cleanup-cold") extra.Cleanup_ListingMaxAge = "0";
  const old = new CloudComputingElement("bench-lab.example.org", { logger: silentLogger });
  try {
    ok(await old.setParameters(options(extra)), "setParameters");
    ok(await old.getJobStatus([...refs]), "getJobStatus (SiteDirector's status before its cleanup, untimed)");
    const sample = await timer(row, async () => {
      const cleaned = ok(await old.cleanupPilots(), "cleanupPilots");
      if (cleaned.deleted.length !== PILOTS) throw new Error(`${row} removed ${cleaned.deleted.length} of ${PILOTS}`);
    });
    await drained(lab, prefix);
    return sample;
  } finally {
    await old.shutdown();
  }
}

/** DIRAC's pattern, alike in both rows: its status is one GET per pilot, which its cleanup cannot reuse. */
export async function cleanupBaseline(
  lab: Lab,
  prefix: string,
  driver: CloudDriver,
  filter: NodeFilter,
  timer: Timer,
  row: CleanupRow,
): Promise<Sample | undefined> {
  await running(lab, prefix);
  await olderThan(lab, prefix, 1);
  const live = await lab.observer.listNodes({ namePrefix: prefix, metadata: {} });
  for (const n of live) await driver.getNode(n.id);
  const sample = await timer(row, async () => {
    const picked = selectForCleanup(await driver.listNodes(filter), { maxLifetime: 1, minLifetime: 0 }, new Date());
    for (const entry of picked) await driver.destroyNodes([parseReference(entry.ref)]);
    if (picked.length !== PILOTS) throw new Error(`baseline ${row} removed ${picked.length} of ${PILOTS}`);
  });
  await drained(lab, prefix);
  return sample;
}
