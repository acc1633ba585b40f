/** killJob: destroys this CE's VMs; already gone is success; another CE's VM is refused, not touched. */

import { toCloudceError } from "../errors.js";
import { mapConcurrent } from "../util/pool.js";
import type { CeContext } from "./ce-context.js";
import { ownsNode } from "./ownership.js";
import { parseReferences } from "./pilot-reference.js";
import { listOwnNodes } from "./status.js";

/** How it went with each pilot of a kill, for callers that need more than OK. */
export interface KillReport {
  readonly killed: readonly string[];
  readonly failed: readonly { readonly ref: string; readonly error: string }[];
}

export async function killPilots(ctx: CeContext, refs: readonly string[]): Promise<KillReport> {
  const ids = parseReferences(refs);
  const own = new Map((await listOwnNodes(ctx)).map((n) => [n.id, n.name]));
  const foreign = await foreignIds(ctx, [...ids.values()].filter((id) => !own.has(id)));
  const targets = [...ids.values()].filter((id) => own.has(id));
  const result = await ctx.runtime.destroy(targets, ctx.settings.submitConcurrency);
  const errors = new Map(result.failed.map((f) => [f.target, toCloudceError(f.error).message]));
  for (const id of foreign) errors.set(id, "belongs to another CE: not killed");
  const failed = [...ids].filter(([, id]) => errors.has(id)).map(([ref, id]) => ({ ref, error: errors.get(id)! }));
  const killed = [...ids].filter(([, id]) => !errors.has(id)).map(([ref]) => ref);
  for (const ref of killed) ctx.log.info("pilot VM killed", { ref });
  ctx.policies.deletes.deleted(killed.map((ref) => ids.get(ref)!).filter((id) => own.has(id)).map((id) => ({ id, name: own.get(id)!, reason: "kill" })), ctx.policies.now());
  await ctx.audit.record([
    ...killed.map((ref) => ({ ref, vmName: "", action: "delete" as const, outcome: "ok" as const, reason: "kill" })),
    ...failed.map((f) => ({ ref: f.ref, vmName: "", action: "delete" as const, outcome: "failed" as const, reason: `kill: ${f.error}` })),
  ]);
  return { killed, failed };
}

/** Of ids missing from this CE's listing, those that still exist (so belong to someone else). Rare: one call each. */
async function foreignIds(ctx: CeContext, ids: readonly string[]): Promise<Set<string>> {
  const found = await mapConcurrent(ids, ctx.settings.submitConcurrency, (id) => ctx.runtime.call((d) => d.getNode(id)));
  return new Set(
    ids.filter((_, i) => {
      const r = found[i]!;
      return r.status === "fulfilled" && r.value !== undefined && r.value.state !== "gone" && !ownsNode(ctx.settings, r.value);
    }),
  );
}
