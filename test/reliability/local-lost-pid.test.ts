/**
 * A site director SIGKILLed between starting a LOCAL VM and saving its pid:
 * the CE still sees the pilot as it is, and cleanup really ends every
 * process the pilot started.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CloudComputingElement, type PilotInfo } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../drivers/conformance.js";
import { running, killGroup } from "../support/processes.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const pilotsOf = async (ce: CloudComputingElement): Promise<PilotInfo[]> => {
  const r = await ce.listPilots();
  if (!r.OK) throw new Error(r.Message);
  return r.Value;
};

/** Rewrites every VM record as the crash leaves it (saved before the spawn, so without pid); returns the pids it dropped. */
async function forgetPids(stateDir: string): Promise<number[]> {
  const vms = join(stateDir, "vms");
  const dropped: number[] = [];
  for (const id of await readdir(vms)) {
    const path = join(vms, id, "node.json");
    const { pid, ...record } = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    if (typeof pid === "number") dropped.push(pid);
    await writeFile(path, JSON.stringify(record));
  }
  return dropped;
}

describe("LOCAL VM whose pid was never saved", () => {
  it("reads running through the CE, and cleanup kills the background processes its pilot left", async () => {
    const work = await mkdtemp(join(tmpdir(), "cloudce-lost-pid-"));
    const stateDir = join(work, "state");
    const [bgFile, goFile, pilot] = [join(work, "bg.pid"), join(work, "go"), join(work, "pilot.sh")];
    // The pilot leaves a child behind and exits once the test lets it.
    await writeFile(
      pilot,
      `#!/bin/bash\nsleep 120 &\necho $! > ${bgFile}\nwhile [ ! -e ${goFile} ]; do sleep 0.05; done\n`,
    );
    const ce = new CloudComputingElement("ce-lost-pid.example.org", { logger: silentLogger });
    await ce.setParameters({
      CloudType: "LOCAL",
      Driver_state_dir: stateDir,
      Instance_Image: "name:el9-pilot",
      Instance_Flavor: "name:small",
    });
    cleanups.push(async () => {
      const bg = Number((await readFile(bgFile, "utf8").catch(() => "")).trim());
      if (bg > 0 && running(bg)) process.kill(bg, "SIGKILL");
      await ce.shutdown();
      await rm(work, { recursive: true, force: true });
    });

    const submitted = await ce.submitJob(pilot, null, 1);
    expect(submitted.OK).toBe(true);
    const leaders = await forgetPids(stateDir);
    cleanups.push(async () => leaders.forEach(killGroup));
    const bgText = await eventually(
      () => readFile(bgFile, "utf8").catch(() => ""),
      (t) => t.trim() !== "",
      10_000,
      "the pilot to start its child",
    );
    const bgPid = Number(bgText.trim());

    const [live] = await eventually(
      () => pilotsOf(ce),
      (ps) => ps[0]?.state === "running",
      10_000,
      "the pilot to read running",
    );
    expect(live?.status).toBe("Running");

    await writeFile(goFile, "");
    await eventually(
      () => pilotsOf(ce),
      (ps) => ps[0]?.status === "Done",
      10_000,
      "the pilot to finish",
    );
    expect(running(bgPid)).toBe(true);

    const cleaned = await ce.cleanupPilots();
    expect(cleaned.OK && cleaned.Value.deleted.map((d) => d.ref)).toEqual([live?.ref]);
    await eventually(
      async () => running(bgPid),
      (alive) => !alive,
      5_000,
      "the pilot's background child to die",
    );
    expect(await pilotsOf(ce)).toEqual([]);
  });
});
