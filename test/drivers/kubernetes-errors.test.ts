/** The KUBERNETES driver's requests that got no answer, as the client library (node-fetch) reports them. */

import { AbortError, FetchError } from "node-fetch";
import { describe, expect, it } from "vitest";
import { apiError, type ApiCall } from "../../src/drivers/kubernetes/errors.js";
import { SecretSlot } from "../../src/secrets.js";

const CALL: ApiCall = { verb: "get", resource: "pods", namespace: "grid", name: "pilot-1" };

/** What node-fetch rejects with when the connection fails: a FetchError carrying the system error's code. */
const systemError = (code: string, message: string): FetchError =>
  new FetchError(`request to https://k8s.example.org/api failed, reason: ${message}`, "system", {
    name: "Error",
    message,
    code,
  });

describe("KUBERNETES transport failures", () => {
  it("a request aborted at its deadline is a Timeout naming the call", () => {
    const e = apiError(CALL, new AbortError("The user aborted a request."), 1500);
    expect(e).toMatchObject({ code: "Timeout", retryable: true, requestTimedOut: true, driver: "KUBERNETES" });
    expect(e.message).toBe("KUBERNETES get pods pilot-1 in namespace grid: no answer within 1500 ms");
  });

  it("a system timeout code is a Timeout; a refused connection is CloudUnavailable and retried", () => {
    expect(apiError(CALL, systemError("ETIMEDOUT", "connect ETIMEDOUT"), 100)).toMatchObject({ code: "Timeout" });
    const refused = apiError(CALL, systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"), 100);
    expect(refused).toMatchObject({ code: "CloudUnavailable", retryable: true });
    expect(refused.message).toMatch(
      /^KUBERNETES get pods pilot-1 in namespace grid: connection failed \(ECONNREFUSED: request to .*\)$/,
    );
  });

  it("a refused certificate is CloudUnavailable and not retried: asking again does not help", () => {
    const tls = apiError(CALL, systemError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), 100);
    expect(tls).toMatchObject({ code: "CloudUnavailable", retryable: false });
    expect(tls.message).toMatch(/^KUBERNETES get pods pilot-1 in namespace grid: TLS failure \(DEPTH_ZERO/);
  });

  it.each([
    // What Node reports for a server certificate signed by a CA the client does not trust.
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "INVALID_CA",
    "HOSTNAME_MISMATCH",
    "CRL_HAS_EXPIRED",
  ])("the certificate verification failure %s is a TLS failure", (code) => {
    expect(apiError(CALL, systemError(code, "verification failed"), 100)).toMatchObject({
      code: "CloudUnavailable",
      retryable: false,
    });
  });

  it("a secret in the underlying error's message is masked", () => {
    const slot = new SecretSlot();
    const token = "kube-token-3c9a7f21e8d4";
    slot.set(token);
    try {
      const e = apiError(CALL, systemError("ECONNRESET", `socket hang up (Bearer ${token})`), 100);
      expect(e.code).toBe("CloudUnavailable");
      expect(e.message).not.toContain(token);
      expect(e.message).toContain("Bearer [secret]");
    } finally {
      slot.clear();
    }
  });

  it("the message's text never decides: an error that only says it timed out is a failed connection", () => {
    expect(apiError(CALL, new Error("ETIMEDOUT"), 100)).toMatchObject({ code: "CloudUnavailable" });
  });
});
