/**
 * Nova server status → cloudce node state. Nova's `status` is derived from
 * vm_state and task_state; the task state refines it where the CE cares
 * (a server being deleted is gone for the CE, one powering off is stopping).
 */

import type { CloudNode, NodeFault, NodeState } from "../driver.js";

const NOVA_STATE_MAP: Readonly<Record<string, NodeState>> = {
  BUILD: "booting",
  REBUILD: "booting",
  ACTIVE: "running",
  REBOOT: "running",
  HARD_REBOOT: "running",
  PASSWORD: "running",
  MIGRATING: "running",
  RESIZE: "running",
  VERIFY_RESIZE: "running",
  REVERT_RESIZE: "running",
  RESCUE: "running",
  SHUTOFF: "stopped",
  STOPPED: "stopped",
  // An operator froze the VM; it resumes later with the pilot still in it.
  PAUSED: "suspended",
  SUSPENDED: "suspended",
  SHELVED: "suspended",
  SHELVED_OFFLOADED: "suspended",
  ERROR: "error",
  DELETED: "gone",
  SOFT_DELETED: "gone",
  UNKNOWN: "unknown",
};

/** Task states that override the status. */
const TASK_STATE_MAP: Readonly<Record<string, NodeState>> = {
  deleting: "gone",
  "soft-deleting": "gone",
  "powering-off": "stopping",
};

/** A server as Nova's `GET /servers/detail` returns it (the fields we read). */
export interface NovaServer {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly created?: string;
  /** Last change of the server: for a SHUTOFF server, when it powered off. */
  readonly updated?: string;
  /** When the server first ran (Nova writes no time zone: it is UTC); null before. */
  readonly "OS-SRV-USG:launched_at"?: string | null;
  /** Why an ERROR server failed. */
  readonly fault?: { readonly code?: number; readonly message?: string };
  readonly metadata?: Record<string, string>;
  readonly "OS-EXT-STS:task_state"?: string | null;
  readonly "OS-EXT-STS:vm_state"?: string;
}

export function nodeState(status: string, taskState?: string | null): NodeState {
  if (taskState && TASK_STATE_MAP[taskState]) return TASK_STATE_MAP[taskState];
  return NOVA_STATE_MAP[status.toUpperCase()] ?? "unknown";
}

/** Nova's fault for a server the scheduler found no host for: lack of capacity. */
const NO_VALID_HOST = /no valid host/i;

export function toCloudNode(server: NovaServer): CloudNode {
  const task = server["OS-EXT-STS:task_state"];
  const created = server.created ? new Date(server.created) : new Date();
  const state = nodeState(server.status, task);
  const launchedAt = novaTime(server["OS-SRV-USG:launched_at"]);
  const stoppedAt = state === "stopped" ? novaTime(server.updated) : undefined;
  const fault = state === "error" ? nodeFault(server.fault) : undefined;
  return {
    id: server.id,
    name: server.name,
    state,
    cloudState: task ? `${server.status}(${task})` : server.status,
    createdAt: Number.isNaN(created.getTime()) ? new Date() : created,
    metadata: { ...server.metadata },
    ...(launchedAt ? { launchedAt } : {}),
    ...(stoppedAt ? { stoppedAt } : {}),
    ...(fault ? { fault } : {}),
  };
}

/** A Nova time; `launched_at` comes without a zone (`2026-06-01T12:00:00.000000`) and is UTC. */
export function novaTime(value: string | null | undefined): Date | undefined {
  if (!value) return undefined;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  const t = new Date(zoned);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

function nodeFault(fault: NovaServer["fault"]): NodeFault | undefined {
  const message = fault?.message?.trim();
  if (!message) return undefined;
  return { code: NO_VALID_HOST.test(message) ? "CapacityExceeded" : "CloudError", message: message.slice(0, 200) };
}
