import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLOUDCE_VERSION, mismatchMessage, releaseLine, versionsMatch } from "../src/version.js";
import { cli } from "./cli/cli-harness.js";

const ROOT = new URL("../", import.meta.url);

describe("cloudce's version", () => {
  it("is package.json's, and the DIRAC plugin carries the same one", () => {
    const pkg = JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as { version: string };
    expect(CLOUDCE_VERSION).toBe(pkg.version);
    const plugin = readFileSync(new URL("python/cloudce_dirac/Resources/Computing/cloudce_version.py", ROOT), "utf8");
    expect(/^__version__ = "([^"]+)"$/m.exec(plugin)?.[1]).toBe(pkg.version);
  });

  it("is what `cloudce --version` prints", async () => {
    const run = await cli(["--version"]);
    expect(run).toMatchObject({ code: 0, stdout: `${CLOUDCE_VERSION}\n` });
  });
});

describe("plugin and server compatibility", () => {
  it.each([
    ["0.1.0", "0.1.7", true],
    ["1.4.2", "1.4.0", true],
    ["0.1.0", "0.2.0", false],
    ["1.0.0", "2.0.0", false],
    ["0.1.0", "unknown", false],
  ])("plugin %s with server %s: %s", (plugin, server, ok) => {
    expect(versionsMatch(plugin, server)).toBe(ok);
  });

  it("reads major.minor only from a version", () => {
    expect(releaseLine("1.12.3-rc.1")).toBe("1.12");
    expect(releaseLine("v1")).toBeUndefined();
  });

  it("tells an admin to upgrade the older side, naming both versions", () => {
    const oldPlugin = mismatchMessage("0.1.0", "0.2.1", "/usr/bin/cloudce");
    expect(oldPlugin).toContain("cloudce_dirac is 0.1.0 but /usr/bin/cloudce is cloudce 0.2.1");
    expect(oldPlugin).toContain("upgrade the DIRAC plugin to 0.2.1");
    const oldServer = mismatchMessage("0.3.0", "0.2.1", "/usr/bin/cloudce");
    expect(oldServer).toContain("upgrade cloudce to 0.3.0");
    expect(oldServer).not.toContain("\n");
  });
});
