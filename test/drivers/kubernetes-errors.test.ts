/** The KUBERNETES driver's requests that got no answer, as the client library (node-fetch) reports them. */

import { AbortError, FetchError } from "node-fetch";
import { describe, expect, it } from "vitest";
import { withCeHint } from "../../src/ce/driver-hints.js";
import { apiError, httpError, type ApiCall } from "../../src/drivers/kubernetes/errors.js";
import type { CloudceError } from "../../src/errors.js";
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

describe("KUBERNETES refusals of an invalid request", () => {
  const CREATE: ApiCall = { verb: "create", resource: "pods", namespace: "grid", name: "pilot-1" };
  const invalid = (call: ApiCall, field: string) =>
    httpError(call, 422, { reason: "Invalid", message: "refused", details: { causes: [{ field, message: "x" }] } });
  const told = (err: CloudceError) => ({ code: err.code, refused: err.refused?.input, line: withCeHint(err).message });

  it("a create refused at a container's image points at Instance_Image, at the first container's resources at Instance_Flavor", () => {
    expect(told(invalid(CREATE, "spec.containers[0].image"))).toEqual({
      code: "OptionInvalid",
      refused: "image",
      line: "KUBERNETES create pods pilot-1 in namespace grid: HTTP 422 Invalid: refused; the cluster refused the object at spec.containers[0].image; fix Instance_Image",
    });
    expect(told(invalid(CREATE, "spec.initContainers[1].image"))).toMatchObject({ refused: "image" });
    expect(told(invalid(CREATE, "spec.containers[0].resources.requests"))).toEqual({
      code: "OptionInvalid",
      refused: "flavor",
      line: expect.stringMatching(/at spec\.containers\[0\]\.resources\.requests; fix Instance_Flavor$/),
    });
  });

  it("a create refused anywhere else points at Context_Template", () => {
    expect(told(invalid(CREATE, "spec.containers[1].resources.limits"))).toMatchObject({
      code: "UserDataInvalid",
      refused: "user-data",
      line: expect.stringMatching(/; fix Context_Template$/),
    });
  });

  it("a refused list or delete is the driver's own request: no input of the CE is named", () => {
    for (const verb of ["list", "delete"]) {
      const err = invalid({ ...CALL, verb }, "labelSelector");
      expect(told(err)).toMatchObject({ code: "CloudError", refused: undefined });
      expect(told(err).line).toMatch(/; the cluster refused the request at labelSelector$/);
    }
  });
});
