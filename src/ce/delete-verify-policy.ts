/**
 * Stuck deletes (`Delete_VerifySeconds`, 0 = off). Every VM that cleanup or
 * kill deleted is remembered; one the cloud still lists that long after is
 * deleted again (and again each period), counted and reported. A VM no
 * longer listed is forgotten. Within the period cleanup leaves it alone, so a
 * slow delete is not hammered. A CE that keeps a journal starts from the
 * deletes it records, so one-shot cleanups (cron) verify each other's work.
 */

import type { CloudNode } from "../drivers/driver.js";
import type { JournalEntry } from "../ops/journal.js";
import { parseReference } from "./pilot-reference.js";

interface PendingDelete {
  readonly name: string;
  readonly reason: string;
  deletedAt: number;
  attempts: number;
}

export interface DueDelete {
  readonly node: CloudNode;
  readonly reason: string;
  /** Repeated deletions, counting this one. */
  readonly attempts: number;
  /** Seconds since the last deletion. */
  readonly secondsSince: number;
}

export class DeleteVerifier {
  private readonly pending = new Map<string, PendingDelete>();

  constructor(private readonly seconds: number) {}

  /** Remembers deleted VMs (nothing while off). */
  deleted(
    vms: readonly { readonly id: string; readonly name: string; readonly reason: string }[],
    nowMs: number,
  ): void {
    if (this.seconds === 0) return;
    for (const vm of vms) {
      const known = this.pending.get(vm.id);
      if (known) known.deletedAt = nowMs;
      else this.pending.set(vm.id, { name: vm.name, reason: vm.reason, deletedAt: nowMs, attempts: 0 });
    }
  }

  /** Seeds the pending deletes from a journal: this CE's successful deletes, and the re-deletes since. */
  seed(entries: readonly JournalEntry[], ceName: string): void {
    if (this.seconds === 0) return;
    for (const e of entries) {
      if (e.ce !== ceName || e.outcome !== "ok" || !e.ref.startsWith("cloud://")) continue;
      const id = parseReference(e.ref);
      const at = Date.parse(e.time);
      if (e.action === "delete")
        this.pending.set(id, {
          name: e.vmName,
          reason: e.reason,
          deletedAt: at,
          attempts: this.pending.get(id)?.attempts ?? 0,
        });
      else if (e.action === "policy" && e.reason.startsWith("re-delete:")) this.redeleted(id, at);
    }
  }

  /**
   * Sorts a listing: VMs to delete again now, and ids still within their
   * verification period (to leave alone). Forgets VMs no longer listed.
   */
  review(nodes: readonly CloudNode[], nowMs: number): { due: DueDelete[]; waiting: Set<string> } {
    const due: DueDelete[] = [];
    const waiting = new Set<string>();
    const listed = new Set<string>();
    for (const node of nodes) {
      if (node.state === "gone") continue;
      listed.add(node.id);
      const p = this.pending.get(node.id);
      if (!p) continue;
      const since = nowMs - p.deletedAt;
      if (since >= this.seconds * 1000)
        due.push({ node, reason: p.reason, attempts: p.attempts + 1, secondsSince: Math.round(since / 1000) });
      else waiting.add(node.id);
    }
    for (const id of this.pending.keys()) if (!listed.has(id)) this.pending.delete(id);
    return { due, waiting };
  }

  /** Records a repeated deletion. */
  redeleted(id: string, nowMs: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.attempts += 1;
    p.deletedAt = nowMs;
  }
}
