/** Every numeric option has a sane range: an absurd value is refused in one line naming the option and the range. */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { INTEGER_OPTIONS, NUMBER_OPTIONS, checkOptions } from "../../src/ce/ce-options.js";
import { CloudComputingElement, silentLogger } from "../../src/index.js";

const BASE = { CloudType: "LOCAL", Instance_Image: "name:el9-pilot", Instance_Flavor: "name:small" };

describe("numeric option ranges", () => {
  it.each([
    ["Cloud_RequestTimeout", "99999999999", "from 1 to 3600"],
    ["Submit_Concurrency", "1000000", "from 1 to 256"],
    ["Context_MaxLifetime", "99999999999999", "from 1 to 31536000"],
    ["Cloud_RateLimit", "1e300", "from 0 to 10000"],
  ])("%s = %s is refused, naming the range", (name, value, range) => {
    const problems = checkOptions({ ...BASE, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: '${value}' .*${range}`));
    expect(problems[0]).not.toContain("\n");
  });

  it("every integer and decimal option has a finite maximum above its default and minimum", () => {
    for (const [name, [def, min, max]] of Object.entries({ ...INTEGER_OPTIONS, ...NUMBER_OPTIONS })) {
      expect(Number.isFinite(max), name).toBe(true);
      expect(min <= def && def <= max, name).toBe(true);
      expect(checkOptions({ ...BASE, [name]: String(max) }), name).toEqual([]);
      expect(checkOptions({ ...BASE, [name]: String(max + 1) }), name).toHaveLength(1);
    }
  });

  it.each([
    ["Driver_max_instances", "100000000000000000000", "from 0 to 10000"],
    ["Driver_boot_seconds", "99999999999", "from 0 to 86400"],
  ])("LOCAL %s = %s is refused in one line naming the range", async (name, value, range) => {
    const ce = new CloudComputingElement("ranges.example.org", { logger: silentLogger });
    const dir = await mkdtemp(join(tmpdir(), "cloudce-ranges-"));
    await ce.setParameters({ ...BASE, Driver_state_dir: dir, [name]: value });
    const v = await ce.isValid();
    expect(v.OK).toBe(false);
    expect(v.OK ? "" : v.Message).toMatch(new RegExp(`${name}: '${value}' .*${range}`));
    await ce.shutdown();
  });
});
