/** Status operations: pilot states, this CE's VMs, counts and free slots, each from one listing. */

import type { CloudNode } from "../drivers/driver.js";
import { toCloudceError } from "../errors.js";
import { computeAvailable } from "./available.js";
import { cloudCapacity } from "./capacity.js";
import type { CeContext } from "./ce-context.js";
import { QUEUE_KEY, ownerFilter } from "./ownership.js";
import { parseReferences, toReference } from "./pilot-reference.js";
import type { CEInfoDict, CEStatusCounts, Ok, PilotStatus } from "./results.js";
import { pilotStatus } from "./status-map.js";

/** One pilot VM as `listPilots` reports it. */
export interface PilotInfo {
  readonly ref: string;
  readonly name: string;
  readonly status: PilotStatus;
  readonly cloudState: string;
  readonly createdAt: string;
  readonly queue: string;
  readonly stamp: string;
}

export function listOwnNodes(ctx: CeContext): Promise<CloudNode[]> {
  return ctx.runtime.listOwn(ownerFilter(ctx.settings));
}

/** Reference → status; a cloud that cannot be listed makes every status Unknown, as DIRAC does. */
export async function pilotStatuses(ctx: CeContext, refs: readonly string[]): Promise<Record<string, PilotStatus>> {
  const ids = parseReferences(refs);
  let byId: Map<string, CloudNode>;
  try {
    byId = new Map((await listOwnNodes(ctx)).map((n) => [n.id, n]));
  } catch (err) {
    const e = toCloudceError(err);
    ctx.log.warn("cannot list VMs: statuses are Unknown", { code: e.code, reason: e.message });
    return Object.fromEntries(refs.map((r) => [r, "Unknown" as PilotStatus]));
  }
  return Object.fromEntries([...ids].map(([ref, id]) => [ref, pilotStatus(byId.get(id))]));
}

export async function pilotInfos(ctx: CeContext): Promise<PilotInfo[]> {
  return (await listOwnNodes(ctx)).map((n) => ({
    ref: toReference(n.id), name: n.name, status: pilotStatus(n), cloudState: n.cloudState,
    createdAt: n.createdAt.toISOString(), queue: n.metadata[QUEUE_KEY] ?? "", stamp: n.metadata["cloudce-stamp"] ?? "",
  }));
}

export function countNodes(nodes: readonly CloudNode[], submitted: number): CEStatusCounts {
  return {
    SubmittedJobs: submitted,
    RunningJobs: nodes.filter((n) => n.state === "running" || n.state === "suspended" || n.state === "stopping").length,
    WaitingJobs: nodes.filter((n) => n.state === "booting").length,
  };
}

/**
 * Free slots by DIRAC's base-class rule, capped by what the cloud project can
 * still start, and none while the newest VM is younger than `Submit_WaveDelay`.
 */
export async function availableSlots(ctx: CeContext, submitted: number): Promise<Ok<number, CEStatusCounts & { CEInfoDict: CEInfoDict }>> {
  const { settings } = ctx;
  // Independent calls: one round trip, not two.
  const [nodes, capacity] = await Promise.all([listOwnNodes(ctx), cloudCapacity(ctx)]);
  const newest = Math.max(0, ...nodes.map((n) => n.createdAt.getTime()));
  const inWaveDelay = settings.waveDelay > 0 && Date.now() - newest < settings.waveDelay * 1000;
  return computeAvailable(countNodes(nodes, submitted), settings, inWaveDelay ? 0 : capacity);
}
