/** The policy keys of `getCEStatus()` and the CEInfoDict, from the policies' state now. */

import { scrubSecrets } from "../secrets.js";
import type { CredentialAssessment } from "./credential-expiry-policy.js";
import type { Policies } from "./policies.js";
import type { PolicyInfo } from "./results.js";

export function policyInfo(policies: Policies, credentials: CredentialAssessment | undefined): PolicyInfo {
  const now = policies.now();
  const backoff = policies.fizzle.active(now);
  const unavailable = policies.offerings.unavailable(now);
  const health = policies.health.report();
  const earliest = credentials?.earliest;
  return {
    ...(backoff ? { BackoffUntil: backoff.until.toISOString(), BackoffReason: backoff.reason } : {}),
    ...(unavailable.length > 0
      ? { UnavailableOfferings: unavailable.map((u) => `${u.offering} until ${u.until.toISOString()}`) }
      : {}),
    CloudHealth: health.state,
    // The reason quotes a cloud error, which may echo credentials back.
    ...(health.reason ? { CloudHealthReason: scrubSecrets(health.reason) } : {}),
    ...(earliest
      ? {
          CredentialKind: earliest.kind,
          CredentialExpiry: earliest.expiresAt.toISOString(),
          CredentialSecondsLeft: earliest.secondsLeft,
        }
      : {}),
    ...(credentials && credentials.warnings.length > 0 ? { CredentialWarnings: credentials.warnings } : {}),
  };
}
