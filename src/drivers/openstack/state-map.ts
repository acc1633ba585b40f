/**
 * Nova server status → cloudce node state. Nova's `status` is derived from
 * vm_state and task_state; the task state refines it where the CE cares
 * (a server being deleted is gone for the CE, one powering off is stopping).
 */

import type { CloudNode, NodeState } from "../driver.js";

export const NOVA_STATE_MAP: Readonly<Record<string, NodeState>> = {
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
  readonly metadata?: Record<string, string>;
  readonly "OS-EXT-STS:task_state"?: string | null;
  readonly "OS-EXT-STS:vm_state"?: string;
}

export function nodeState(status: string, taskState?: string | null): NodeState {
  if (taskState && TASK_STATE_MAP[taskState]) return TASK_STATE_MAP[taskState];
  return NOVA_STATE_MAP[status.toUpperCase()] ?? "unknown";
}

export function toCloudNode(server: NovaServer): CloudNode {
  const task = server["OS-EXT-STS:task_state"];
  const created = server.created ? new Date(server.created) : new Date();
  return {
    id: server.id,
    name: server.name,
    state: nodeState(server.status, task),
    cloudState: task ? `${server.status}(${task})` : server.status,
    createdAt: Number.isNaN(created.getTime()) ? new Date() : created,
    metadata: { ...server.metadata },
  };
}
