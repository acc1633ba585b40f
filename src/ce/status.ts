/** Status operations: pilot states, this CE's VMs, counts and free slots, each from one listing. */

import type { CloudNode, NodeState } from "../drivers/driver.js";
import { toCloudceError } from "../errors.js";
import { bootTimedOut } from "./boot-timeout-policy.js";
import type { CeContext } from "./ce-context.js";
import { FLAVOR_KEY } from "./offering-policy.js";
import { QUEUE_KEY, STAMP_KEY, STAMP_SEED_KEY, inQueue, ownerFilter, ownsNode } from "./ownership.js";
import { parseReferences, toReference } from "./pilot-reference.js";
import type { CEStatusCounts, PilotStatus } from "./results.js";
import { pilotStatus } from "./status-map.js";
import { deriveStamp } from "../context/index.js";

/** One pilot VM as `listPilots` reports it. */
export interface PilotInfo {
  readonly ref: string;
  readonly name: string;
  readonly status: PilotStatus;
  /** The driver's normalised state (booting, running, stopping, stopped, error, gone, unknown). */
  readonly state: NodeState;
  readonly cloudState: string;
  readonly createdAt: string;
  readonly queue: string;
  readonly stamp: string;
  /** The `Instance_Flavor` entry the VM got. */
  readonly flavor: string;
  /** When a stopped VM powered off (ISO), where the cloud says. */
  readonly stoppedAt?: string;
}

/** This CE's VMs (by owner tag, or by prefix alone where untagged VMs are adopted), through the cloud-health breaker. */
export async function listOwnNodes(ctx: CeContext): Promise<CloudNode[]> {
  const nodes = await ctx.policies.health.call(() => ctx.runtime.listOwn(ownerFilter(ctx.settings)));
  return nodes.filter((n) => ownsNode(ctx.settings, n));
}

/**
 * This CE's VMs for a status operation: the listing is kept for this
 * object's next cleanup, at most Cleanup_ListingMaxAge (recent-listing.ts);
 * a failed one is not.
 */
export async function listForStatus(ctx: CeContext): Promise<CloudNode[]> {
  const maxAgeMs = ctx.settings.cleanupListingMaxAge * 1000;
  const mark = maxAgeMs > 0 ? ctx.recent?.begin() : undefined;
  const nodes = await listOwnNodes(ctx);
  if (mark !== undefined) ctx.recent?.remember(mark, nodes, ctx.now(), maxAgeMs);
  return nodes;
}

/** This CE object's queue's VMs, of a listing of the CE's. */
export function queueNodes(ctx: Pick<CeContext, "settings">, nodes: readonly CloudNode[]): CloudNode[] {
  return nodes.filter((n) => inQueue(ctx.settings, n));
}

/** The VMs of this CE object's queue: what its slots, counts and metrics are about. */
export async function listQueueNodes(ctx: CeContext): Promise<CloudNode[]> {
  return queueNodes(ctx, await listForStatus(ctx));
}

/** The DIRAC status of a VM, a boot that took too long reading Aborted. */
function statusOf(ctx: CeContext, node: CloudNode | undefined): PilotStatus {
  if (node && bootTimedOut(node, ctx.settings.policies.maxBootSeconds, ctx.policies.now())) return "Aborted";
  return pilotStatus(node);
}

/** Reference → status; a cloud that cannot be listed makes every status Unknown, as DIRAC does. */
export async function pilotStatuses(ctx: CeContext, refs: readonly string[]): Promise<Record<string, PilotStatus>> {
  const ids = parseReferences(refs);
  let byId: Map<string, CloudNode>;
  try {
    const nodes = await listForStatus(ctx);
    await ctx.policies.observe(queueNodes(ctx, nodes));
    byId = new Map(nodes.map((n) => [n.id, n]));
  } catch (err) {
    const e = toCloudceError(err);
    ctx.log.warn("cannot list VMs: statuses are Unknown", { code: e.code, reason: e.message });
    return Object.fromEntries(refs.map((r) => [r, "Unknown" as PilotStatus]));
  }
  const statuses = Object.fromEntries([...ids].map(([ref, id]) => [ref, statusOf(ctx, byId.get(id))]));
  if (!ctx.finished) return statuses;
  const unlisted = [...ids].filter(([, id]) => !byId.has(id)).map(([ref]) => ref);
  ctx.finished.listed([...ids].filter(([, id]) => byId.has(id)).map(([ref]) => ref));
  // A stopped VM removed by a cleanup before this call: the pilot finished (finished-pilots.ts).
  return unlisted.length === 0
    ? statuses
    : { ...statuses, ...(await ctx.finished.unlisted(unlisted, ctx.settings.journalFile, ctx.log)) };
}

export async function pilotInfos(ctx: CeContext): Promise<PilotInfo[]> {
  return (await listForStatus(ctx)).map((n) => ({
    ref: toReference(n.id),
    name: n.name,
    status: statusOf(ctx, n),
    state: n.state,
    cloudState: n.cloudState,
    createdAt: n.createdAt.toISOString(),
    queue: n.metadata[QUEUE_KEY] ?? "",
    stamp: pilotStamp(n),
    flavor: n.metadata[FLAVOR_KEY] ?? "",
    ...(n.stoppedAt ? { stoppedAt: n.stoppedAt.toISOString() } : {}),
  }));
}

/** The stamp a VM carries, or derives from its batch's seed and its id (uniform batches). */
export function pilotStamp(n: CloudNode): string {
  const literal = n.metadata[STAMP_KEY];
  if (literal) return literal;
  const seed = n.metadata[STAMP_SEED_KEY];
  return seed ? deriveStamp(seed, n.id) : "";
}

export function countNodes(nodes: readonly CloudNode[], submitted: number): CEStatusCounts {
  return {
    SubmittedJobs: submitted,
    RunningJobs: nodes.filter((n) => n.state === "running" || n.state === "suspended" || n.state === "stopping").length,
    WaitingJobs: nodes.filter((n) => n.state === "booting").length,
  };
}
