/** `cloudce try` without booting: its one-line errors, the probe it puts in front of the pilot, and the verdict rules. */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run.js";
import { failedModules } from "../../src/cli/try-cloud-init.js";
import { withProbe } from "../../src/cli/try-guest.js";
import { judge } from "../../src/cli/try-verdict.js";

async function cli(...argv: string[]): Promise<{ code: number; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const err: Buffer[] = [];
  stderr.on("data", (c: Buffer) => err.push(c));
  stdout.resume();
  const code = await run(argv, { stdout, stderr });
  return { code, stderr: Buffer.concat(err).toString() };
}

describe("cloudce try", () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cloudce-try-"));
    process.env["CLOUDCE_HOME"] = dir;
    config = join(dir, "ce.conf");
    await writeFile(
      config,
      "CE = try.example.org\nCloudType = OPENSTACK\nInstance_Image = name:el9\nInstance_Flavor = m1.small\n",
    );
    await writeFile(join(dir, "pilot.sh"), "#!/bin/bash\necho hi\n");
  });

  it("needs an executable", async () => {
    expect(await cli("--config", config, "try")).toEqual({
      code: 2,
      stderr: "cloudce try: give the pilot executable with --executable FILE (try needs it)\n",
    });
  });

  it("bounds --memory, naming the flag", async () => {
    const r = await cli("--config", config, "try", "--executable", join(dir, "pilot.sh"), "--memory", "99999999");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cloudce try: .*--memory.*'99999999' is not a whole number of MB from 128 to 1048576/);
  });

  it("names a missing image in one line", async () => {
    const r = await cli(
      "--config",
      config,
      "try",
      "--executable",
      join(dir, "pilot.sh"),
      "--image",
      join(dir, "no-such.qcow2"),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^cloudce try: QEMU: Driver_image: no such file .*no-such\.qcow2: give the path of an existing file\n$/,
    );
  });

  it("puts its probe after the #! line and keeps the pilot's bytes after it", () => {
    const pilot = "#!/bin/bash\r\necho 'x' \u00e9\n";
    const probed = withProbe(pilot);
    expect(probed.startsWith("#!/bin/bash\r\n# cloudce try:")).toBe(true);
    expect(probed.endsWith("\necho 'x' \u00e9\n")).toBe(true);
    expect(withProbe("echo no shebang\n")).toMatch(/^#!\/bin\/bash\n# cloudce try:[\s\S]*\necho no shebang\n$/);
  });

  it("finds the modules cloud-init.log says failed, once each", () => {
    const log = [
      "2026-12-01 20:29:38,585 - util.py[WARNING]: Running module package-update-upgrade-install (<module 'x' from 'y'>) failed",
      "2026-12-01 20:29:38,586 - util.py[DEBUG]: Running module package-update-upgrade-install (<module 'x' from 'y'>) failed",
      "2026-12-01 20:29:39,000 - util.py[WARNING]: Running module runcmd (<module 'x' from 'y'>) failed",
      "2026-12-01 20:29:40,000 - modules.py[DEBUG]: Running module locale (<module 'x' from 'y'>) with frequency once-per-instance",
    ].join("\n");
    expect(failedModules(log)).toEqual(["package-update-upgrade-install", "runcmd"]);
  });

  it("passes only a pilot that started as a user, ended, and a VM that powered off without cloud-init errors", () => {
    const base = {
      ref: "cloud://qemu-1",
      stamp: "s",
      console: "",
      resultsDir: "/r",
      timeoutS: 60,
      node: { state: "stopped", cloudState: "POWERED_OFF" },
      guest: {
        pilotStart: { user: "dirac", uid: "1001", PILOT_UUID: "cloud://qemu-1", DIRAC_PILOT_STAMP: "s" },
        pilotEnd: { status: "0" },
        resultErrors: [],
        stageErrors: [],
        cutByShutdown: [],
        collected: true,
      },
    };
    expect(judge(base)).toMatchObject({
      ok: true,
      problems: [],
      pilot: { identity: "matches", user: "dirac (uid 1001)" },
    });
    expect(judge({ ...base, guest: { ...base.guest, pilotEnd: undefined } }).problems).toEqual([
      expect.stringMatching(/^no record of the pilot ending/),
    ]);
    expect(judge({ ...base, node: { state: "running", cloudState: "TIMEOUT(60s)" } }).problems).toEqual([
      "the VM did not power off within 60 s",
    ]);
    expect(
      judge({ ...base, guest: { ...base.guest, pilotStart: { ...base.guest.pilotStart, uid: "0" } } }).problems,
    ).toEqual(["the pilot ran as root"]);
    expect(judge({ ...base, guest: { ...base.guest, resultErrors: ["('x', E)"] } }).problems).toEqual([
      "cloud-init reported 1 error",
    ]);
    expect(judge({ ...base, guest: { stageErrors: [], cutByShutdown: [], collected: false } }).problems[0]).toBe(
      "the pilot never started (or could not write to /results)",
    );
  });
});
