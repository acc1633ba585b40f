import { describe, expect, it } from "vitest";
import { checkOptions, expandEnv, parseSettings, splitList } from "./ce-options.js";

const VALID = { CloudType: "LOCAL", Instance_Image: "name:el9-pilot", Instance_Flavor: "small" };

describe("CE options", () => {
  it("names every missing mandatory option", () => {
    expect(checkOptions({})).toEqual([
      "CloudType: mandatory option is missing",
      "Instance_Image: mandatory option is missing",
      "Instance_Flavor: mandatory option is missing",
    ]);
  });

  it.each([
    ["Context_MaxLifetime", "two weeks", "Context_MaxLifetime: 'two weeks' is not a whole number from 1 to 31536000"],
    ["Context_MaxLifetime", "0", "Context_MaxLifetime: '0' is not a whole number from 1 to 31536000"],
    ["MaxTotalJobs", "-3", "MaxTotalJobs: '-3' is not a whole number from 0 to 100000"],
    ["Submit_Concurrency", "1.5", "Submit_Concurrency: '1.5' is not a whole number from 1 to 256"],
    ["Cloud_RateLimit", "fast", "Cloud_RateLimit: 'fast' is not a number from 0 to 10000"],
    ["Instance_Image", "name:", "Instance_Image: 'name:' needs a name after it"],
    [
      "Instance_NamePrefix",
      "9bad prefix",
      "Instance_NamePrefix: '9bad prefix' must start with a letter and hold only letters, digits, '_' or '-'",
    ],
  ])("rejects %s = %s with a message naming it", (name, value, message) => {
    expect(checkOptions({ ...VALID, [name]: value })).toEqual([message]);
  });

  it("parses defaults the way DIRAC has them", () => {
    const s = parseSettings("ce.example.org", VALID);
    expect(s.maxLifetime).toBe(1_209_600);
    expect(s.namePrefix).toBe("VMDIRAC3_");
    expect(s.submitConcurrency).toBe(8);
    expect(s.networks).toEqual([]);
    expect(s.driverOptions).toEqual({});
    expect(Object.isFrozen(s)).toBe(true);
  });

  it("strips the Driver_ prefix and splits lists", () => {
    const s = parseSettings("ce", {
      ...VALID,
      Driver_ex_tenant_name: "vo",
      Instance_Networks: "name:a, b ,,",
      Context_ExtPackages: "htop,strace",
    });
    expect(s.driverOptions).toEqual({ ex_tenant_name: "vo" });
    expect(s.networks).toEqual(["name:a", "b"]);
    expect(s.extPackages).toEqual(["htop", "strace"]);
  });

  it("throws OptionMissing / OptionInvalid from parseSettings", () => {
    expect(() => parseSettings("ce", {})).toThrow(expect.objectContaining({ code: "OptionMissing" }));
    expect(() => parseSettings("ce", { ...VALID, MaxTotalJobs: "x" })).toThrow(
      expect.objectContaining({ code: "OptionInvalid" }),
    );
  });

  it("expands environment variables in paths", () => {
    expect(expandEnv("$HOME_X/a/${SUB}/b", { HOME_X: "/h", SUB: "s" })).toBe("/h/a/s/b");
    expect(splitList(undefined)).toEqual([]);
  });
});
