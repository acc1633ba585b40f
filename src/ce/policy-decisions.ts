/**
 * Decisions taken under a lifecycle policy: each is logged at once and
 * journaled as a `policy` line whose reason starts with the decision's name
 * (`fizzle: …`), which is what `cloudce report` counts.
 */

import type { Logger } from "../log.js";
import type { Audit } from "./audit.js";

const POLICY_DECISIONS = [
  "boot-timeout",
  "fizzle",
  "backoff",
  "offering-unavailable",
  "fallback",
  "circuit-open",
  "circuit-closed",
  "re-delete",
  "credentials-expired",
] as const;
export type PolicyDecisionName = (typeof POLICY_DECISIONS)[number];

export interface PolicyDecision {
  readonly decision: PolicyDecisionName;
  /** One line saying what was seen and what follows from it. */
  readonly detail: string;
  readonly ref?: string;
  readonly vmName?: string;
}

export type DecisionSink = (decisions: readonly PolicyDecision[]) => Promise<void>;

/** The journal reason of a decision: the decision's name, a colon, the detail. */
function decisionReason(d: Pick<PolicyDecision, "decision" | "detail">): string {
  return `${d.decision}: ${d.detail}`;
}

export function decisionSink(audit: Audit, log: Logger): DecisionSink {
  return async (decisions) => {
    if (decisions.length === 0) return;
    for (const d of decisions)
      log.warn(`policy: ${d.decision}`, {
        detail: d.detail,
        ...(d.ref ? { ref: d.ref } : {}),
        ...(d.vmName ? { vm: d.vmName } : {}),
      });
    await audit.record(
      decisions.map((d) => ({
        ref: d.ref ?? "",
        vmName: d.vmName ?? "",
        action: "policy" as const,
        outcome: "ok" as const,
        reason: decisionReason(d),
      })),
    );
  };
}
