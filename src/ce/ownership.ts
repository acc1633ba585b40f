/**
 * How a CE recognises its own VMs: the name prefix AND the CE name in the
 * VM's metadata/tags. Two CEs sharing one cloud project (even with the same
 * prefix) never see each other's VMs.
 */

import type { NodeFilter } from "../drivers/driver.js";
import type { CeSettings } from "./ce-options.js";

export const OWNER_KEY = "cloudce-ce";
export const QUEUE_KEY = "cloudce-queue";
/** One value per submitJob call: finds the VMs of a create whose answer was lost. */
export const BATCH_KEY = "cloudce-batch";
export const STAMP_KEY = "cloudce-stamp";
/** On a uniform batch: each VM's stamp is derived from this seed and the VM's id. */
export const STAMP_SEED_KEY = "cloudce-stamp-seed";

export function ownerMetadata(settings: Pick<CeSettings, "ceName" | "queue">): Record<string, string> {
  return { [OWNER_KEY]: settings.ceName, [QUEUE_KEY]: settings.queue };
}

/** The listing filter for this CE (all queues of the CE: the CE is the unit of ownership). */
export function ownerFilter(settings: Pick<CeSettings, "ceName" | "namePrefix">): NodeFilter {
  return { namePrefix: settings.namePrefix, metadata: { [OWNER_KEY]: settings.ceName } };
}
