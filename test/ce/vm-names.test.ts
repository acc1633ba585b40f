/** The CE chooses its VM names from the facts a cloud's name rule states; the driver takes them as given. */

import { describe, expect, it } from "vitest";
import { checkOptions, parseSettings } from "../../src/ce/ce-options.js";
import { newVmName } from "../../src/ce/pilot-reference.js";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";

const noDriver = (): CloudDriver => {
  throw new Error("not built in these tests");
};
// A cloud like GCE: lower-case names only, starting with a letter, no '_'.
registerDriver("LOWERNAMES", noDriver, {
  lowerCase: true,
  maxLength: 20,
  problem: (p) => (/^[a-z][-a-z0-9]*$/.test(p) ? undefined : `'${p}' cannot start a name here (lower-case only)`),
});
// A cloud that takes any name DIRAC gives.
registerDriver("ANYNAMES", noDriver, { problem: () => undefined });

const options = (cloudType: string, extra: Record<string, string> = {}) => ({
  CloudType: cloudType,
  Instance_Image: "name:pilot",
  Instance_Flavor: "small",
  ...extra,
});

describe("VM names", () => {
  it("default to DIRAC's prefix where the cloud takes it, else to the portable one, in the cloud's case", () => {
    expect(parseSettings("ce", options("ANYNAMES"))).toMatchObject({ namePrefix: "VMDIRAC3_", lowerCaseNames: false });
    expect(parseSettings("ce", options("LOWERNAMES"))).toMatchObject({
      namePrefix: "dirac-pilot-",
      lowerCaseNames: true,
    });
    expect(newVmName("dirac-pilot-", true)).toMatch(/^dirac-pilot-[0-9a-f]{8}$/);
    expect(newVmName("VMDIRAC3_")).toMatch(/^VMDIRAC3_[0-9A-F]{8}$/);
  });

  it("a prefix the cloud refuses is named with the cloud's rule and the CE's fix", () => {
    expect(checkOptions(options("LOWERNAMES", { Instance_NamePrefix: "Grid_" }))).toEqual([
      "Instance_NamePrefix: 'Grid_' cannot start a name here (lower-case only); use e.g. Instance_NamePrefix = dirac-pilot-",
    ]);
  });

  it("leaves room for the VM name's hex within the longest name the cloud takes", () => {
    expect(checkOptions(options("LOWERNAMES", { Instance_NamePrefix: "grid-pilot-a" }))).toEqual([]);
    expect(checkOptions(options("LOWERNAMES", { Instance_NamePrefix: "grid-pilot-ab" }))).toEqual([
      "Instance_NamePrefix: 'grid-pilot-ab' is too long: this cloud's names hold at most 12 characters before the 8 hex digits of the VM name; use e.g. Instance_NamePrefix = dirac-pilot-",
    ]);
  });
});
