/**
 * How a CE recognises its own VMs: the name prefix AND the CE name in the
 * VM's metadata/tags. Two CEs sharing one cloud project (even with the same
 * prefix) never see each other's VMs.
 */

import type { NodeFilter } from "../drivers/driver.js";
import type { CeSettings } from "./ce-options.js";

export const OWNER_KEY = "cloudce-ce";
export const QUEUE_KEY = "cloudce-queue";

export function ownerMetadata(settings: Pick<CeSettings, "ceName" | "queue">): Record<string, string> {
  return { [OWNER_KEY]: settings.ceName, [QUEUE_KEY]: settings.queue };
}

/** The listing filter for this CE (all queues of the CE: the CE is the unit of ownership). */
export function ownerFilter(settings: Pick<CeSettings, "ceName" | "namePrefix">): NodeFilter {
  return { namePrefix: settings.namePrefix, metadata: { [OWNER_KEY]: settings.ceName } };
}
