/**
 * The default template on a real VM, through the whole CE on the QEMU cloud:
 * submit renders it exactly as for any cloud (literal per-VM stamp), the
 * guest runs the pilot, powers off, and status/output/cleanup see it.
 */

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudInitReport, labImageReady, scratchDir, type CloudInitReport } from "./vm-env.js";
import { probePilot, readProbe, type ProbeReport } from "./probe-pilot.js";
import { qemuCe, waitFinal, writeExecutable, type QemuCe } from "./qemu-ce.js";

describe.skipIf(!labImageReady())("default template on a real VM (QEMU cloud, literal stamp)", () => {
  const pilot = probePilot("default");
  let work: string;
  let cloud: QemuCe;
  let ref: string;
  let stamp: string;
  let statuses: string[];
  let probe: ProbeReport;
  let cloudInit: CloudInitReport;
  let consoleLog: string;
  let served: string;

  beforeAll(async () => {
    work = await scratchDir("default");
    cloud = await qemuCe(work);
    const submitted = await cloud.ce.submitJob(await writeExecutable(work, "pilot.sh", pilot.text), null, 1);
    if (!submitted.OK) throw new Error(submitted.Message);
    ref = submitted.Value[0]!;
    stamp = submitted.PilotStampDict[ref]!;
    served = await readFile(join(cloud.stateDir, "vms", ref.slice("cloud://".length), "seed", "user-data"), "utf8");
    statuses = await waitFinal(cloud.ce, ref);
    const results = join(work, "results");
    expect(await cloud.driver.copyResults(ref.slice("cloud://".length), results)).toBe(true);
    [probe, cloudInit] = await Promise.all([readProbe(results, "default"), cloudInitReport(results)]);
    const out = await cloud.ce.getJobOutput(ref);
    if (!out.OK) throw new Error(out.Message);
    consoleLog = out.Value[0];
  });

  afterAll(async () => {
    // Whatever happened above, no VM outlives the test.
    if (cloud)
      await cloud.driver.destroyNodes(
        (await cloud.driver.listNodes({ namePrefix: "", metadata: {} })).map((n) => n.id),
      );
    await cloud?.ce.shutdown();
  });

  it("served the CE's MIME multipart user-data on the NoCloud seed", () => {
    expect(served).toMatch(/^Content-Type: multipart\/mixed; boundary=/);
    expect(served).toContain('Content-Type: text/cloud-config; charset="utf-8"');
  });

  it("runs the pilot as dirac, from /mnt/dirac/run_pilot.sh, byte-exact", () => {
    expect(probe.whoami).toMatchObject({
      user: "dirac",
      path: "/mnt/dirac/run_pilot.sh",
      cwd: "/mnt/dirac",
      home: "/mnt/dirac",
    });
    expect(probe.whoami["uid"]).not.toBe("0");
    expect(probe.sha256).toBe(pilot.sha256);
  });

  it("gives the pilot PILOT_UUID and DIRAC_PILOT_STAMP equal to what submitJob returned", () => {
    expect(probe.env["PILOT_UUID"]).toBe(ref);
    expect(probe.env["DIRAC_PILOT_STAMP"]).toBe(stamp);
  });

  it("powers off after the pilot ended, through power_state", () => {
    expect(probe.started && probe.ended).toBe(true);
    expect(statuses.at(-1)).toBe("Done");
    expect(consoleLog).toContain("reboot: Power down");
    expect(consoleLog).toContain(`cloudce: pilot ${ref} stamp ${stamp} exited with status 0`);
    // power_state_change ran, after the pilot's runcmd ended (not a poweroff from runcmd).
    expect(cloudInit.log).toMatch(/power_state_change/);
    expect(cloudInit.log).toMatch(/will execute: shutdown -P now/);
  });

  it("leaves cloud-init without errors", () => {
    expect(cloudInit.result?.v1.errors).toEqual([]);
  });

  it("is cleaned up: the VM's process, overlay and seed are gone", async () => {
    const cleaned = await cloud.ce.cleanupPilots();
    expect(cleaned.OK).toBe(true);
    const listed = await cloud.ce.listPilots();
    expect(listed.OK && listed.Value).toEqual([]);
    expect(await readdir(join(cloud.stateDir, "vms"))).toEqual([]);
  });
});
