/** Drivers report quota and throttling as codes; the CE names its own options in the words an operator reads. */

import { describe, expect, it } from "vitest";
import { withCeHint } from "../../src/ce/driver-hints.js";
import { CloudceError } from "../../src/errors.js";
import { harness } from "./policy-harness.js";

describe("withCeHint", () => {
  it("adds the CE's option to a driver's quota or throttling error, once, keeping every field", () => {
    const quota = new CloudceError("QuotaExceeded", "EC2: the account's vCPU limit is reached", {
      driver: "EC2",
      quotaResource: "cores",
      status: "VcpuLimitExceeded",
    });
    expect(withCeHint(withCeHint(quota))).toBe(quota);
    expect(quota.message).toBe("EC2: the account's vCPU limit is reached; lower MaxTotalJobs to stay within it");
    expect(quota).toMatchObject({ code: "QuotaExceeded", quotaResource: "cores", status: "VcpuLimitExceeded" });
    const throttled = new CloudceError("RateLimited", "GCE: HTTP 429", { driver: "GCE" });
    expect(withCeHint(throttled).message).toBe("GCE: HTTP 429; lower Cloud_RateLimit if it persists");
  });

  it("names Cloud_RequestTimeout only for a request the cloud left unanswered", () => {
    const unanswered = new CloudceError("Timeout", "GCE GET /zones: no answer within 30000 ms", {
      driver: "GCE",
      requestTimedOut: true,
    });
    expect(withCeHint(unanswered).message).toBe(
      "GCE GET /zones: no answer within 30000 ms; the time allowed is Cloud_RequestTimeout",
    );
    const stopped = new CloudceError("Timeout", "compute POST /servers: not sent, the submission was stopped first", {
      driver: "OPENSTACK",
    });
    expect(withCeHint(stopped).message).toBe("compute POST /servers: not sent, the submission was stopped first");
  });

  it("leaves other codes, and errors that are not a driver's, as they are", () => {
    const auth = new CloudceError("AuthFailed", "EC2: bad key", { driver: "EC2" });
    expect(withCeHint(auth).message).toBe("EC2: bad key");
    const own = new CloudceError("QuotaExceeded", "quota of 0 instances reached");
    expect(withCeHint(own).message).toBe("quota of 0 instances reached");
    const plain = new Error("boom");
    expect(withCeHint(plain)).toBe(plain);
  });
});

describe("the CE words a driver's facts", () => {
  it("in a submission every create of which hit the quota", async () => {
    const h = await harness();
    h.cloud.faults.createFailure = () =>
      new CloudceError("QuotaExceeded", "MEMORY: the instances quota is reached", { driver: "MEMORY" });
    expect(await h.ce.submitJob(h.pilot, null, 2)).toMatchObject({
      OK: false,
      Code: "QuotaExceeded",
      Message: "MEMORY: the instances quota is reached; lower MaxTotalJobs to stay within it",
    });
  });

  it("in the reason a throttled listing gives for offering no slot", async () => {
    const h = await harness();
    h.cloud.faults.listFailure = new CloudceError("RateLimited", "MEMORY: HTTP 429", { driver: "MEMORY" });
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { Reason: expect.stringContaining("MEMORY: HTTP 429; lower Cloud_RateLimit if it persists") },
    });
  });
});
