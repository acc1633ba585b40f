/**
 * cleanupPilots: removes this CE's stopped, failed and over-age VMs; one
 * failed deletion never stops the rest. Each delete is journaled as its call
 * settles, so a process stopped half-way leaves a journal that matches the cloud.
 */

import { toCloudceError } from "../errors.js";
import type { BulkResult } from "../drivers/driver.js";
import type { CeContext } from "./ce-context.js";
import { selectForCleanup } from "./cleanup-policy.js";
import { interruptedNote, type StopControl } from "./interrupt.js";
import { parseReference, toReference } from "./pilot-reference.js";
import type { CleanupEntry, CleanupReport } from "./results.js";
import { listOwnNodes } from "./status.js";

export async function cleanupOwnPilots(ctx: CeContext, stop: StopControl): Promise<CleanupReport> {
  const { settings, runtime, log } = ctx;
  const nodes = await listOwnNodes(ctx);
  const picked = selectForCleanup(nodes, { maxLifetime: settings.maxLifetime, minLifetime: settings.cleanupMinLifetime }, new Date(ctx.now()));
  if (picked.length === 0) return { deleted: [], failed: [] };
  const byRef = new Map(picked.map((p) => [p.ref, p]));
  const deleted: CleanupEntry[] = [];
  const failed: CleanupEntry[] = [];
  const onResult = async (result: BulkResult): Promise<void> => {
    const ok = result.done.map((id) => byRef.get(toReference(id))).filter((e): e is CleanupEntry => e !== undefined);
    const bad = result.failed.flatMap((f) => {
      const e = byRef.get(toReference(f.target));
      return e ? [{ ...e, error: toCloudceError(f.error).message }] : [];
    });
    deleted.push(...ok);
    failed.push(...bad);
    for (const e of ok) log.info("cleanup removed VM", { ref: e.ref, vm: e.name, reason: e.reason });
    for (const e of bad) log.error("cleanup failed to remove VM", { ref: e.ref, vm: e.name, reason: e.reason, error: e.error });
    await ctx.audit.record([
      ...ok.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "ok" as const, reason: e.reason })),
      ...bad.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "failed" as const, reason: `${e.reason}: ${e.error ?? ""}` })),
    ]);
  };
  const result = await runtime.destroy(picked.map((p) => parseReference(p.ref)), settings.submitConcurrency, { stop, onResult });
  if (!stop.signal?.aborted) return { deleted, failed };
  const note = interruptedNote("cleanup", `${deleted.length} removed, ${failed.length} failed, ${result.notTried.length} not tried (the next cleanup does them)`);
  log.warn(note);
  return { deleted, failed, interrupted: note };
}
