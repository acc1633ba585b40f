/** cleanupPilots: removes this CE's stopped, failed and over-age VMs; one failed deletion never stops the rest. */

import { toCloudceError } from "../errors.js";
import type { CeContext } from "./ce-context.js";
import { selectForCleanup } from "./cleanup-policy.js";
import { parseReference, toReference } from "./pilot-reference.js";
import type { CleanupEntry, CleanupReport } from "./results.js";
import { listOwnNodes } from "./status.js";

export async function cleanupOwnPilots(ctx: CeContext): Promise<CleanupReport> {
  const { settings, runtime, log } = ctx;
  const nodes = await listOwnNodes(ctx);
  const picked = selectForCleanup(nodes, { maxLifetime: settings.maxLifetime, minLifetime: settings.cleanupMinLifetime }, new Date());
  if (picked.length === 0) return { deleted: [], failed: [] };
  const result = await runtime.destroy(picked.map((p) => parseReference(p.ref)), settings.submitConcurrency);
  const errors = new Map(result.failed.map((f) => [toReference(f.target), toCloudceError(f.error).message]));
  const deleted: CleanupEntry[] = [];
  const failed: CleanupEntry[] = [];
  for (const p of picked) {
    const error = errors.get(p.ref);
    if (error === undefined) {
      deleted.push(p);
      log.info("cleanup removed VM", { ref: p.ref, vm: p.name, reason: p.reason });
    } else {
      failed.push({ ...p, error });
      log.error("cleanup failed to remove VM", { ref: p.ref, vm: p.name, reason: p.reason, error });
    }
  }
  await ctx.audit.record([
    ...deleted.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "ok" as const, reason: e.reason })),
    ...failed.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "failed" as const, reason: `${e.reason}: ${e.error ?? ""}` })),
  ]);
  return { deleted, failed };
}
