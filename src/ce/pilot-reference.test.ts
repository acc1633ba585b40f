import { describe, expect, it } from "vitest";
import { newVmName, parseReference, parseReferences, toReference } from "./pilot-reference.js";

describe("pilot references and VM names", () => {
  it("round-trips cloud://<id>", () => {
    expect(parseReference(toReference("abc-123"))).toBe("abc-123");
  });

  it.each(["", "cloud://", "http://x", "abc", "CLOUD://x"])("rejects %j", (ref) => {
    expect(() => parseReference(ref)).toThrow(/is not of the form cloud:\/\/<instance-id>/);
  });

  it("names all the bad references in one error", () => {
    expect(() => parseReferences(["cloud://a", "ssh://b", "c"])).toThrow(
      "not cloud://<instance-id> pilot references: 'ssh://b', 'c'",
    );
  });

  it("makes names of <prefix><8 upper-case hex>", () => {
    expect(newVmName("VMDIRAC3_")).toMatch(/^VMDIRAC3_[0-9A-F]{8}$/);
  });
});
