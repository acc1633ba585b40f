/**
 * cleanupPilots: removes this queue's stopped, failed, over-age and
 * boot-timed-out VMs, each judged by this queue's options, and the VMs of
 * other queues (or of none) that their own queue left past
 * `Cleanup_ForeignSeconds` (foreign-cleanup-policy.ts); one failed deletion
 * never stops the rest. A VM another cleanup of this process is deleting is
 * left to it (cleanup-claims.ts); a delete the driver says found the VM
 * already gone is reported as `gone`, not as deleted. Each delete is
 * journaled as its call settles, so a process stopped half-way leaves a
 * journal that matches the cloud. Deleted VMs the cloud still lists after
 * `Delete_VerifySeconds` are deleted again (delete-verify-policy.ts).
 *
 * A cleanup judges the listing this CE object's last status operation made,
 * if younger than `Cleanup_ListingMaxAge`, instead of listing again, as if it
 * had run when that listing answered (recent-listing.ts). A dry run always
 * lists: it answers what a cleanup would delete now, and leaves the kept
 * listing to the cleanup.
 */

import { scrubSecrets } from "../secrets.js";
import { toCloudceError } from "../errors.js";
import type { BulkResult, CloudNode } from "../drivers/driver.js";
import type { CeContext } from "./ce-context.js";
import { claimForCleanup, deletedSince, noteDeleted } from "./cleanup-claims.js";
import { selectForCleanup } from "./cleanup-policy.js";
import type { DueDelete } from "./delete-verify-policy.js";
import type { KeptListing } from "./recent-listing.js";
import { selectForeign } from "./foreign-cleanup-policy.js";
import { interruptedNote, withinGrace, type StopControl } from "./interrupt.js";
import { parseReference, toReference } from "./pilot-reference.js";
import { STAMP_KEY } from "./ownership.js";
import { redeleteOutcome } from "./redelete.js";
import type { CleanupEntry, CleanupReport } from "./results.js";
import { listOwnNodes, queueNodes } from "./status.js";

export async function cleanupOwnPilots(ctx: CeContext, stop: StopControl, dryRun = false): Promise<CleanupReport> {
  const { recent } = ctx;
  if (dryRun || !recent) return cleanupPass(ctx, stop, dryRun, undefined);
  const kept = recent.take(ctx.settings.cleanupListingMaxAge * 1000, ctx.now());
  if (kept)
    ctx.log.debug("cleanup judges the last status listing", {
      ageMs: ctx.now() - kept.at,
      vms: kept.nodes.length,
    });
  return recent.changing(() => cleanupPass(ctx, stop, false, kept));
}

async function cleanupPass(
  ctx: CeContext,
  stop: StopControl,
  dryRun: boolean,
  kept: KeptListing | undefined,
): Promise<CleanupReport> {
  const { settings, policies } = ctx;
  // The listing deletes nothing: after a stop it is not waited for (a hung login included).
  const listed = kept
    ? { answered: true as const, value: kept.nodes }
    : await withinGrace(listOwnNodes(ctx), { ...stop, graceMs: 0 });
  if (!listed.answered)
    return {
      deleted: [],
      failed: [],
      interrupted: interruptedNote("cleanup", "stopped before the cloud listed the VMs: nothing was deleted"),
    };
  // A kept listing still shows the VMs another cleanup or kill of this CE deleted since it answered.
  const nodes = kept ? withoutDeletedSince(ctx, kept) : listed.value;
  await Promise.all([policies.observe(queueNodes(ctx, nodes)), policies.seedDeletes()]);
  // A kept listing is judged as of when it answered: the decisions a cleanup made then.
  const now = kept?.at ?? ctx.now();
  const { due, waiting } = policies.deletes.review(nodes, now);
  const dueIds = new Set(due.map((d) => d.node.id));
  const fresh = nodes.filter((n) => !waiting.has(n.id) && !dueIds.has(n.id));
  const policy = {
    maxLifetime: settings.maxLifetime,
    minLifetime: settings.cleanupMinLifetime,
    maxBootSeconds: settings.policies.maxBootSeconds,
  };
  const candidates = [
    ...selectForCleanup(queueNodes(ctx, fresh), policy, new Date(now)),
    ...selectForeign(fresh, settings, now),
  ];
  if (candidates.length === 0 && due.length === 0) return { deleted: [], failed: [] };
  // A dry run says what this pass would delete, and deletes and journals nothing.
  if (dryRun) return { deleted: [], failed: [], wouldDelete: candidates };
  const claim = claimForCleanup(settings.ceName, [...candidates.map((c) => parseReference(c.ref)), ...dueIds]);
  try {
    const picked = candidates.filter((c) => claim.ids.has(parseReference(c.ref)));
    // Journal lines carry the pilot's stamp, as kill's do, so a pilot's lines can be followed by it.
    const stamps = new Map(nodes.map((n) => [toReference(n.id), n.metadata[STAMP_KEY] ?? ""]));
    return await deletePicked(
      ctx,
      stop,
      picked,
      due.filter((d) => claim.ids.has(d.node.id)),
      stamps,
    );
  } finally {
    claim.release();
  }
}

/** Deletes the picked VMs and the stuck deletes due again; reports and journals each as its call settles. */
async function deletePicked(
  ctx: CeContext,
  stop: StopControl,
  picked: readonly CleanupEntry[],
  due: readonly DueDelete[],
  stamps: ReadonlyMap<string, string>,
): Promise<CleanupReport> {
  const stamp = (ref: string): string => stamps.get(ref) ?? "";
  const { settings, runtime, log, policies } = ctx;
  if (picked.length === 0 && due.length === 0) return { deleted: [], failed: [] };
  const dueIds = new Set(due.map((d) => d.node.id));
  const byRef = new Map(picked.map((p) => [p.ref, p]));
  ctx.observer?.planned?.("delete", picked.length);
  const deleted: CleanupEntry[] = [];
  const failed: CleanupEntry[] = [];
  const gone: CleanupEntry[] = [];
  const redeleteErrors = new Map<string, string>();
  const entriesOf = (ids: readonly string[]): CleanupEntry[] =>
    ids.map((id) => byRef.get(toReference(id))).filter((e): e is CleanupEntry => e !== undefined);
  const onResult = async (result: BulkResult): Promise<void> => {
    noteDeleted(settings.ceName, result.done, ctx.now());
    for (const f of result.failed)
      if (dueIds.has(f.target)) redeleteErrors.set(toReference(f.target), toCloudceError(f.error).message);
    const goneIds = new Set(result.gone ?? []);
    const ok = entriesOf(result.done.filter((id) => !goneIds.has(id)));
    const already = entriesOf([...goneIds]);
    const bad = result.failed.flatMap((f) => {
      const e = byRef.get(toReference(f.target));
      return e ? [{ ...e, error: scrubSecrets(toCloudceError(f.error).message) }] : [];
    });
    deleted.push(...ok);
    gone.push(...already);
    failed.push(...bad);
    policies.deletes.deleted(
      ok.map((e) => ({ id: parseReference(e.ref), name: e.name, reason: e.reason })),
      ctx.now(),
    );
    for (const e of ok)
      log.info("cleanup removed VM", { ref: e.ref, vm: e.name, reason: e.reason, ...foreignField(e) });
    for (const e of already) log.info("cleanup found VM already gone", { ref: e.ref, vm: e.name, reason: e.reason });
    for (const e of bad)
      log.error("cleanup failed to remove VM", { ref: e.ref, vm: e.name, reason: e.reason, error: e.error });
    await ctx.audit.record([
      ...ok.map((e) => ({
        ref: e.ref,
        vmName: e.name,
        stamp: stamp(e.ref),
        action: "delete" as const,
        outcome: "ok" as const,
        reason: journalReason(e, settings.cleanupForeignSeconds),
      })),
      ...already.map((e) => ({
        ref: e.ref,
        vmName: e.name,
        stamp: stamp(e.ref),
        action: "delete" as const,
        outcome: "gone" as const,
        reason: `${e.reason}: already gone (another cleanup or the cloud removed it first)`,
      })),
      ...bad.map((e) => ({
        ref: e.ref,
        vmName: e.name,
        stamp: stamp(e.ref),
        action: "delete" as const,
        outcome: "failed" as const,
        reason: `${e.reason}: ${e.error ?? ""}`,
      })),
    ]);
  };
  // A delete abandoned after a stop that the cloud carries out after all: journaled when it answers.
  const onLateResult = async (result: BulkResult): Promise<void> => {
    const goneIds = new Set(result.gone ?? []);
    const late = entriesOf(result.done.filter((id) => !goneIds.has(id)));
    await ctx.audit.record(
      late.map((e) => ({
        ref: e.ref,
        vmName: e.name,
        stamp: stamp(e.ref),
        action: "delete" as const,
        outcome: "ok" as const,
        reason: `${e.reason} (answered after the interruption)`,
      })),
    );
  };
  // Before the delete is sent: a getJobStatus of this object that no longer finds the VM reads it Done.
  ctx.finished?.removed(picked.filter((e) => e.reason === "stopped").map((e) => e.ref));
  const result = await runtime.destroy(
    [...picked.map((p) => parseReference(p.ref)), ...dueIds],
    settings.submitConcurrency,
    { stop, onResult, onLateResult },
  );
  const timedOut = deleted.filter((e) => e.reason === "boot-timeout");
  await policies.decide(
    timedOut.map((e) => ({
      decision: "boot-timeout" as const,
      ref: e.ref,
      vmName: e.name,
      detail: `still booting after Instance_MaxBootSeconds (${settings.policies.maxBootSeconds} s): removed`,
    })),
  );
  const notTried = new Set(result.notTried);
  const redeleted = await redeleteOutcome(
    ctx,
    due.filter((d) => !notTried.has(d.node.id)),
    redeleteErrors,
  );
  const report = {
    deleted,
    failed,
    ...(gone.length > 0 ? { gone } : {}),
    ...(redeleted.length > 0 ? { redeleted } : {}),
  };
  if (!stop.signal?.aborted) return report;
  const note = interruptedNote(
    "cleanup",
    `${deleted.length} removed, ${failed.length} failed, ${result.notTried.length} not tried (the next cleanup does them)`,
  );
  // The caller gets the note in the report and tells it; a warning too would say it twice.
  log.debug(note);
  return { ...report, interrupted: note };
}

function withoutDeletedSince(ctx: CeContext, kept: KeptListing): readonly CloudNode[] {
  const deleted = deletedSince(ctx.settings.ceName, kept.at);
  return deleted.size === 0 ? kept.nodes : kept.nodes.filter((n) => !deleted.has(n.id));
}

function foreignField(e: CleanupEntry): { queue?: string } {
  return e.queue === undefined ? {} : { queue: e.queue };
}

/** The journal's reason: the cleanup reason, and for another queue's VM whose it was and why this queue removed it. */
function journalReason(e: CleanupEntry, foreignSeconds: number): string {
  if (e.queue === undefined) return e.reason;
  const whose = e.queue === "" ? "a VM with no queue tag" : `a VM of queue '${e.queue}'`;
  return `${e.reason}: ${whose}, due by its own queue's options more than Cleanup_ForeignSeconds (${foreignSeconds} s) ago`;
}
