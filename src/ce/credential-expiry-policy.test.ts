import { describe, expect, it } from "vitest";
import { assessCredentials, tokenExpiry } from "./credential-expiry-policy.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("credential expiry", () => {
  it("reads a JWT's exp; a JWT without one never ends; an opaque token says nothing", () => {
    expect(tokenExpiry(`${part({})}.${part({ exp: NOW / 1000 })}.sig`)).toEqual({
      kind: "token",
      expiresAt: new Date(NOW),
    });
    expect(tokenExpiry(`${part({})}.${part({ sub: "x" })}.sig`)).toEqual({ kind: "token", expiresAt: undefined });
    expect(tokenExpiry("gAAAAABopaque-keystone-token")).toBeUndefined();
    expect(tokenExpiry("a.!!!.c")).toBeUndefined();
  });

  it("names the credential that ends first, warns below the threshold, and says when one has expired", () => {
    const day = 86_400_000;
    const facts = [
      { kind: "proxy", expiresAt: new Date(NOW + 3 * day) },
      { kind: "application-credential", expiresAt: new Date(NOW + 30 * day) },
      { kind: "token", expiresAt: undefined },
    ];
    const a = assessCredentials(facts, 7 * 86_400, NOW);
    expect(a.earliest).toEqual({ kind: "proxy", expiresAt: new Date(NOW + 3 * day), secondsLeft: 3 * 86_400 });
    expect(a.warnings).toEqual([
      "the proxy expires in 3 d 0 h (at 2026-06-04T12:00:00.000Z; Credential_WarnDays 7): renew it",
    ]);
    expect(a.expired).toBeUndefined();
    const later = assessCredentials(facts, 7 * 86_400, NOW + 3 * day);
    expect(later.expired).toBe("the proxy expired at 2026-06-04T12:00:00.000Z: renew it; no new VMs until then");
    expect(later.warnings).toEqual([]);
    expect(assessCredentials([{ kind: "token", expiresAt: undefined }], 7 * 86_400, NOW)).toEqual({ warnings: [] });
  });
});
