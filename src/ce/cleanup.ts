/**
 * cleanupPilots: removes this CE's stopped, failed, over-age and boot-timed-out
 * VMs; one failed deletion never stops the rest. Each delete is journaled as
 * its call settles, so a process stopped half-way leaves a journal that
 * matches the cloud. Deleted VMs the cloud still lists after
 * `Delete_VerifySeconds` are deleted again (delete-verify-policy.ts).
 */

import { scrubSecrets } from "../secrets.js";
import { toCloudceError } from "../errors.js";
import type { BulkResult } from "../drivers/driver.js";
import type { CeContext } from "./ce-context.js";
import { selectForCleanup } from "./cleanup-policy.js";
import { interruptedNote, type StopControl } from "./interrupt.js";
import { parseReference, toReference } from "./pilot-reference.js";
import { redeleteOutcome } from "./redelete.js";
import type { CleanupEntry, CleanupReport } from "./results.js";
import { listOwnNodes } from "./status.js";

export async function cleanupOwnPilots(ctx: CeContext, stop: StopControl): Promise<CleanupReport> {
  const { settings, runtime, log, policies } = ctx;
  const nodes = await listOwnNodes(ctx);
  await Promise.all([policies.observe(nodes), policies.seedDeletes()]);
  const now = ctx.now();
  const { due, waiting } = policies.deletes.review(nodes, now);
  const dueIds = new Set(due.map((d) => d.node.id));
  const fresh = nodes.filter((n) => !waiting.has(n.id) && !dueIds.has(n.id));
  const policy = { maxLifetime: settings.maxLifetime, minLifetime: settings.cleanupMinLifetime, maxBootSeconds: settings.policies.maxBootSeconds };
  const picked = selectForCleanup(fresh, policy, new Date(now));
  if (picked.length === 0 && due.length === 0) return { deleted: [], failed: [] };
  const byRef = new Map(picked.map((p) => [p.ref, p]));
  ctx.observer?.planned?.("delete", picked.length);
  const deleted: CleanupEntry[] = [];
  const failed: CleanupEntry[] = [];
  const redeleteErrors = new Map<string, string>();
  const onResult = async (result: BulkResult): Promise<void> => {
    for (const f of result.failed) if (dueIds.has(f.target)) redeleteErrors.set(toReference(f.target), toCloudceError(f.error).message);
    const ok = result.done.map((id) => byRef.get(toReference(id))).filter((e): e is CleanupEntry => e !== undefined);
    const bad = result.failed.flatMap((f) => {
      const e = byRef.get(toReference(f.target));
      return e ? [{ ...e, error: scrubSecrets(toCloudceError(f.error).message) }] : [];
    });
    deleted.push(...ok);
    failed.push(...bad);
    policies.deletes.deleted(ok.map((e) => ({ id: parseReference(e.ref), name: e.name, reason: e.reason })), ctx.now());
    for (const e of ok) log.info("cleanup removed VM", { ref: e.ref, vm: e.name, reason: e.reason });
    for (const e of bad) log.error("cleanup failed to remove VM", { ref: e.ref, vm: e.name, reason: e.reason, error: e.error });
    await ctx.audit.record([
      ...ok.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "ok" as const, reason: e.reason })),
      ...bad.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "failed" as const, reason: `${e.reason}: ${e.error ?? ""}` })),
    ]);
  };
  // A delete abandoned after a stop that the cloud carries out after all: journaled when it answers.
  const onLateResult = async (result: BulkResult): Promise<void> => {
    const late = result.done.map((id) => byRef.get(toReference(id))).filter((e): e is CleanupEntry => e !== undefined);
    await ctx.audit.record(late.map((e) => ({ ref: e.ref, vmName: e.name, action: "delete" as const, outcome: "ok" as const, reason: `${e.reason} (answered after the interruption)` })));
  };
  const result = await runtime.destroy([...picked.map((p) => parseReference(p.ref)), ...dueIds], settings.submitConcurrency, { stop, onResult, onLateResult });
  const timedOut = deleted.filter((e) => e.reason === "boot-timeout");
  await policies.decide(timedOut.map((e) => ({ decision: "boot-timeout" as const, ref: e.ref, vmName: e.name, detail: `still booting after Instance_MaxBootSeconds (${settings.policies.maxBootSeconds} s): removed` })));
  const notTried = new Set(result.notTried);
  const redeleted = await redeleteOutcome(ctx, due.filter((d) => !notTried.has(d.node.id)), redeleteErrors);
  const report = { deleted, failed, ...(redeleted.length > 0 ? { redeleted } : {}) };
  if (!stop.signal?.aborted) return report;
  const note = interruptedNote("cleanup", `${deleted.length} removed, ${failed.length} failed, ${result.notTried.length} not tried (the next cleanup does them)`);
  log.warn(note);
  return { ...report, interrupted: note };
}
