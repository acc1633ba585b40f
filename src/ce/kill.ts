/**
 * killJob: destroys this CE's VMs. An id missing from this CE's listing (a
 * fresh EC2 instance can be, for a while) is looked up alone: another CE's VM
 * is refused, not touched; anything else gets the destroy, which is
 * idempotent; a look-up that fails is a failure. "Killed" therefore always
 * means a destroy was sent and the cloud accepted it.
 */

import { toCloudceError } from "../errors.js";
import type { BulkResult } from "../drivers/driver.js";
import { mapConcurrent } from "../util/pool.js";
import type { CeContext } from "./ce-context.js";
import { ownsNode } from "./ownership.js";
import { parseReferences, toReference } from "./pilot-reference.js";
import { listOwnNodes } from "./status.js";

/** How it went with each pilot of a kill, for callers that need more than OK. */
export interface KillReport {
  readonly killed: readonly string[];
  readonly failed: readonly { readonly ref: string; readonly error: string }[];
}

export async function killPilots(ctx: CeContext, refs: readonly string[]): Promise<KillReport> {
  const ids = parseReferences(refs);
  const names = new Map((await listOwnNodes(ctx)).map((n) => [n.id, n.name]));
  const errors = await unlistedVerdicts(ctx, [...new Set(ids.values())].filter((id) => !names.has(id)), names);
  const targets = [...new Set(ids.values())].filter((id) => !errors.has(id));
  const refOf = new Map([...ids].map(([ref, id]) => [id, ref]));
  const onResult = async (r: BulkResult): Promise<void> => {
    for (const id of r.done) ctx.log.info("pilot VM killed", { ref: refOf.get(id) ?? toReference(id) });
    const named = r.done.filter((id) => names.has(id));
    ctx.policies.deletes.deleted(named.map((id) => ({ id, name: names.get(id)!, reason: "kill" })), ctx.policies.now());
    await ctx.audit.record([
      ...r.done.map((id) => ({ ref: refOf.get(id) ?? toReference(id), vmName: names.get(id) ?? "", action: "delete" as const, outcome: "ok" as const, reason: "kill" })),
      ...r.failed.map((f) => ({ ref: refOf.get(f.target) ?? toReference(f.target), vmName: names.get(f.target) ?? "", action: "delete" as const, outcome: "failed" as const, reason: `kill: ${toCloudceError(f.error).message}` })),
    ]);
  };
  const result = await ctx.runtime.destroy(targets, ctx.settings.submitConcurrency, { onResult });
  for (const f of result.failed) errors.set(f.target, toCloudceError(f.error).message);
  const failed = [...ids].filter(([, id]) => errors.has(id)).map(([ref, id]) => ({ ref, error: errors.get(id)! }));
  const killed = [...ids].filter(([, id]) => !errors.has(id)).map(([ref]) => ref);
  return { killed, failed };
}

/**
 * Of ids missing from this CE's listing, those that must not be destroyed,
 * with why: another CE's VM, or a look-up that failed. Rare: one call each.
 * The names of those found to be this CE's are added to `names`.
 */
async function unlistedVerdicts(ctx: CeContext, ids: readonly string[], names: Map<string, string>): Promise<Map<string, string>> {
  const found = await mapConcurrent(ids, ctx.settings.submitConcurrency, (id) => ctx.runtime.call((d) => d.getNode(id)));
  const verdicts = new Map<string, string>();
  ids.forEach((id, i) => {
    const r = found[i]!;
    if (r.status === "rejected") verdicts.set(id, `cannot check that it belongs to this CE: ${toCloudceError(r.reason).message}`);
    else if (r.value === undefined || r.value.state === "gone") return;
    else if (!ownsNode(ctx.settings, r.value)) verdicts.set(id, "belongs to another CE: not killed");
    else names.set(id, r.value.name);
  });
  return verdicts;
}
