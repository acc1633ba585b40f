/** OPENSTACK error mapping: fault bodies of each service, status → code, Retry-After. */

import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../src/drivers/http/errors.js";
import { transportError as sharedTransportError, transportFailure } from "../../src/drivers/http/transport.js";
import { faultMessage, httpError } from "../../src/drivers/openstack/http-errors.js";
import { nodeState, toCloudNode } from "../../src/drivers/openstack/state-map.js";
import { pilotStatus } from "../../src/ce/status-map.js";
import { selectForCleanup } from "../../src/ce/cleanup-policy.js";

describe("OPENSTACK fault bodies", () => {
  it("reads the message of Nova, Neutron, Keystone and Glance faults", () => {
    expect(faultMessage('{"itemNotFound": {"code": 404, "message": "Instance x could not be found."}}')).toBe(
      "Instance x could not be found.",
    );
    expect(
      faultMessage(
        '{"NeutronError": {"type": "NetworkNotFound", "message": "Network n could not be found.", "detail": ""}}',
      ),
    ).toBe("Network n could not be found.");
    expect(
      faultMessage(
        '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}',
      ),
    ).toMatch(/requires authentication/);
    expect(faultMessage("<html><body><h1>404 Not Found</h1>No image found with ID i</body></html>")).toBe(
      "404 Not Found No image found with ID i",
    );
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("7")).toBe(7);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("OPENSTACK status → error code", () => {
  const fail = (status: number, message: string, retryAfter?: string) =>
    httpError({
      status,
      body: JSON.stringify({ fault: { message } }),
      what: "compute POST /servers",
      ...(retryAfter ? { retryAfter } : {}),
    });

  it.each([
    [401, "no", "AuthFailed", false],
    [403, "Quota exceeded for cores: Requested 2, but already used 20 of 20 cores", "QuotaExceeded", false],
    [403, "Policy doesn't allow os_compute_api:servers:create", "Forbidden", false],
    [413, "Quota exceeded for instances", "QuotaExceeded", false],
    [413, "This request was rate-limited.", "RateLimited", true],
    [429, "slow down", "RateLimited", true],
    [500, "boom", "CloudUnavailable", true],
    [503, "down", "CloudUnavailable", true],
    [409, "conflict", "CloudError", false],
  ] as const)("HTTP %i (%s) → %s", (status, message, code, retryable) => {
    const err = fail(status, message);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
    expect(err.driver).toBe("OPENSTACK");
  });

  it("carries Retry-After", () => {
    expect(fail(429, "slow down", "3").retryAfterSeconds).toBe(3);
  });

  it("tells a timeout from a refused connection and a TLS failure", () => {
    expect(transportError("x", Object.assign(new Error("t"), { name: "TimeoutError" }), 100)).toMatchObject({
      code: "Timeout",
      retryable: true,
    });
    expect(transportError("x", Object.assign(new Error("c"), { code: "ECONNREFUSED" }), 100)).toMatchObject({
      code: "CloudUnavailable",
      retryable: true,
    });
    expect(
      transportError(
        "x",
        Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
        100,
      ),
    ).toMatchObject({ code: "CloudUnavailable", retryable: false });
  });

  it("classifies system codes: ETIMEDOUT is a timeout, a failed name lookup a connection failure", () => {
    const sys = (code: string, message = "m") => Object.assign(new Error(message), { code });
    expect(transportFailure(sys("ETIMEDOUT"))).toEqual({ kind: "timeout", code: "ETIMEDOUT" });
    expect(transportFailure({ cause: { code: "ETIMEDOUT" } })).toEqual({ kind: "timeout", code: "ETIMEDOUT" });
    expect(transportFailure(sys("ENOTFOUND"))).toEqual({ kind: "connection", code: "ENOTFOUND" });
    expect(transportFailure(sys("EAI_AGAIN"))).toEqual({ kind: "connection", code: "EAI_AGAIN" });
    // The text never decides: a message that mentions a timeout is not one.
    expect(transportFailure(new Error("ETIMEDOUT"))).toBeUndefined();
    expect(transportError("x", sys("ETIMEDOUT"), 100)).toMatchObject({ code: "Timeout", retryable: true });
    expect(transportError("x", sys("ENOTFOUND"), 100)).toMatchObject({ code: "CloudUnavailable", retryable: true });
  });
});

function transportError(what: string, err: unknown, timeoutMs: number) {
  return sharedTransportError("OPENSTACK", what, err, { prefix: "", timeoutMs });
}

describe("OPENSTACK state map", () => {
  it.each([
    ["BUILD", null, "booting"],
    ["ACTIVE", null, "running"],
    ["ACTIVE", "powering-off", "stopping"],
    ["SHUTOFF", null, "stopped"],
    ["ERROR", null, "error"],
    ["ACTIVE", "deleting", "gone"],
    ["SOFT_DELETED", null, "gone"],
    // Paused, suspended or shelved by an operator: the pilot resumes later, so it is not finished.
    ["PAUSED", null, "suspended"],
    ["SUSPENDED", null, "suspended"],
    ["SHELVED", null, "suspended"],
    ["SHELVED_OFFLOADED", null, "suspended"],
    ["ACTIVE", "pausing", "running"],
    ["WEIRD", null, "unknown"],
  ] as const)("%s (%s) → %s", (status, task, state) => {
    expect(nodeState(status, task)).toBe(state);
  });

  it.each(["PAUSED", "SUSPENDED", "SHELVED", "SHELVED_OFFLOADED"])(
    "a %s pilot reads Running and cleanup leaves it alone",
    (status) => {
      const node = toCloudNode({
        id: "p1",
        name: "VM_P1",
        status,
        created: new Date(Date.now() - 60_000).toISOString(),
        metadata: {},
      });
      expect(pilotStatus(node)).toBe("Running");
      expect(selectForCleanup([node], { maxLifetime: 3600, minLifetime: 0 }, new Date())).toEqual([]);
    },
  );
});
