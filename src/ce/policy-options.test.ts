import { describe, expect, it } from "vitest";
import { checkOptions, parseSettings } from "./ce-options.js";

const VALID = { CloudType: "LOCAL", Instance_Image: "name:el9-pilot", Instance_Flavor: "small" };

describe("lifecycle policy options", () => {
  it("are off or at their safe defaults", () => {
    expect(parseSettings("ce", VALID).policies).toEqual({
      maxBootSeconds: 3600,
      fizzleSeconds: 0,
      fizzleCount: 3,
      backoffSeconds: 600,
      offeringCacheSeconds: 180,
      healthFailureThreshold: 3,
      healthCoolDownSeconds: 120,
      deleteVerifySeconds: 300,
      credentialWarnSeconds: 7 * 86_400,
    });
  });

  it("Instance_Flavor takes an ordered list", () => {
    const s = parseSettings("ce", { ...VALID, Instance_Flavor: " name:m1.large , m1.small," });
    expect(s.flavors).toEqual(["name:m1.large", "m1.small"]);
    expect(s.flavor).toBe("name:m1.large");
  });

  it.each([
    ["Instance_Flavor", "name:large, name:", "Instance_Flavor: 'name:' needs a name after it"],
    [
      "Instance_Flavor",
      " , ",
      "Instance_Flavor: give at least one flavor (a comma-separated list, most preferred first)",
    ],
    ["Fizzle_Count", "0", "Fizzle_Count: '0' is not a whole number from 1 to 1000"],
    ["Backoff_Seconds", "10m", "Backoff_Seconds: '10m' is not a whole number from 1 to 86400"],
    ["Health_CoolDownSeconds", "0", "Health_CoolDownSeconds: '0' is not a whole number from 1 to 86400"],
    ["Credential_WarnDays", "-1", "Credential_WarnDays: '-1' is not a whole number from 0 to 365"],
  ])("rejects %s = '%s' in one line naming it", (name, value, message) => {
    expect(checkOptions({ ...VALID, [name]: value })).toEqual([message]);
  });
});
