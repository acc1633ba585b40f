/**
 * A LOCAL state folder that cannot be made for a reason other than
 * permissions (under /proc, where mkdir answers ENOENT although the parent
 * exists): `submit` ends promptly with one line naming Driver_state_dir,
 * instead of retrying the folder forever at full CPU.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TEMPLATE_PATH } from "../../src/context/index.js";
import { startFixture } from "../support/child.js";
import { HANG_GUARD_MS } from "../support/wait.js";

const CLI = new URL("../../src/cli/", import.meta.url);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-cli-state-"));
  await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
});

describe("a Driver_state_dir that cannot be created", () => {
  it("submit exits with one line naming Driver_state_dir, not a loop", async () => {
    const stateDir = `/proc/cloudce-state-${process.pid}`;
    const config = join(dir, "ce.conf");
    await writeFile(
      config,
      [
        "CE = state-dir.example.org",
        "CloudType = LOCAL",
        `Driver_state_dir = ${stateDir}`,
        "Instance_Image = name:el9-pilot",
        "Instance_Flavor = name:small",
        `Context_Template = ${DEFAULT_TEMPLATE_PATH}`,
      ].join("\n"),
    );
    const child = await startFixture("main", ["--config", config, "submit", "-e", join(dir, "pilot.sh")], CLI);
    let guard: NodeJS.Timeout | undefined;
    const hung = new Promise<"hung">((resolve) => {
      guard = setTimeout(() => resolve("hung"), HANG_GUARD_MS);
    });
    const exit = await Promise.race([child.exited, hung]);
    clearTimeout(guard);
    if (exit === "hung") child.child.kill("SIGKILL");
    expect(exit, `still running after the hang guard; stderr: ${child.stderr()}`).not.toBe("hung");
    expect(exit).toMatchObject({ code: 1 });
    // Structured log records (one per failed create, at --log-level) aside, the command says it once.
    const said = child
      .stderr()
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("{"));
    expect(said, child.stderr()).toHaveLength(1);
    expect(said[0]).toMatch(
      /^cloudce submit: Driver_state_dir: cannot create \/proc\/cloudce-state-\d+\/vms \(\w+\); make the folder writable or set Driver_state_dir/,
    );
  });
});
