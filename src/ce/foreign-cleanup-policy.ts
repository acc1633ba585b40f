/**
 * Which VMs of the CE that are not this queue's (another queue's, or with no
 * queue tag) this queue's cleanup removes: only those its own queue's
 * cleanup could have removed `Cleanup_ForeignSeconds` ago, judged by the
 * options that queue gave the VM at creation (its `cloudce-lifetime` and
 * `cloudce-keep` tags; without them, this queue's Context_MaxLifetime and
 * no keep). So a queue's finished pilots are read Done by that queue first,
 * and the VMs of a queue removed from the configuration, or untagged, still
 * go (no leak).
 */

import type { CloudNode } from "../drivers/driver.js";
import type { CeSettings } from "./ce-options.js";
import { KEEP_KEY, LIFETIME_KEY, QUEUE_KEY, inQueue } from "./ownership.js";
import { toReference } from "./pilot-reference.js";
import type { CleanupEntry } from "./results.js";

type ForeignSettings = Pick<CeSettings, "queue" | "adoptUntagged" | "maxLifetime" | "cleanupForeignSeconds">;

export function selectForeign(nodes: readonly CloudNode[], settings: ForeignSettings, nowMs: number): CleanupEntry[] {
  const picked: CleanupEntry[] = [];
  for (const node of nodes) {
    if (inQueue(settings, node) || node.state === "gone") continue;
    const due = dueByOwnQueue(node, settings.maxLifetime);
    if (nowMs - due.atMs < settings.cleanupForeignSeconds * 1000) continue;
    picked.push({
      ref: toReference(node.id),
      name: node.name,
      reason: due.reason,
      queue: node.metadata[QUEUE_KEY] ?? "",
    });
  }
  return picked;
}

/** When the VM's own queue's cleanup would remove it at the latest, and why. */
function dueByOwnQueue(node: CloudNode, fallbackLifetime: number): { atMs: number; reason: CleanupEntry["reason"] } {
  const created = node.createdAt.getTime();
  const expiresAt = created + seconds(node.metadata[LIFETIME_KEY], fallbackLifetime) * 1000;
  const keptUntil = created + seconds(node.metadata[KEEP_KEY], 0) * 1000;
  if (node.state === "error") return earlier({ atMs: keptUntil, reason: "error" }, expiresAt);
  // A stopped VM whose stop time the cloud does not tell waits for its lifetime.
  if (node.state === "stopped" && node.stoppedAt)
    return earlier({ atMs: Math.max(keptUntil, node.stoppedAt.getTime()), reason: "stopped" }, expiresAt);
  return { atMs: expiresAt, reason: "expired" };
}

function earlier(
  due: { atMs: number; reason: CleanupEntry["reason"] },
  expiresAt: number,
): { atMs: number; reason: CleanupEntry["reason"] } {
  return due.atMs <= expiresAt ? due : { atMs: expiresAt, reason: "expired" };
}

/** A tag's whole seconds; anything else (absent, edited by hand) is the fallback. */
function seconds(tag: string | undefined, fallback: number): number {
  return tag !== undefined && /^\d{1,10}$/.test(tag) ? Number(tag) : fallback;
}
