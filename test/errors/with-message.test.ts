/** A CloudceError told again with another message keeps everything else it carries. */

import { describe, expect, it } from "vitest";
import { CloudceError, withMessage } from "../../src/errors.js";

describe("withMessage", () => {
  it("keeps every field and the cause, and only the message changes", () => {
    const cause = new Error("socket closed");
    const problem = { option: "Instance_Image", code: "OptionInvalid", text: "no such image" } as const;
    const original = new CloudceError("QuotaExceeded", "first words", {
      driver: "OPENSTACK",
      retryable: true,
      retryAfterSeconds: 30,
      status: 413,
      quotaResource: "instances",
      request: "compute POST /servers",
      answerNotJson: true,
      requestTimedOut: true,
      problems: [problem],
      cause,
    });
    const told = withMessage(original, "other\nwords");
    expect(told).toBeInstanceOf(CloudceError);
    expect(told.message).toBe("other words");
    const { message: _a, stack: _b, ...fields } = { ...original };
    expect({ ...told }).toMatchObject(fields);
    expect(told.cause).toBe(cause);
    expect(original.message).toBe("first words");
  });

  it("keeps a code's default retryability as it was decided", () => {
    const original = new CloudceError("Timeout", "slow", { retryable: false });
    expect(withMessage(original, "slower")).toMatchObject({ code: "Timeout", retryable: false });
  });
});
