/**
 * Flavor fallback. `Instance_Flavor` is a list in order of preference; a
 * submission starts with the first available offering. Creates that fail for
 * lack of capacity mark that offering unavailable, and the same submission
 * goes on with the next flavor for as many pilots as were refused. Every VM carries the flavor entry it got (metadata
 * `cloudce-flavor`). Once the caller stops the submission, nothing falls back.
 */

import { CloudceError, toCloudceError } from "../errors.js";
import type { CeContext } from "./ce-context.js";
import { withinGrace } from "./interrupt.js";
import { FLAVOR_KEY, flavorLabel, isCapacityError } from "./offering-policy.js";
import type { PolicyDecision } from "./policy-decisions.js";
import type { ResolvedResources } from "./resource-resolver.js";
import {
  submitPilots,
  type SubmissionFailure,
  type SubmissionInput,
  type SubmissionOutcome,
  type SubmissionPlan,
  type SubmittedPilot,
} from "./submit.js";

export async function submitWithFallback(
  ctx: CeContext,
  input: SubmissionInput,
  plan: SubmissionPlan,
): Promise<SubmissionOutcome> {
  const { policies, resolver, settings } = ctx;
  policies.health.assertClosed();
  const flavors = policies.availableFlavors();
  if (flavors.length === 0) {
    const marked = policies.offerings.unavailable(ctx.now()).map((u) => `${u.offering} until ${u.until.toISOString()}`);
    throw new CloudceError(
      "CapacityExceeded",
      `Instance_Flavor: every offering lacks capacity now (${marked.join(", ")}); no VM was requested. Add a flavor or wait for Offering_CacheSeconds`,
    );
  }
  // By reference: a VM recovered by its batch tag in a later round is not counted twice.
  const pilots = new Map<string, SubmittedPilot>();
  const failures: SubmissionFailure[] = [];
  let notStarted = 0;
  let abandoned = 0;
  let round = { plan, count: input.count };
  for (const [i, entry] of flavors.entries()) {
    const spec = { ...settings, flavor: entry };
    let resources: ResolvedResources;
    try {
      // A stop while resolving leaves it only the shared grace (interrupt.ts), like every cloud call after a stop.
      // Resolving changes nothing on the cloud: after a stop it is not waited for (a hung login included).
      const r = await withinGrace(resolver.resolve(input.driver, spec), { ...input.stop, graceMs: 0 });
      if (!r.answered)
        throw new CloudceError(
          "Timeout",
          `interrupted while resolving flavor ${flavorLabel(entry)}: no VM was requested for it`,
        );
      resources = r.value;
    } catch (err) {
      // Pilots created with an earlier flavor must still come back: report, do not throw.
      if (i === 0) throw err;
      failures.push({ name: `(${round.count} pilots for flavor ${flavorLabel(entry)})`, error: toCloudceError(err) });
      break;
    }
    const renew = (): ReturnType<typeof resolver.resolve> => {
      resolver.invalidate();
      return resolver.resolve(input.driver, spec);
    };
    const outcome = await submitPilots(
      { ...input, count: round.count, metadata: { [FLAVOR_KEY]: flavorLabel(entry) }, known: new Set(pilots.keys()) },
      round.plan,
      resources,
      renew,
    );
    for (const p of outcome.pilots) pilots.set(p.ref, p);
    notStarted += outcome.notStarted;
    abandoned += outcome.abandoned;
    const refused = outcome.failures.filter((f) => isCapacityError(f.error));
    failures.push(...outcome.failures.filter((f) => !isCapacityError(f.error)));
    const next = flavors[i + 1];
    if (refused.length > 0)
      await policies.decide(
        decisions(ctx, entry, input.stop.signal?.aborted ? undefined : next, refused.length, refused[0]!.error.message),
      );
    if (refused.length === 0 || next === undefined || input.stop.signal?.aborted) {
      failures.push(...refused);
      break;
    }
    // The refused pilots made no VM: the next flavor gets as many fresh ones from the same plan.
    round = { plan, count: refused.length };
  }
  return { pilots: [...pilots.values()], failures, notStarted, abandoned };
}

function decisions(
  ctx: CeContext,
  entry: string,
  next: string | undefined,
  count: number,
  reason: string,
): PolicyDecision[] {
  const out: PolicyDecision[] = [];
  const marked = ctx.policies.offerings.markUnavailable(ctx.policies.offering(entry), reason, ctx.now());
  if (marked) out.push(marked);
  if (next !== undefined)
    out.push({
      decision: "fallback",
      detail: `${count} pilot${count === 1 ? "" : "s"} from flavor ${flavorLabel(entry)} to ${flavorLabel(next)}: ${reason}`,
    });
  return out;
}
