/**
 * Pilot submission: N pilots → N VMs. All user-data is rendered and
 * size-checked (`planSubmission`) before the first cloud call, so an
 * oversized template costs nothing. Drivers that create a batch in one call
 * get one request; the others get one request per VM, run concurrently within
 * the CE's bound. Every create is journaled as it settles, a create refused
 * because a cached image/flavor/network id went stale is tried once more with
 * a fresh resolution, and VMs whose create answer was lost are recovered by
 * their batch tag (submit-recovery.ts).
 */

import type { ContextRenderer } from "../context/index.js";
import type { CloudceError } from "../errors.js";
import type { CloudDriver, CloudNode } from "../drivers/driver.js";
import type { Logger } from "../log.js";
import { mapConcurrentUntil } from "../util/pool.js";
import type { Audit } from "./audit.js";
import type { CeSettings } from "./ce-options.js";
import { StaleRetry } from "./create-outcome.js";
import type { DriverRuntime } from "./driver-runtime.js";
import { type StopControl, scopedStop } from "./interrupt.js";
import type { ResolvedResources } from "./resource-resolver.js";
import { recoverLostCreates } from "./submit-recovery.js";
import { Run } from "./submit-run.js";
import type { SubmissionPlan } from "./submit-plan.js";

export interface SubmittedPilot {
  readonly ref: string;
  readonly name: string;
  readonly stamp: string;
  readonly node: CloudNode;
}

export interface SubmissionFailure {
  /** The VM name that could not be created. */
  readonly name: string;
  readonly error: CloudceError;
}

export interface SubmissionOutcome {
  readonly pilots: readonly SubmittedPilot[];
  readonly failures: readonly SubmissionFailure[];
  /** Pilots whose create was never started because the caller stopped the submission. */
  readonly notStarted: number;
  /** Creates abandoned in flight (their VMs, if any, are journaled when the answer comes). */
  readonly abandoned: number;
}

export interface SubmissionInput {
  readonly settings: CeSettings;
  readonly runtime: DriverRuntime;
  readonly driver: CloudDriver;
  readonly renderer: ContextRenderer;
  readonly executable: string;
  readonly count: number;
  readonly logger: Logger;
  readonly audit: Audit;
  readonly stop: StopControl;
  /** Further metadata for every VM of this call (the flavor it gets), added to the planned specs. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** References this call already returned (earlier fallback rounds): never recovered again. */
  readonly known?: ReadonlySet<string>;
}

/** A fresh resolution of the image, flavor and network ids, past the cache. */
export type Resolve = () => Promise<ResolvedResources>;

export { Run } from "./submit-run.js";
export { planSubmission, type PilotIdentity, type PreparedPilot, type SubmissionPlan } from "./submit-plan.js";

export async function submitPilots(
  input: SubmissionInput,
  plan: SubmissionPlan,
  resources: ResolvedResources,
  resolve: Resolve,
): Promise<SubmissionOutcome> {
  const concurrency = plan.uniform ? 1 : input.settings.submitConcurrency;
  const { stop, end } = scopedStop(input.stop);
  const scoped: SubmissionInput = { ...input, stop };
  // Ends the creates not started yet: the caller's stop, or the first certain quota or capacity refusal.
  const halt = new AbortController();
  const onStop = (): void => halt.abort();
  stop.signal?.addEventListener("abort", onStop, { once: true });
  if (stop.signal?.aborted) halt.abort();
  const run = new Run(scoped, plan, () => halt.abort());
  const stale = new StaleRetry(resources, resolve);
  const requests = plan.uniform ? [input.count] : Array.from({ length: input.count }, () => 1);
  try {
    const settled = await mapConcurrentUntil(
      requests,
      concurrency,
      (count) => run.create(plan.next(), count, stale),
      halt.signal,
    );
    const notTried = settled.reduce((n, s, i) => (s === undefined ? n + requests[i]! : n), 0);
    const notSent = settled.reduce(
      (n, s, i) => (s?.status === "fulfilled" && s.value === "not-sent" ? n + requests[i]! : n),
      0,
    );
    const byQuota = input.stop.signal?.aborted !== true && run.exhausted !== undefined ? notTried : 0;
    if (byQuota > 0) run.notTried(byQuota);
    await recoverLostCreates(run, scoped, plan);
    // Copies: an abandoned create that answers later adds to the run, never to what was returned.
    return {
      pilots: [...run.pilots],
      failures: [...run.failures],
      notStarted: notTried - byQuota + notSent + run.notSent,
      abandoned: run.abandoned,
    };
  } finally {
    stop.signal?.removeEventListener("abort", onStop);
    end();
  }
}
