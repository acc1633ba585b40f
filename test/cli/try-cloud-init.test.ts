/**
 * How `cloudce try` counts cloud-init's errors, on what the installed cloud-init itself writes
 * (its logging config, reporting events, module loop and status files; see
 * fixtures/cloudinit_final_stage.py): a module the template's own poweroff cut after the pilot
 * (in progress when cloud-init logged the shutdown's SIGTERM) is reported but is not the
 * template's error; any other failed module is.
 */

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGuestReport, TRY_DIR } from "../../src/cli/try-guest.js";
import { judge, renderVerdict, type TryVerdict } from "../../src/cli/try-verdict.js";
import { requireCloudInit } from "../context/cloud-init-harness.js";

const GENERATOR = fileURLToPath(new URL("./fixtures/cloudinit_final_stage.py", import.meta.url));

type Outcome = "ok" | "fail" | "sigterm" | "killed";
type Stages = Record<string, [string, Outcome][]>;

const POWERED_OFF = { state: "stopped", cloudState: "POWERED_OFF" };

let root: string;
beforeAll(async () => {
  await requireCloudInit();
  root = await mkdtemp(join(tmpdir(), "cloudce-try-ci-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A results disk as the guest leaves it: the probe's records and cloud-init's files from its real code. */
async function guestAfter(label: string, stages: Stages): Promise<string> {
  const resultsDir = join(root, label);
  const out = join(resultsDir, TRY_DIR);
  await mkdir(out, { recursive: true });
  await promisify(execFile)("/usr/bin/python3", [GENERATOR, out, JSON.stringify({ stages })]);
  await writeFile(
    join(out, "pilot-start"),
    "user=dirac\nuid=1001\npath=/mnt/run_pilot.sh\nPILOT_UUID=cloud://qemu-1\nDIRAC_PILOT_STAMP=s\n",
  );
  await writeFile(join(out, "pilot-end"), "status=0\n");
  return resultsDir;
}

async function verdictFor(label: string, stages: Stages, node = POWERED_OFF): Promise<TryVerdict> {
  const resultsDir = await guestAfter(label, stages);
  return judge({
    ref: "cloud://qemu-1",
    stamp: "s",
    node,
    console: "",
    guest: await readGuestReport(resultsDir),
    resultsDir,
    timeoutS: 60,
  });
}

const moduleOf = (error: string) => /^\('([\w-]+)'/.exec(error)?.[1];
const CONFIG: [string, Outcome][] = [["locale", "ok"]];

describe("cloudce try's count of cloud-init errors", () => {
  it("does not count modules cut after the pilot by the template's poweroff, and names them in one line", async () => {
    // DIRAC's template: packages fail (no network), the runcmd (scripts-user) runs the pilot and powers off.
    const v = await verdictFor("dirac", {
      "modules-config": CONFIG,
      "modules-final": [
        ["package-update-upgrade-install", "fail"],
        ["scripts-user", "ok"],
        ["ssh-authkey-fingerprints", "ok"],
        ["keys-to-console", "sigterm"],
      ],
    });
    expect(v.cloudInit.errors.map(moduleOf)).toEqual(["package-update-upgrade-install"]);
    expect(v.cloudInit.cutByPoweroff).toEqual(["keys-to-console"]);
    expect(v.problems).toEqual(["cloud-init reported 1 error"]);
    expect(renderVerdict(v).split("\n")).toContain(
      "  1 cloud-init module after the pilot's end was cut by the template's poweroff (not an error): keys-to-console",
    );
  });

  it("counts a module after the runcmd that failed on its own when no SIGTERM cut the stage", async () => {
    // A forced poweroff: the final stage never ended, but cloud-init logged no signal.
    const v = await verdictFor("no-signal", {
      "modules-config": CONFIG,
      "modules-final": [
        ["scripts-user", "ok"],
        ["phone-home", "fail"],
        ["final-message", "killed"],
      ],
    });
    expect(v.cloudInit.from).toMatch(/^status\.json/);
    expect(v.cloudInit.errors.map(moduleOf)).toEqual(["phone-home"]);
    expect(v.cloudInit.cutByPoweroff).toEqual([]);
    expect(v.ok).toBe(false);
  });

  it("counts a module after the runcmd that failed before the SIGTERM, and not the one the SIGTERM cut", async () => {
    const v = await verdictFor("before-signal", {
      "modules-config": CONFIG,
      "modules-final": [
        ["scripts-user", "ok"],
        ["phone-home", "fail"],
        ["keys-to-console", "sigterm"],
      ],
    });
    expect(v.cloudInit.errors.map(moduleOf)).toEqual(["phone-home"]);
    expect(v.cloudInit.cutByPoweroff).toEqual(["keys-to-console"]);
    expect(v.problems).toEqual(["cloud-init reported 1 error"]);
  });

  it("passes a template whose only failures are modules its poweroff cut", async () => {
    const v = await verdictFor("clean", {
      "modules-config": CONFIG,
      "modules-final": [
        ["scripts-user", "ok"],
        ["ssh-authkey-fingerprints", "sigterm"],
      ],
    });
    expect(v).toMatchObject({
      ok: true,
      problems: [],
      cloudInit: { errors: [], cutByPoweroff: ["ssh-authkey-fingerprints"] },
    });
    expect(renderVerdict(v)).toMatch(
      /^ {2}1 cloud-init module after the pilot's end was cut by the template's poweroff \(not an error\): ssh-authkey-fingerprints$/m,
    );
  });

  it("counts a failed runcmd (scripts-user) itself, and modules before it", async () => {
    const v = await verdictFor("runcmd", {
      "modules-config": [["locale", "fail"]],
      "modules-final": [
        ["scripts-user", "fail"],
        ["ssh-authkey-fingerprints", "sigterm"],
      ],
    });
    expect(v.cloudInit.errors.map(moduleOf)).toEqual(["locale", "scripts-user"]);
    expect(v.cloudInit.cutByPoweroff).toEqual(["ssh-authkey-fingerprints"]);
    expect(v.ok).toBe(false);
  });

  it("counts a module after the runcmd that failed in a final stage cloud-init finished (nothing cut it)", async () => {
    const v = await verdictFor("finished", {
      "modules-config": CONFIG,
      "modules-final": [
        ["scripts-user", "ok"],
        ["phone-home", "fail"],
        ["final-message", "ok"],
      ],
    });
    expect(v.cloudInit.from).toBe("result.json");
    expect(v.cloudInit.errors.map(moduleOf)).toEqual(["phone-home"]);
    expect(v.cloudInit.cutByPoweroff).toEqual([]);
    expect(v.ok).toBe(false);
  });

  it("reads module names spelt with underscores (newer cloud.cfg files) the same way", async () => {
    const v = await verdictFor("underscores", {
      "modules-config": CONFIG,
      "modules-final": [
        ["package_update_upgrade_install", "fail"],
        ["scripts_user", "ok"],
        ["ssh_authkey_fingerprints", "fail"],
        ["keys_to_console", "sigterm"],
      ],
    });
    expect(v.cloudInit.errors.map(moduleOf)).toEqual(["package_update_upgrade_install", "ssh_authkey_fingerprints"]);
    expect(v.cloudInit.cutByPoweroff).toEqual(["keys_to_console"]);
  });

  it("counts the cut modules as errors when the VM did not power off (no poweroff of the template's cut them)", async () => {
    const v = await verdictFor(
      "no-poweroff",
      {
        "modules-config": CONFIG,
        "modules-final": [
          ["scripts-user", "ok"],
          ["keys-to-console", "sigterm"],
        ],
      },
      { state: "error", cloudState: "CRASHED" },
    );
    expect(v.cloudInit.errors.map(moduleOf)).toEqual(["keys-to-console"]);
    expect(v.cloudInit.cutByPoweroff).toEqual([]);
  });
});
