/**
 * `available()` under the lifecycle policies. It never offers a slot while
 * the cloud's state is unknown (a failed listing, an open breaker), while
 * credentials have expired, during a fizzle backoff, or when every offering
 * lacks capacity, or when the cloud's limits cannot be read; each time it
 * says why, in the result and the log. It never returns an error: DIRAC v9
 * would then count slots itself and submit anyway. Otherwise
 * DIRAC's slot rule applies, with the quota of the first available offering
 * that has room (else the first).
 */

import type { CloudNode } from "../drivers/driver.js";
import { toCloudceError } from "../errors.js";
import { scrubSecrets } from "../secrets.js";
import { computeAvailable } from "./available.js";
import { cloudCapacity } from "./capacity.js";
import type { CeContext } from "./ce-context.js";
import type { CredentialAssessment } from "./credential-expiry-policy.js";
import { flavorLabel } from "./offering-policy.js";
import { policyInfo } from "./policy-info.js";
import { S_OK, type CEInfoDict, type CEStatusCounts, type Ok, type PolicyInfo } from "./results.js";
import { countNodes, listQueueNodes } from "./status.js";

export type AvailableResult = Ok<number, CEStatusCounts & { CEInfoDict: CEInfoDict & PolicyInfo }>;

export async function availableUnderPolicies(
  ctx: CeContext,
  submitted: number,
  credentials: CredentialAssessment,
): Promise<AvailableResult> {
  const { policies, settings } = ctx;
  const unknown: CEStatusCounts = { SubmittedJobs: submitted, RunningJobs: 0, WaitingJobs: 0 };
  if (credentials.expired) return noSlots(ctx, unknown, credentials, credentials.expired);
  let flavor = policies.availableFlavors()[0];
  // Listing and limits are independent calls: one round trip, not two; but
  // while the breaker is open neither may reach the cloud.
  const capacityOf = (f: string | undefined): Promise<number | undefined> =>
    f === undefined ? Promise.resolve(undefined) : cloudCapacity(ctx, f);
  const capacityCall = breakerClosed(ctx) ? capacityOf(flavor) : Promise.resolve(undefined);
  capacityCall.catch(() => undefined);
  let nodes: CloudNode[];
  try {
    nodes = await listQueueNodes(ctx);
  } catch (err) {
    return noSlots(ctx, unknown, credentials, `the state of the cloud is unknown: ${toCloudceError(err).message}`);
  }
  await policies.observe(nodes);
  const counts = countNodes(nodes, submitted);
  const backoff = policies.fizzle.active(policies.now());
  if (backoff) return noSlots(ctx, counts, credentials, backoff.reason);
  const still = policies.availableFlavors()[0];
  if (still === undefined) {
    return noSlots(
      ctx,
      counts,
      credentials,
      "every offering of Instance_Flavor lacks capacity now (see UnavailableOfferings); add a flavor or wait for Offering_CacheSeconds",
    );
  }
  let capacity: number | undefined;
  try {
    capacity = await capacityCall;
    if (still !== flavor) {
      flavor = still;
      capacity = await capacityOf(flavor);
    }
    // A flavor too big for the cores or RAM left must not hide a smaller one's room.
    for (const next of policies.availableFlavors().slice(1)) {
      if (capacity !== 0) break;
      const room = await capacityOf(next);
      if (room !== 0) [flavor, capacity] = [next, room];
    }
  } catch (err) {
    // An error here would let DIRAC fall back to its own counts and submit anyway.
    return noSlots(ctx, counts, credentials, `cannot read the cloud's limits: ${toCloudceError(err).message}`);
  }
  const newest = Math.max(0, ...nodes.map((n) => n.createdAt.getTime()));
  const inWaveDelay = settings.waveDelay > 0 && policies.now() - newest < settings.waveDelay * 1000;
  const result = computeAvailable(counts, settings, inWaveDelay ? 0 : capacity);
  const info = { ...result.CEInfoDict, ...policyInfo(policies, credentials), Offering: flavorLabel(flavor) };
  return { ...result, CEInfoDict: info };
}

function breakerClosed(ctx: CeContext): boolean {
  try {
    ctx.policies.health.assertClosed();
    return true;
  } catch {
    return false;
  }
}

function noSlots(
  ctx: CeContext,
  counts: CEStatusCounts,
  credentials: CredentialAssessment,
  reason: string,
): AvailableResult {
  // The reason is in the result (CEInfoDict.Reason), which the caller shows: a warning too would say it twice.
  ctx.log.info("available: no slots", { reason });
  const info = {
    ...counts,
    MaxTotalJobs: ctx.settings.maxTotalJobs,
    MaxWaitingJobs: ctx.settings.maxWaitingJobs,
    ...policyInfo(ctx.policies, credentials),
    Reason: scrubSecrets(reason),
  };
  return S_OK(0, { ...counts, CEInfoDict: info });
}
