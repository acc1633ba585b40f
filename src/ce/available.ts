/**
 * DIRAC's base-class slot rule (ComputingElement.available): no slot once
 * running + waiting reach MaxTotalJobs or waiting reaches MaxWaitingJobs;
 * otherwise fill waiting up to MaxWaitingJobs within MaxTotalJobs. On top of
 * it, never offer more than the cloud project can still start.
 */

import type { CeSettings } from "./ce-options.js";
import { S_OK, type CEInfoDict, type CEStatusCounts, type Ok } from "./results.js";
import { definedProps } from "../util/defined.js";

export function computeAvailable(
  status: CEStatusCounts,
  settings: Pick<CeSettings, "maxTotalJobs" | "maxWaitingJobs">,
  cloudCapacity: number | undefined,
): Ok<number, CEStatusCounts & { CEInfoDict: CEInfoDict }> {
  const { RunningJobs: running, WaitingJobs: waiting } = status;
  const ceInfo: CEInfoDict = {
    ...status,
    MaxTotalJobs: settings.maxTotalJobs,
    MaxWaitingJobs: settings.maxWaitingJobs,
    ...definedProps({ CloudCapacity: cloudCapacity }),
  };
  const total = running + waiting;
  let slots = 0;
  if (total < settings.maxTotalJobs && waiting < settings.maxWaitingJobs) {
    slots = Math.min(settings.maxWaitingJobs - waiting, settings.maxTotalJobs - total);
  }
  if (cloudCapacity !== undefined) slots = Math.min(slots, cloudCapacity);
  return S_OK(slots, { ...status, CEInfoDict: ceInfo });
}
