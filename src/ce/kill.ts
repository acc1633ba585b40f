/**
 * killJob: destroys this CE's VMs. An id missing from this CE's listing (a
 * fresh EC2 instance can be, for a while), and the id of a kill of one
 * pilot, which is not listed at all, is looked up alone: another CE's VM
 * is refused, not touched; one the look-up does not find either still gets
 * the destroy (idempotent: it may be too fresh to be seen), but is reported
 * as `gone` and not journaled, since no VM of that id was ever seen; a
 * look-up that fails is a failure. "Killed" therefore always means a destroy
 * was sent and the cloud accepted it.
 */

import { toCloudceError } from "../errors.js";
import type { BulkResult, CloudNode } from "../drivers/driver.js";
import { mapConcurrent } from "../util/pool.js";
import type { CeContext } from "./ce-context.js";
import { noteDeleted } from "./cleanup-claims.js";
import { ownsNode, STAMP_KEY } from "./ownership.js";
import { parseReferences, toReference } from "./pilot-reference.js";
import { type Result, S_ERROR, S_OK } from "./results.js";
import { listOwnNodes } from "./status.js";

/** How it went with each pilot of a kill, for callers that need more than OK. */
export interface KillReport {
  /** Every ref that is gone now, including those already gone (DIRAC counts those as killed). */
  readonly killed: readonly string[];
  /** Of `killed`, those neither the listing nor a look-up showed: not journaled (the destroy was sent all the same). */
  readonly gone: readonly string[];
  readonly failed: readonly { readonly ref: string; readonly error: string }[];
}

export async function killPilots(ctx: CeContext, refs: readonly string[]): Promise<KillReport> {
  const ids = parseReferences(refs);
  // One pilot (DIRAC's PilotManager kills one per request): its own look-up is one call, as the
  // listing would be, and does not grow with the CE's VMs.
  const listed = new Set(ids.values()).size > 1 ? await listOwnNodes(ctx) : [];
  const nodes = new Map(listed.map((n) => [n.id, n]));
  const { verdicts: errors, gone } = await unlistedVerdicts(
    ctx,
    [...new Set(ids.values())].filter((id) => !nodes.has(id)),
    nodes,
  );
  const targets = [...new Set(ids.values())].filter((id) => !errors.has(id));
  const refOf = new Map([...ids].map(([ref, id]) => [id, ref]));
  const known = (id: string): { ref: string; vmName: string; stamp: string } => ({
    ref: refOf.get(id) ?? toReference(id),
    vmName: nodes.get(id)?.name ?? "",
    stamp: nodes.get(id)?.metadata[STAMP_KEY] ?? "",
  });
  const onResult = async (r: BulkResult): Promise<void> => {
    noteDeleted(ctx.settings.ceName, r.done, ctx.now());
    const goneIds = new Set(r.gone ?? []);
    const named = r.done.filter((id) => nodes.has(id) && !goneIds.has(id));
    // Listed, but another delete (a cleanup, another kill) removed it before ours reached the cloud.
    const already = r.done.filter((id) => nodes.has(id) && goneIds.has(id));
    for (const id of named) ctx.log.info("pilot VM killed", { ref: known(id).ref });
    ctx.policies.deletes.deleted(
      named.map((id) => ({ id, name: nodes.get(id)!.name, reason: "killed" })),
      ctx.policies.now(),
    );
    await ctx.audit.record([
      ...named.map((id) => ({ ...known(id), action: "delete" as const, outcome: "ok" as const, reason: "killed" })),
      ...already.map((id) => ({
        ...known(id),
        action: "delete" as const,
        outcome: "gone" as const,
        reason: "killed: already gone (another delete removed it first)",
      })),
      ...r.failed.map((f) => ({
        ...known(f.target),
        action: "delete" as const,
        outcome: "failed" as const,
        reason: `killed: ${toCloudceError(f.error).message}`,
      })),
    ]);
  };
  const result = await ctx.runtime.destroy(targets, ctx.settings.submitConcurrency, { onResult });
  for (const f of result.failed) errors.set(f.target, toCloudceError(f.error).message);
  const failed = [...ids].filter(([, id]) => errors.has(id)).map(([ref, id]) => ({ ref, error: errors.get(id)! }));
  const killed = [...ids].filter(([, id]) => !errors.has(id)).map(([ref]) => ref);
  return { killed, gone: killed.filter((ref) => gone.has(ids.get(ref)!)), failed };
}

/**
 * Of ids missing from this CE's listing, those that must not be destroyed,
 * with why (another CE's VM, or a look-up that failed), and those the
 * look-up does not find either. Those found to be this CE's are added to `nodes`. Rare: one call each.
 */
async function unlistedVerdicts(
  ctx: CeContext,
  ids: readonly string[],
  nodes: Map<string, CloudNode>,
): Promise<{ verdicts: Map<string, string>; gone: Set<string> }> {
  const found = await mapConcurrent(ids, ctx.settings.submitConcurrency, (id) =>
    ctx.runtime.limited("lookup", (d) => d.getNode(id)),
  );
  const verdicts = new Map<string, string>();
  const gone = new Set<string>();
  ids.forEach((id, i) => {
    const r = found[i]!;
    if (r.status === "rejected")
      verdicts.set(id, `cannot check that it belongs to this CE: ${toCloudceError(r.reason).message}`);
    else if (r.value === undefined || r.value.state === "gone") gone.add(id);
    else if (!ownsNode(ctx.settings, r.value)) verdicts.set(id, "belongs to another CE: not killed");
    else nodes.set(id, r.value);
  });
  return { verdicts, gone };
}

/** The error message of a kill that failed for some pilots: which, and why. */
export function killFailures(report: KillReport): string {
  const detail = report.failed.map((f) => `${f.ref} (${f.error})`).join("; ");
  return `failed to kill ${report.failed.length} of ${report.failed.length + report.killed.length} pilots: ${detail}`;
}

/** killJob's result as DIRAC reads it: OK when every pilot is gone, else the failures in one line. */
export function killResult(report: KillReport): Result<KillReport> {
  return report.failed.length === 0 ? S_OK(report) : S_ERROR(killFailures(report), "CloudError");
}
