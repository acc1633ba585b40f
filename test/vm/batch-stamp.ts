/**
 * What the real-VM batch tests share: a CE that submits a batch to a test
 * cloud, one VM's user-data as the cloud received it booted under that VM's
 * id, and the checks that the guest ran the pilot with the stamp the CE
 * returned for it.
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import type { CloudComputingElement } from "../../src/ce/index.js";
import { cloudInitReport, harnessVendorData, labBoot, type CloudInitReport, type LabBoot } from "./vm-env.js";
import { readProbe, type ProbePilot, type ProbeReport } from "./probe-pilot.js";
import { writeExecutable } from "./qemu-ce.js";

/** An auth file with one section for the CE, readable by its owner only. */
export async function writeAuthFile(path: string, ceName: string, key: string, secret: string): Promise<string> {
  await writeFile(path, `[${ceName}]\nkey = ${key}\nsecret = ${secret}\n`, { mode: 0o600 });
  return path;
}

export interface SubmittedBatch {
  readonly refs: string[];
  readonly stamps: Record<string, string>;
}

/** Sets the CE's parameters and submits `count` pilots; any failure throws, so the suite's set-up fails with the CE's message. */
export async function submitBatch(
  ce: CloudComputingElement,
  parameters: Record<string, string>,
  work: string,
  pilot: ProbePilot,
  count: number,
): Promise<SubmittedBatch> {
  const set = await ce.setParameters(parameters);
  if (!set.OK) throw new Error(set.Message);
  const submitted = await ce.submitJob(await writeExecutable(work, "pilot.sh", pilot.text), null, count);
  if (!submitted.OK) throw new Error(submitted.Message);
  return { refs: submitted.Value, stamps: submitted.PilotStampDict };
}

export interface BootedPilot {
  readonly boot: LabBoot;
  readonly probe: ProbeReport;
  readonly cloudInit: CloudInitReport;
}

/** Boots `userData` with `instanceId` in the seed's meta-data, and reads back what the probe pilot (`tag`) and cloud-init wrote. */
export async function bootUserData(
  work: string,
  userData: Buffer,
  instanceId: string,
  tag: string,
): Promise<BootedPilot> {
  const userDataFile = join(work, "user-data");
  await writeFile(userDataFile, userData);
  const results = join(work, "results");
  const boot = await labBoot(userDataFile, instanceId, results, await harnessVendorData(work));
  const [probe, cloudInit] = await Promise.all([readProbe(results, tag), cloudInitReport(results)]);
  return { boot, probe, cloudInit };
}

export interface BootedBatchPilot {
  readonly pilot: ProbePilot;
  readonly booted: BootedPilot;
  /** The reference of the booted VM, as submitJob returned it. */
  readonly ref: string;
  readonly stamp: string | undefined;
}

/** The guest's side of a batch test; `vm` names the VM as the cloud does ("instance", "server"). */
export function itRanTheStampedPilot(vm: string, get: () => BootedBatchPilot): void {
  it(`runs the pilot byte-exact as dirac, with the derived stamp the CE returned for that ${vm}`, () => {
    const {
      pilot,
      booted: { probe },
      ref,
      stamp,
    } = get();
    expect(probe.whoami).toMatchObject({ user: "dirac", path: "/mnt/dirac/run_pilot.sh" });
    expect(probe.sha256).toBe(pilot.sha256);
    expect(probe.env["PILOT_UUID"]).toBe(ref);
    expect(probe.env["DIRAC_PILOT_STAMP"]).toBe(stamp);
  });

  it("powers off after the pilot, with no cloud-init errors", () => {
    const { boot, probe, cloudInit } = get().booted;
    expect(boot).toMatchObject({ code: 0, status: "poweroff" });
    expect(probe.started && probe.ended).toBe(true);
    expect(cloudInit.log).toMatch(/will execute: shutdown -P now/);
    expect(cloudInit.result?.v1.errors).toEqual([]);
  });
}
