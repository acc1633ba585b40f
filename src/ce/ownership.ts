/**
 * How a CE recognises its own VMs: the name prefix AND the CE name in the
 * VM's metadata/tags. Two CEs sharing one cloud project (even with the same
 * prefix) never see each other's VMs.
 *
 * `Ownership_AdoptUntagged = yes` adds DIRAC's CloudCE rule for VMs that carry
 * no cloudce owner tag at all: the name prefix alone makes them this CE's.
 * That is the migration path from DIRAC's CloudCE, whose `VMDIRAC3_…` VMs are
 * untagged; a VM tagged for another cloudce CE is never adopted.
 */

import type { CloudNode, NodeFilter } from "../drivers/driver.js";
import type { CeSettings } from "./ce-options.js";

export const OWNER_KEY = "cloudce-ce";
export const QUEUE_KEY = "cloudce-queue";
/** One value per submitJob call: finds the VMs of a create whose answer was lost. */
export const BATCH_KEY = "cloudce-batch";
export const STAMP_KEY = "cloudce-stamp";
/** On a uniform batch: each VM's stamp is derived from this seed and the VM's id. */
export const STAMP_SEED_KEY = "cloudce-stamp-seed";
/**
 * The creating queue's Context_MaxLifetime and Cleanup_MinLifetime (seconds):
 * another queue's cleanup judges the VM by its own queue's options.
 */
export const LIFETIME_KEY = "cloudce-lifetime";
export const KEEP_KEY = "cloudce-keep";

type OwnerSettings = Pick<CeSettings, "ceName" | "namePrefix" | "adoptUntagged">;

export function ownerMetadata(
  settings: Pick<CeSettings, "ceName" | "queue" | "maxLifetime" | "cleanupMinLifetime">,
): Record<string, string> {
  return {
    [OWNER_KEY]: settings.ceName,
    [QUEUE_KEY]: settings.queue,
    [LIFETIME_KEY]: String(settings.maxLifetime),
    [KEEP_KEY]: String(settings.cleanupMinLifetime),
  };
}

/**
 * Whether a VM of this CE is this queue's (the CE object's). A VM with our
 * owner tag but no queue tag is no queue's; a VM adopted without any cloudce
 * tag (`Ownership_AdoptUntagged`) is every queue's, as it was for DIRAC's CloudCE.
 */
export function inQueue(settings: Pick<CeSettings, "queue" | "adoptUntagged">, node: CloudNode): boolean {
  if (settings.adoptUntagged && node.metadata[OWNER_KEY] === undefined) return true;
  return node.metadata[QUEUE_KEY] === settings.queue;
}

/**
 * The listing filter for this CE (all queues of the CE: the CE is the unit of
 * ownership). When adopting untagged VMs the cloud lists by prefix only, and
 * {@link ownsNode} decides.
 */
export function ownerFilter(settings: OwnerSettings): NodeFilter {
  const owner = { [OWNER_KEY]: settings.ceName };
  // Listing by prefix alone, the owner must still read back where the cloud keeps it only hashed.
  return settings.adoptUntagged
    ? { namePrefix: settings.namePrefix, metadata: {}, recognise: owner }
    : { namePrefix: settings.namePrefix, metadata: owner };
}

/** Whether a listed VM is this CE's: tagged for it, or (when adopting) untagged with its prefix. */
export function ownsNode(settings: OwnerSettings, node: CloudNode): boolean {
  if (!node.name.startsWith(settings.namePrefix)) return false;
  const owner = node.metadata[OWNER_KEY];
  return owner === settings.ceName || (settings.adoptUntagged && owner === undefined);
}
