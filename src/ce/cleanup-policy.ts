/**
 * Which of this CE's VMs cleanup removes, and why: stopped ones (the pilot
 * finished and powered off), ones in error, and any older than
 * `Context_MaxLifetime` (stuck or lost), as DIRAC does; and, beyond DIRAC,
 * ones still booting after `Instance_MaxBootSeconds`.
 */

import type { CloudNode } from "../drivers/driver.js";
import { bootTimedOut } from "./boot-timeout-policy.js";
import type { CleanupEntry } from "./results.js";
import { toReference } from "./pilot-reference.js";

export interface CleanupPolicy {
  /** Seconds after creation when any VM is removed. */
  readonly maxLifetime: number;
  /** Seconds after creation before a stopped or failed VM may be removed (0 = at once). */
  readonly minLifetime: number;
  /** Seconds after creation when a VM still booting is removed (0 = never). */
  readonly maxBootSeconds?: number;
}

export function selectForCleanup(nodes: readonly CloudNode[], policy: CleanupPolicy, now: Date): CleanupEntry[] {
  const picked: CleanupEntry[] = [];
  for (const node of nodes) {
    const reason = cleanupReason(node, policy, (now.getTime() - node.createdAt.getTime()) / 1000);
    if (reason) picked.push({ ref: toReference(node.id), name: node.name, reason });
  }
  return picked;
}

function cleanupReason(node: CloudNode, policy: CleanupPolicy, ageSeconds: number): CleanupEntry["reason"] | undefined {
  if (node.state === "gone") return undefined;
  if (ageSeconds > policy.maxLifetime) return "expired";
  if (bootTimedOut(node, policy.maxBootSeconds ?? 0, node.createdAt.getTime() + ageSeconds * 1000))
    return "boot-timeout";
  if (ageSeconds < policy.minLifetime) return undefined;
  if (node.state === "stopped") return "stopped";
  if (node.state === "error") return "error";
  return undefined;
}
