/**
 * Credential expiry: what the credentials say about their own end (a proxy's
 * time left, a bearer token's `exp`, what the driver reads from the cloud,
 * such as a Keystone application credential's `expires_at`). Less than
 * `Credential_WarnDays` left is a warning (for `cloudce validate` and the
 * log) for credentials an admin renews; once one has expired, `available()`
 * offers no slot.
 */

import { readProxyInfo } from "../auth/index.js";
import type { CredentialExpiry } from "../drivers/driver.js";

export interface CredentialAssessment {
  /** The credential that ends first, if any ends at all. */
  readonly earliest?: { readonly kind: string; readonly expiresAt: Date; readonly secondsLeft: number };
  /** One line per credential with less than the threshold left (not yet expired). */
  readonly warnings: readonly string[];
  /** Set when a credential has expired: the reason `available()` gives. */
  readonly expired?: string;
  /** The kinds of the credentials that have expired (`proxy`, `token`, …), the first to end first. */
  readonly expiredKinds?: readonly string[];
}

/** A proxy's end: its chain's, or its VOMS attributes' when those end first. */
export function proxyExpiry(pem: string): CredentialExpiry {
  const info = readProxyInfo(pem);
  const ends = [info.notAfter, ...(info.voms ? [info.voms.notAfter] : [])].sort((a, b) => a.getTime() - b.getTime());
  return { kind: "proxy", expiresAt: ends[0] };
}

/** A JWT's `exp` claim; undefined for a token that is not a JWT (opaque tokens say nothing). */
export function tokenExpiry(token: string): CredentialExpiry | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number"
      ? { kind: "token", expiresAt: new Date(claims.exp * 1000) }
      : { kind: "token", expiresAt: undefined };
  } catch {
    return undefined;
  }
}

/**
 * A credential's end, and whether an admin renews it. A proxy the caller hands
 * over (SiteDirector fetches and renews its own) is `renewedByCaller`: warning
 * about it asks an admin for something they cannot do, so only its expiry counts.
 */
export interface CredentialFact extends CredentialExpiry {
  readonly renewedByCaller?: boolean;
}

export function assessCredentials(
  facts: readonly CredentialFact[],
  warnSeconds: number,
  nowMs: number,
): CredentialAssessment {
  const ending = facts
    .filter((f): f is CredentialFact & { expiresAt: Date } => f.expiresAt !== undefined)
    .map((f) => ({
      kind: f.kind,
      expiresAt: f.expiresAt,
      quiet: f.renewedByCaller === true,
      secondsLeft: Math.floor((f.expiresAt.getTime() - nowMs) / 1000),
    }))
    .sort((a, b) => a.secondsLeft - b.secondsLeft);
  const expired = ending.filter((e) => e.secondsLeft <= 0);
  const warnings = ending
    .filter((e) => !e.quiet && e.secondsLeft > 0 && e.secondsLeft < warnSeconds)
    .map(
      (e) =>
        `the ${e.kind} expires in ${formatLeft(e.secondsLeft)} (at ${e.expiresAt.toISOString()}; Credential_WarnDays ${warnSeconds / 86_400}): renew it`,
    );
  return {
    ...(ending[0]
      ? { earliest: { kind: ending[0].kind, expiresAt: ending[0].expiresAt, secondsLeft: ending[0].secondsLeft } }
      : {}),
    warnings,
    ...(expired.length > 0
      ? {
          expired: `the ${expired.map((e) => e.kind).join(" and the ")} expired at ${expired[0]!.expiresAt.toISOString()}: renew it; no new VMs until then`,
          expiredKinds: expired.map((e) => e.kind),
        }
      : {}),
  };
}

function formatLeft(seconds: number): string {
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.max(1, Math.floor(seconds / 60))} min`;
}
