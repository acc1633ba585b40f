/** The state of one submission: each create as it settles, journaled, retried once past stale ids. */

import { deriveStamp } from "../context/index.js";
import { CloudceError, toCloudceError, withMessage } from "../errors.js";
import type { CloudNode, CreateNodesResult } from "../drivers/driver.js";
import { NotSent } from "./adaptive-limit.js";
import { EXHAUSTED_CODES, createRequest, isUncertain, sameIds, staleOf, type StaleRetry } from "./create-outcome.js";
import { withinGrace } from "./interrupt.js";
import { FLAVOR_KEY } from "./offering-policy.js";
import { toReference } from "./pilot-reference.js";
import { redactUserData } from "./redact.js";
import type { ResolvedResources } from "./resource-resolver.js";
import type { SubmissionFailure, SubmissionInput, SubmittedPilot } from "./submit.js";
import type { PilotIdentity, PreparedPilot, SubmissionPlan } from "./submit-plan.js";

/** What was created or failed so far in one submission, each journaled as it happens. */
export class Run {
  readonly pilots: SubmittedPilot[] = [];
  readonly failures: SubmissionFailure[] = [];
  /** Failures whose create may have reached the cloud (the answer was lost or abandoned). */
  readonly uncertain: SubmissionFailure[] = [];
  abandoned = 0;
  /** Pilots whose create the driver never sent because the stop came first. */
  notSent = 0;
  /** The first certain quota or capacity refusal: no further create of this round starts. */
  exhausted: CloudceError | undefined;
  /** Pilots whose create started, by VM name (what a VM found by its tags is matched to). */
  readonly started = new Map<string, PilotIdentity>();

  constructor(
    readonly input: SubmissionInput,
    readonly plan: SubmissionPlan,
    private readonly onExhausted: () => void = () => undefined,
  ) {}

  /** Pilots left untried after the quota or capacity ran out: failures with that error, said in one line. */
  notTried(count: number): void {
    const error = this.exhausted!;
    const failure = { name: `(${count} not tried)`, error };
    this.failures.push(...Array.from({ length: count }, () => failure));
    this.input.logger.warn(`${count} remaining creates not tried: the cloud refused one for quota or capacity`, {
      code: error.code,
      reason: error.message,
    });
  }

  private noteExhaustion(failures: readonly SubmissionFailure[]): void {
    const first = failures.find((f) => EXHAUSTED_CODES.has(f.error.code));
    if (!first || this.exhausted) return;
    this.exhausted = first.error;
    this.onExhausted();
  }

  /** One create request; "not-sent" when the caller stopped before it went out. */
  async create(pilot: PreparedPilot, count: number, stale: StaleRetry): Promise<"sent" | "not-sent"> {
    this.started.set(pilot.name, { name: pilot.name, stamp: pilot.stamp });
    const outcome = await this.attempt(pilot, count, stale.first);
    if (outcome === "not-sent") return "not-sent";
    if (outcome !== "abandoned") await this.retryStaleOrSettle(pilot, count, stale, outcome);
    return "sent";
  }

  /** A create that failed on a cached id the cloud no longer has is tried once more with fresh ids. */
  private async retryStaleOrSettle(
    pilot: PreparedPilot,
    count: number,
    stale: StaleRetry,
    first: CreateNodesResult | Error,
  ): Promise<void> {
    const resources = stale.first;
    let outcome = first;
    const staleError = staleOf(outcome);
    if (staleError && this.input.stop.signal?.aborted !== true) {
      // Bounded like a create: a stop while it resolves leaves it no more than the shared grace.
      const renewed = await withinGrace(stale.renew(), this.input.stop).catch((err: unknown) => err as Error);
      if (renewed instanceof Error) return this.fail(pilot, count, renewed);
      if (!renewed.answered)
        return this.fail(
          pilot,
          count,
          new CloudceError(
            "Timeout",
            `interrupted while resolving the image, flavor and networks again for ${pilot.name}: no VM was requested`,
          ),
        );
      const fresh = renewed.value;
      if (!sameIds(fresh, resources)) {
        this.input.logger.warn("a create found a cached resource id gone: resolved again", {
          vm: pilot.name,
          reason: staleError.message,
        });
        const again = await this.attempt(pilot, count, fresh);
        if (again === "abandoned") return;
        // Stopped before the second try went out: the first one's failure stands.
        if (again !== "not-sent") outcome = again;
      }
    }
    await this.settle(pilot, count, outcome);
  }

  /**
   * One create call, bounded by the stop control; an abandoned call is
   * journaled when it answers. A create of one VM cannot be batched: it
   * keeps to the endpoint's adaptive concurrency limit.
   */
  private async attempt(
    pilot: PreparedPilot,
    count: number,
    resources: ResolvedResources,
  ): Promise<CreateNodesResult | Error | "abandoned" | "not-sent"> {
    const request = createRequest(
      this.input,
      resources,
      Array.from({ length: count }, () => pilot.spec),
    );
    const { runtime, stop } = this.input;
    const call = this.plan.uniform
      ? runtime.call((d) => d.createNodes(request))
      : runtime.limited("create", (d) => d.createNodes(request), stop.signal);
    try {
      const r = await withinGrace(call, stop);
      if (r.answered) return r.value;
    } catch (err) {
      if (err instanceof NotSent) return "not-sent";
      return err instanceof Error ? err : new Error(String(err));
    }
    this.abandoned += count;
    const error = new CloudceError(
      "Timeout",
      `abandoned: submission interrupted while the cloud was creating ${pilot.name}; if the VM exists it carries this CE's tags, so cleanup finds it`,
    );
    this.uncertain.push({ name: pilot.name, error });
    await this.recordFailures([{ name: pilot.name, error }]);
    void call.then(
      (late) => this.settle(pilot, count, late, "submit (answered after the interruption)"),
      () => undefined,
    );
    return "abandoned";
  }

  private async settle(
    pilot: PreparedPilot,
    count: number,
    outcome: CreateNodesResult | Error,
    reason = "submit",
  ): Promise<void> {
    if (outcome instanceof Error) return this.fail(pilot, count, outcome);
    await this.accept(
      outcome.created.map((node) => this.submitted(pilot, node)),
      reason,
    );
    const sent = outcome.failed.filter((f) => f.notSent !== true);
    this.notSent += outcome.failed.length - sent.length;
    const failures = sent.map((f) => this.failure(f.target, f.error, pilot));
    this.failures.push(...failures);
    this.noteExhaustion(failures);
    this.uncertain.push(...failures.filter(isUncertain));
    await this.recordFailures(failures);
  }

  private async fail(pilot: PreparedPilot, count: number, err: Error): Promise<void> {
    const failure = this.failure(pilot.name, err, pilot);
    const failures = Array.from({ length: count }, () => failure);
    this.failures.push(...failures);
    this.noteExhaustion([failure]);
    if (isUncertain(failure)) this.uncertain.push(...failures);
    await this.recordFailures([failure]);
  }

  /** Adds created pilots (skipping any already known) and journals them. */
  async accept(pilots: readonly SubmittedPilot[], reason: string): Promise<void> {
    const known = new Set(this.pilots.map((p) => p.ref));
    const fresh = pilots.filter((p) => !known.has(p.ref));
    this.pilots.push(...fresh);
    for (const p of fresh)
      this.input.logger.info("pilot VM created", {
        ref: p.ref,
        vm: p.name,
        stamp: p.stamp,
        ...(reason === "submit" ? {} : { how: reason }),
      });
    const withFlavor = (p: SubmittedPilot): string =>
      p.node.metadata[FLAVOR_KEY] ? `${reason}: flavor ${p.node.metadata[FLAVOR_KEY]}` : reason;
    await this.input.audit.record(
      fresh.map((p) => ({
        ref: p.ref,
        vmName: p.name,
        stamp: p.stamp,
        action: "create" as const,
        outcome: "ok" as const,
        reason: withFlavor(p),
      })),
    );
  }

  submitted(pilot: PilotIdentity, node: CloudNode): SubmittedPilot {
    const stamp = "literal" in pilot.stamp ? pilot.stamp.literal : deriveStamp(pilot.stamp.derivedFromSeed, node.id);
    return { ref: toReference(node.id), name: node.name || pilot.name, stamp, node };
  }

  private recordFailures(failures: readonly SubmissionFailure[]): Promise<void> {
    return this.input.audit.record(
      failures.map((f) => ({
        ref: "",
        vmName: f.name,
        action: "create" as const,
        outcome: "failed" as const,
        reason: f.error.message,
        code: f.error.code,
      })),
    );
  }

  private failure(target: string, err: unknown, pilot: PreparedPilot): SubmissionFailure {
    const raw = toCloudceError(err, "CloudError");
    const message = redactUserData(raw.message, { executable: this.input.executable, userData: pilot.spec.userData });
    const error = message === raw.message ? raw : withMessage(raw, message);
    this.input.logger.error("failed to create pilot VM", { vm: target, code: error.code, reason: error.message });
    return { name: target, error };
  }
}
