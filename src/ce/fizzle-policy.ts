/**
 * Fizzle backoff. A VM fizzled when it stopped within `Fizzle_Seconds` of
 * starting (stop time minus launch time, as the driver reports them; the
 * creation time stands in for a VM that never reported a launch). The rule:
 * when the last `Fizzle_Count` VMs of this CE seen stopping, ordered by stop
 * time, all fizzled, `available()` offers no slot for `Backoff_Seconds`.
 * Those VMs are then used up: after the backoff, `Fizzle_Count` new fizzles
 * are needed to back off again. A VM the cloud removed because it powered
 * off (EC2's shutdown behaviour terminate: gone and finished) counts as
 * stopped; one deleted by anyone does not. A stopped VM without a stop time is not
 * judged (nothing is known). `Fizzle_Seconds = 0` turns the policy off.
 */

import type { CloudNode } from "../drivers/driver.js";
import type { PolicySettings } from "./ce-options.js";
import type { PolicyDecision } from "./policy-decisions.js";
import { toReference } from "./pilot-reference.js";

/** How many judged VM ids are remembered, so a VM still listed is never judged twice. */
const SEEN_LIMIT = 10_000;

export interface Backoff {
  readonly until: Date;
  readonly reason: string;
}

interface Judged {
  readonly stoppedAt: number;
  readonly fizzled: boolean;
}

export class FizzlePolicy {
  private readonly seen = new Set<string>();
  private recent: Judged[] = [];
  private backoff: Backoff | undefined;

  constructor(private readonly settings: Pick<PolicySettings, "fizzleSeconds" | "fizzleCount" | "backoffSeconds">) {}

  /** Judges newly stopped VMs; returns the decisions taken (fizzles, and a backoff if the rule fires). */
  observe(nodes: readonly CloudNode[], nowMs: number): PolicyDecision[] {
    const { fizzleSeconds, fizzleCount, backoffSeconds } = this.settings;
    if (fizzleSeconds === 0) return [];
    const fresh = nodes
      .filter(
        (n) =>
          (n.state === "stopped" || (n.state === "gone" && n.finished === true)) &&
          n.stoppedAt !== undefined &&
          !this.seen.has(n.id),
      )
      .sort((a, b) => a.stoppedAt!.getTime() - b.stoppedAt!.getTime());
    const decisions: PolicyDecision[] = [];
    for (const node of fresh) {
      this.remember(node.id);
      // Clouds keep stop times to the second: a stop may read a little before the launch.
      const ranSeconds = Math.max(
        0,
        (node.stoppedAt!.getTime() - (node.launchedAt ?? node.createdAt).getTime()) / 1000,
      );
      const fizzled = ranSeconds <= fizzleSeconds;
      this.recent.push({ stoppedAt: node.stoppedAt!.getTime(), fizzled });
      if (fizzled) {
        decisions.push({
          decision: "fizzle",
          ref: toReference(node.id),
          vmName: node.name,
          detail: `stopped ${Math.round(ranSeconds)} s after it started (Fizzle_Seconds ${fizzleSeconds})`,
        });
      }
    }
    this.recent = this.recent.sort((a, b) => a.stoppedAt - b.stoppedAt).slice(-fizzleCount);
    if (this.active(nowMs) === undefined && this.recent.length === fizzleCount && this.recent.every((j) => j.fizzled)) {
      const until = new Date(nowMs + backoffSeconds * 1000);
      const reason =
        `the last ${fizzleCount} VMs stopped within Fizzle_Seconds (${fizzleSeconds} s) of starting: ` +
        `no new VMs until ${until.toISOString()} (Backoff_Seconds ${backoffSeconds}); check the image and the pilot template`;
      this.backoff = { until, reason };
      this.recent = [];
      decisions.push({ decision: "backoff", detail: reason });
    }
    return decisions;
  }

  /** The backoff in force now, if any. */
  active(nowMs: number): Backoff | undefined {
    return this.backoff && this.backoff.until.getTime() > nowMs ? this.backoff : undefined;
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value as string);
  }
}
