/**
 * A DIRAC-format template used unchanged, on a real VM, through
 * `cloudce try` (the CE's real template, literal per-VM stamp, QEMU cloud):
 * the verdict and what the guest wrote agree, and the only cloud-init errors
 * are the ones a Debian guest without network must give for an EL template.
 */

import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run.js";
import { withProbe } from "../../src/cli/try-guest.js";
import type { TryVerdict } from "../../src/cli/try-verdict.js";
import {
  cloudInitReport,
  labImageReady,
  modulesFailedInLog,
  scratchDir,
  stageErrors,
  VM_LAB,
  type CloudInitReport,
} from "./vm-env.js";
import { probePilot, readProbe, type ProbeReport } from "./probe-pilot.js";

const SHARED_TEMPLATE = resolve(VM_LAB.dir, "../reference/dirac-cloudinit.template");
const TEMPLATE = existsSync(SHARED_TEMPLATE)
  ? SHARED_TEMPLATE
  : resolve(import.meta.dirname, "../context/fixtures/dirac-cloudinit.template");

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write: (c, _e, done) => {
        chunks.push(Buffer.from(c));
        done();
      },
    }),
    text: () => Buffer.concat(chunks).toString(),
  };
}

/** The module a cloud-init error names: `('package-update-upgrade-install', ProcessExecutionError(...))`. */
const moduleOf = (error: string) => /^\('([\w-]+)'/.exec(error)?.[1] ?? error;

/** The modules cloud-final runs after scripts-user (the runcmd) on the Debian guest. */
const AFTER_RUNCMD = [
  "ssh-authkey-fingerprints",
  "keys-to-console",
  "install-hotplug",
  "phone-home",
  "final-message",
  "power-state-change",
];

describe.skipIf(!labImageReady())("DIRAC template, unchanged, on a real VM through cloudce try", () => {
  const pilot = probePilot("dirac");
  let code: number;
  let verdict: TryVerdict;
  let stderr: string;
  let probe: ProbeReport;
  let cloudInit: CloudInitReport;

  beforeAll(async () => {
    const work = await scratchDir("dirac");
    process.env["CLOUDCE_HOME"] = work;
    const config = join(work, "ce.conf");
    // A site's OpenStack CE: try keeps its template and boots it on QEMU instead.
    await writeFile(
      config,
      [
        "CE = dirac-site.example.org",
        "CloudType = OPENSTACK",
        "Instance_Image = name:el9",
        "Instance_Flavor = m1.small",
        `Context_Template = ${TEMPLATE}`,
        "",
      ].join("\n"),
    );
    const executable = join(work, "pilot.sh");
    await writeFile(executable, pilot.text);
    const out = sink();
    const err = sink();
    code = await run(
      [
        "try",
        "--config",
        config,
        "--executable",
        executable,
        "--image",
        VM_LAB.image,
        "--json",
        "--timeout",
        String(VM_LAB.bootTimeoutMs / 1000 - 30),
      ],
      { stdout: out.stream, stderr: err.stream },
    );
    stderr = err.text();
    verdict = JSON.parse(out.text()) as TryVerdict;
    [probe, cloudInit] = await Promise.all([
      readProbe(verdict.resultsDir, "dirac"),
      cloudInitReport(verdict.resultsDir),
    ]);
  });

  it("runs the pilot as dirac from /mnt/run_pilot.sh, byte-exact (try's probe in front)", () => {
    expect(probe.whoami).toMatchObject({ user: "dirac", path: "/mnt/run_pilot.sh", cwd: "/mnt/dirac" });
    expect(probe.sha256).toBe(createHash("sha256").update(withProbe(pilot.text)).digest("hex"));
    expect(verdict.pilot).toMatchObject({
      started: true,
      path: "/mnt/run_pilot.sh",
      identity: "matches",
      ended: true,
      exitStatus: "0",
    });
    expect(verdict.pilot.user).toMatch(/^dirac \(uid [1-9]\d*\)$/);
  });

  it("gives the pilot PILOT_UUID and DIRAC_PILOT_STAMP as submitted", () => {
    expect(probe.env["PILOT_UUID"]).toBe(verdict.ref);
    expect(probe.env["DIRAC_PILOT_STAMP"]).toBe(verdict.stamp);
    expect(verdict.stamp).toMatch(/^[0-9a-f]{32}$/);
  });

  it("powers off after the pilot ended, through the template's own runcmd poweroff", () => {
    expect(probe.started && probe.ended).toBe(true);
    expect(verdict.vm).toEqual({ state: "stopped", cloudState: "POWERED_OFF", poweredOff: true });
    // No power_state in the template: the last runcmd powered off, cutting cloud-final short (no result.json).
    expect(cloudInit.log).not.toMatch(/will execute: shutdown/);
    expect(cloudInit.result).toBeUndefined();
  });

  it("reports exactly the errors of an EL template on a Debian guest without network", () => {
    // The packages fail in cloud-final, which the runcmd poweroff cuts short: only the log has it.
    expect(stageErrors(cloudInit)).toEqual([]);
    const [first, ...after] = modulesFailedInLog(cloudInit);
    expect(first).toBe("package-update-upgrade-install");
    expect(cloudInit.log).toMatch(/Failed to install packages: \['cvmfs', 'epel-release'\]/);
    expect(verdict.cloudInit.errors.map(moduleOf)).toEqual([first]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^cloudce try: the template did not pass: cloud-init reported 1 error$/m);
    // A module cloud-final runs after the runcmd (scripts-user) may be killed by its poweroff on a slow
    // host: named as cut, never counted.
    for (const m of after) expect(verdict.cloudInit.cutByPoweroff).toContain(m);
    for (const m of verdict.cloudInit.cutByPoweroff) expect(AFTER_RUNCMD).toContain(m);
  });
});
