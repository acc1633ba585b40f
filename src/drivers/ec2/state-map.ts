/** EC2 instance states → normalised node states, and SDK instances → CloudNodes. */

import type { Instance } from "@aws-sdk/client-ec2";
import type { CloudNode, NodeState } from "../driver.js";

export const NODE_STATE_MAP: Readonly<Record<string, NodeState>> = {
  pending: "booting",
  running: "running",
  stopping: "stopping",
  "shutting-down": "stopping",
  stopped: "stopped",
  terminated: "gone",
};

/** State reasons with which EC2 reclaims a spot instance (terminated, or stopped/hibernated by interruption behaviour). */
const SPOT_INTERRUPTIONS = new Set(["Server.SpotInstanceTermination", "Server.SpotInstanceShutdown"]);

/**
 * True when the cloud, not the pilot or the CE, ended a spot instance: the
 * pilot did not finish, so the CE reports it Aborted rather than Done.
 */
export function wasInterrupted(instance: Instance): boolean {
  const reason = instance.StateReason?.Code ?? "";
  if (SPOT_INTERRUPTIONS.has(reason)) return true;
  const ended = ["shutting-down", "terminated", "stopping", "stopped"].includes(instance.State?.Name ?? "");
  return instance.InstanceLifecycle === "spot" && ended && reason.startsWith("Server.");
}

/**
 * True when the guest powered itself off and EC2 terminated it for that
 * (shutdown behaviour terminate): the pilot finished, so the CE reports Done,
 * not Deleted as for an instance cloudce terminated (Client.UserInitiatedShutdown).
 */
function finishedByItself(instance: Instance): boolean {
  const ended = ["shutting-down", "terminated"].includes(instance.State?.Name ?? "");
  return ended && instance.StateReason?.Code === "Client.InstanceInitiatedShutdown";
}

export function tagsOf(instance: Instance): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of instance.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? "";
  return tags;
}

/** The node of an instance: its Name tag is its name, the other tags its metadata. */
export function toCloudNode(instance: Instance): CloudNode {
  const cloudState = instance.State?.Name ?? "unknown";
  const { Name: name, ...metadata } = tagsOf(instance);
  const interrupted = wasInterrupted(instance);
  const finished = !interrupted && finishedByItself(instance) && instance.State?.Name === "terminated";
  return {
    id: instance.InstanceId ?? "",
    name: name ?? "",
    state: NODE_STATE_MAP[cloudState] ?? "unknown",
    cloudState,
    createdAt: instance.LaunchTime ?? new Date(0),
    metadata,
    ...(interrupted ? { interrupted } : {}),
    ...(instance.LaunchTime && cloudState !== "pending" ? { launchedAt: instance.LaunchTime } : {}),
    ...(NODE_STATE_MAP[cloudState] === "stopped" || finished ? stoppedAt(instance) : {}),
    ...(finished ? { finished } : {}),
  };
}

/**
 * EC2 gives a stop's time only inside `StateTransitionReason`:
 * "User initiated (2026-06-01 12:00:00 GMT)", to the second.
 */
export function transitionTime(reason: string | undefined): Date | undefined {
  const m = /\((\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) GMT\)/.exec(reason ?? "");
  return m ? new Date(`${m[1]}T${m[2]}Z`) : undefined;
}

/** The stop time of a stopped instance, or of one terminated because its guest powered off. */
function stoppedAt(instance: Instance): { stoppedAt?: Date } {
  const at = transitionTime(instance.StateTransitionReason);
  return at ? { stoppedAt: at } : {};
}
