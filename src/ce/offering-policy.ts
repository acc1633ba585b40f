/**
 * The unavailable-offering cache. An offering is a flavor together with the
 * CE's networks (on EC2: an instance type in a subnet). A create that fails
 * for lack of capacity marks its offering unavailable for
 * `Offering_CacheSeconds` (0 = nothing is remembered); submissions and
 * `available()` skip it meanwhile.
 */

import type { CloudNode } from "../drivers/driver.js";
import type { CloudceError } from "../errors.js";
import type { PolicyDecision } from "./policy-decisions.js";

/** The metadata key that records the flavor (as configured in `Instance_Flavor`) each VM got. */
export const FLAVOR_KEY = "cloudce-flavor";

/** How many failed VM ids are remembered (a bound on memory for a CE that runs for months). */
const COUNTED_LIMIT = 10_000;

export interface UnavailableOffering {
  readonly offering: string;
  readonly until: Date;
  readonly reason: string;
}

/**
 * Lack of capacity for this offering's flavor: no room on the cloud, or a quota the flavor's cores or
 * RAM exceed. A network out of addresses is not one: every flavor would be refused there alike.
 */
export function isCapacityError(err: Pick<CloudceError, "code" | "quotaResource" | "shortage">): boolean {
  return (
    (err.code === "CapacityExceeded" && err.shortage !== "network-addresses") ||
    (err.code === "QuotaExceeded" && (err.quotaResource === "cores" || err.quotaResource === "ram"))
  );
}

/** How a flavor entry of `Instance_Flavor` is shown and recorded: `name:m1.large` → `m1.large`, an id as is. */
export function flavorLabel(entry: string): string {
  return entry.startsWith("name:") ? entry.slice("name:".length) : entry;
}

export function offeringOf(flavor: string, networks: readonly string[]): string {
  return networks.length === 0 ? flavor : `${flavor}@${networks.join("+")}`;
}

export class OfferingCache {
  private readonly marked = new Map<string, UnavailableOffering>();
  /** Failed VMs already counted: one that stays listed marks its offering once, not on every listing. */
  private readonly counted = new Set<string>();

  constructor(private readonly seconds: number) {}

  /** Marks an offering unavailable; returns the decision, or nothing when off or already marked. */
  markUnavailable(offering: string, reason: string, nowMs: number): PolicyDecision | undefined {
    if (this.seconds === 0 || !this.isAvailable(offering, nowMs)) return undefined;
    const until = new Date(nowMs + this.seconds * 1000);
    this.marked.set(offering, { offering, until, reason });
    return {
      decision: "offering-unavailable",
      detail: `${offering} until ${until.toISOString()} (Offering_CacheSeconds ${this.seconds}): ${reason}`,
    };
  }

  isAvailable(offering: string, nowMs: number): boolean {
    const m = this.marked.get(offering);
    if (m && m.until.getTime() <= nowMs) this.marked.delete(offering);
    return !m || m.until.getTime() <= nowMs;
  }

  unavailable(nowMs: number): UnavailableOffering[] {
    return [...this.marked.values()].filter((m) => !this.isAvailable(m.offering, nowMs));
  }

  /** Marks the offerings of listed VMs the cloud failed for lack of capacity (Nova's "No valid host"). */
  observe(nodes: readonly CloudNode[], networks: readonly string[], nowMs: number): PolicyDecision[] {
    const decisions: PolicyDecision[] = [];
    for (const n of nodes) {
      const flavor = n.metadata[FLAVOR_KEY];
      if (n.state !== "error" || n.fault?.code !== "CapacityExceeded" || flavor === undefined || this.counted.has(n.id))
        continue;
      this.counted.add(n.id);
      if (this.counted.size > COUNTED_LIMIT) this.counted.delete(this.counted.values().next().value as string);
      const d = this.markUnavailable(offeringOf(flavor, networks), `VM ${n.name}: ${n.fault.message}`, nowMs);
      if (d) decisions.push(d);
    }
    return decisions;
  }
}
