import { createHash, randomBytes } from "node:crypto";

/** A fresh pilot stamp: 32 hex characters, as DIRAC's are. */
export function newStamp(): string {
  return randomBytes(16).toString("hex");
}

/**
 * The stamp of a VM created in a uniform batch (one user-data for many VMs):
 * derived from a per-batch seed and the instance id, so the VM computes the
 * same value at boot (`sha256sum` of "seed:instance-id", first 32 hex).
 */
export function deriveStamp(seed: string, instanceId: string): string {
  return createHash("sha256").update(`${seed}:${instanceId}`).digest("hex").slice(0, 32);
}
