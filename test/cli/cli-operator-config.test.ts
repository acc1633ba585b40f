/** The operator's side of the cloudce command: configuration files checked through validate. */

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "./cli-harness.js";
import { oneLine, operatorFiles } from "./operator-setup.js";

const files = operatorFiles();

describe("configuration through the command", () => {
  it("validate lists every syntax problem of the file", async () => {
    const bad = join(files.dir, "bad.conf");
    await writeFile(bad, "CloudType = LOCAL\nno equals here\nInstance_Image = x\nInstance_Image = y\nalso bad\n");
    const r = await cli(["--config", bad, "validate"]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`${bad}:2:`);
    expect(r.stderr).toContain(`${bad}:4:`);
    expect(r.stderr).toContain(`${bad}:5:`);
    expect(r.stderr).not.toContain("and 1 more");
  });

  it("validate reports misspelt options with a hint, and unwritable folders", async () => {
    const typo = join(files.dir, "typo.conf");
    await writeFile(
      typo,
      `CloudType = LOCAL\nInstance_Image = name:el9-pilot\nInstance_Flavour = small\nJournal_File = ${files.pilot}/j.jsonl\n`,
    );
    const r = await cli(["--config", typo, "validate"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Instance_Flavour: unknown option, did you mean Instance_Flavor? (${typo}:3)`);
    expect(r.stderr).toContain("Instance_Flavor: mandatory option is missing");
    expect(r.stderr).toContain(`Journal_File: ${files.pilot} is not a folder`);
  });

  it("validate says a CloudAuth given for LOCAL is ignored", async () => {
    const withAuth = join(files.dir, "auth.conf");
    await writeFile(
      withAuth,
      "CloudType = LOCAL\nCloudAuth = cloud.auth\nDriver_state_dir = local\nInstance_Image = name:el9-pilot\nInstance_Flavor = small\n",
    );
    const r = await cli(["--config", withAuth, "validate"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: CloudAuth: ignored: the LOCAL driver needs no credentials (${withAuth}:2)\n`);
  });

  it("validate --online checks image, flavor, networks and quota against the cloud", async () => {
    const wrong = join(files.dir, "online.conf");
    await writeFile(
      wrong,
      "CloudType = LOCAL\nDriver_state_dir = local\nInstance_Image = name:el8-pilot\nInstance_Flavor = small\n",
    );
    expect((await cli(["--config", wrong, "validate"])).code).toBe(0);
    const r = await cli(["--config", wrong, "validate", "--online"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Instance_Image: no image named 'el8-pilot'/);
    expect(await cli(["--config", files.config, "validate", "--online"])).toMatchObject({
      code: 0,
      stdout: "op-test.example.org: configuration is valid (checked against the cloud)\n",
    });
    const full = join(files.dir, "full.conf");
    await writeFile(
      full,
      "CloudType = LOCAL\nDriver_state_dir = local-full\nDriver_max_instances = 0\nInstance_Image = name:el9-pilot\nInstance_Flavor = name:small\n",
    );
    expect(await cli(["--config", full, "validate", "--online"])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("quota leaves room for no more VM of flavor 'name:small'"),
    });
  });

  it("validate --online reports every problem in one run: the image, each flavor, each network, a broken template", async () => {
    const broken = join(files.dir, "broken.hbs");
    await writeFile(broken, "#cloud-config\n{{#if}}\n");
    const many = join(files.dir, "many.conf");
    await writeFile(
      many,
      [
        "CloudType = LOCAL",
        "Driver_state_dir = local-many",
        "Instance_Image = name:el8-pilot",
        "Instance_Flavor = name:small, name:huge",
        "Instance_Networks = name:nowhere",
        `Context_Template = ${broken}`,
      ].join("\n"),
    );
    const r = await cli(["--config", many, "validate", "--online"]);
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    for (const problem of [
      /Instance_Image: no image named 'el8-pilot'/,
      /Instance_Flavor: no flavor named 'huge'/,
      /Instance_Networks: no network named 'nowhere'/,
      /broken\.hbs/,
    ]) {
      expect(r.stderr).toMatch(problem);
    }
    expect(r.stderr).not.toMatch(/no flavor named 'small'/);
  });

  it("a flat file named .cfg works, and a --ce that differs from its CE line is a usage error", async () => {
    const cfg = join(files.dir, "ce.cfg");
    await writeFile(cfg, await readFile(files.config, "utf8"));
    expect((await cli(["--config", cfg, "validate"])).code).toBe(0);
    const r = await cli(["--config", cfg, "--ce", "other.example.org", "status"]);
    expect(r).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--ce other.example.org: the file says CE = op-test.example.org; drop --ce"),
    });
  });
});
