/**
 * GCE instance statuses → normalised node states, and instances → CloudNodes.
 *
 * TERMINATED is a VM that powered off (the pilot finished): still billed for
 * its disk, so it reads `stopped` (DIRAC: Done) and cleanup removes it. A
 * spot VM that GCE preempted is TERMINATED too; the driver marks it
 * interrupted (DIRAC: Aborted) from the zone's preemption operations.
 */

import type { CloudNode, NodeState } from "../driver.js";
import { fromLabels } from "./names.js";

export const NODE_STATE_MAP: Readonly<Record<string, NodeState>> = {
  PROVISIONING: "booting",
  STAGING: "booting",
  RUNNING: "running",
  // Being repaired by GCE; the pilot may well go on afterwards.
  REPAIRING: "running",
  STOPPING: "stopping",
  PENDING_STOP: "stopping",
  // Suspended by an operator: frozen, resumes where it was; never cleaned up as done.
  SUSPENDING: "suspended",
  SUSPENDED: "suspended",
  TERMINATED: "stopped",
};

/** The parts of a Compute v1 Instance the driver reads. */
export interface GceInstance {
  readonly id: string;
  readonly name: string;
  readonly zone?: string;
  readonly status?: string;
  readonly creationTimestamp?: string;
  /** When it last started running, and last stopped (RFC 3339). */
  readonly lastStartTimestamp?: string;
  readonly lastStopTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly metadata?: { readonly items?: readonly { readonly key: string; readonly value?: string }[] };
  readonly scheduling?: { readonly provisioningModel?: string; readonly preemptible?: boolean };
}

/** `zones/europe-west1-b` or a full zone URL → `europe-west1-b`. */
export function zoneName(zone: string | undefined): string {
  return (zone ?? "").split("/").pop() ?? "";
}

export function isSpot(instance: GceInstance): boolean {
  return instance.scheduling?.provisioningModel === "SPOT" || instance.scheduling?.preemptible === true;
}

/**
 * `known`: metadata values the caller already has (a listing's filter, a
 * batch's spec), used like metadata items: for labels that encode them.
 */
export function toCloudNode(
  instance: GceInstance,
  preempted: ReadonlySet<string> = new Set(),
  known: Readonly<Record<string, string>> = {},
): CloudNode {
  const cloudState = instance.status ?? "unknown";
  const items = {
    ...Object.fromEntries((instance.metadata?.items ?? []).map((i) => [i.key, i.value ?? ""])),
    ...known,
  };
  const interrupted = preempted.has(instance.id) && cloudState !== "RUNNING";
  const state = NODE_STATE_MAP[cloudState] ?? "unknown";
  const launchedAt = time(instance.lastStartTimestamp);
  const stoppedAt = state === "stopped" ? time(instance.lastStopTimestamp) : undefined;
  return {
    id: instance.id,
    name: instance.name,
    state,
    cloudState,
    createdAt: instance.creationTimestamp ? new Date(instance.creationTimestamp) : new Date(0),
    metadata: fromLabels(instance.labels ?? {}, items),
    ...(interrupted ? { interrupted } : {}),
    ...(launchedAt ? { launchedAt } : {}),
    ...(stoppedAt ? { stoppedAt } : {}),
  };
}

function time(text: string | undefined): Date | undefined {
  const t = text ? new Date(text) : undefined;
  return t && !Number.isNaN(t.getTime()) ? t : undefined;
}
