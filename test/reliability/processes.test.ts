/**
 * Nothing is lost and nobody touches another's VMs, with real processes:
 * a site director killed mid-submission, two CEs on one project, and two
 * cleanups of one CE running at once, all on the LOCAL cloud.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement, type PilotInfo } from "../../src/ce/index.js";
import { DEFAULT_TEMPLATE_PATH } from "../../src/context/index.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../drivers/conformance.js";
import { startFixture } from "../support/child.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
let quickPilot: string;

beforeAll(async () => {
  process.env["CLOUDCE_TEST_TEMPLATE"] = DEFAULT_TEMPLATE_PATH;
  quickPilot = join(await mkdtemp(join(tmpdir(), "cloudce-rel-")), "pilot.sh");
  await writeFile(quickPilot, "#!/bin/bash\necho pilot ran\n");
});

async function ceOp<T>(
  op: string,
  stateDir: string,
  ce: string,
  count = 1,
): Promise<{ OK: boolean; Value: T; Message?: string }> {
  const child = await startFixture("ce-op", [op, stateDir, ce, String(count), quickPilot], FIXTURES);
  const line = await child.waitFor(/^\{.*\}$/m, 30_000);
  await child.exited;
  return JSON.parse(line[0]) as { OK: boolean; Value: T };
}

async function localCe(stateDir: string, name: string): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement(name, { logger: silentLogger });
  await ce.setParameters({
    CloudType: "LOCAL",
    Driver_state_dir: stateDir,
    Instance_Image: "name:el9-pilot",
    Instance_Flavor: "name:small",
  });
  return ce;
}

const pilotsOf = async (ce: CloudComputingElement): Promise<PilotInfo[]> => {
  const r = await ce.listPilots();
  if (!r.OK) throw new Error(r.Message);
  return r.Value;
};

describe("reliability with real processes", () => {
  it("finds and removes the VMs of a site director killed mid-submission", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cloudce-kill9-"));
    const child = await startFixture(
      "ce-op",
      ["submit-hang", stateDir, "ce-killed.example.org", "3", quickPilot],
      FIXTURES,
    );
    await child.waitFor(/hanging after 3/);
    child.child.kill("SIGKILL");
    expect((await child.exited).signal).toBe("SIGKILL");

    const ce = await localCe(stateDir, "ce-killed.example.org");
    const orphans = await pilotsOf(ce);
    expect(orphans).toHaveLength(3);
    await eventually(
      () => pilotsOf(ce),
      (ps) => ps.every((p) => p.status === "Done"),
      20_000,
      "orphans to finish",
    );
    const cleaned = await ce.cleanupPilots();
    expect(cleaned.OK && cleaned.Value.deleted.map((d) => d.ref).sort()).toEqual(orphans.map((o) => o.ref).sort());
    expect(await pilotsOf(ce)).toEqual([]);
  });

  it("keeps two CEs on one cloud apart while both submit and clean up at once", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cloudce-two-ce-"));
    const [a, b] = await Promise.all([
      ceOp<string[]>("submit", stateDir, "ce-a", 4),
      ceOp<string[]>("submit", stateDir, "ce-b", 3),
    ]);
    expect([a.Value.length, b.Value.length]).toEqual([4, 3]);
    const ceA = await localCe(stateDir, "ce-a");
    const ceB = await localCe(stateDir, "ce-b");
    expect((await pilotsOf(ceA)).map((p) => p.ref).sort()).toEqual([...a.Value].sort());
    await eventually(
      () => pilotsOf(ceB),
      (ps) => ps.length === 3 && ps.every((p) => p.status === "Done"),
      20_000,
      "ce-b pilots to finish",
    );
    await eventually(
      () => pilotsOf(ceA),
      (ps) => ps.every((p) => p.status === "Done"),
      20_000,
      "ce-a pilots to finish",
    );
    const cleanA = await ceOp<{ deleted: { ref: string }[] }>("cleanup", stateDir, "ce-a");
    expect(cleanA.Value.deleted.map((d) => d.ref).sort()).toEqual([...a.Value].sort());
    expect((await pilotsOf(ceB)).map((p) => p.ref).sort()).toEqual([...b.Value].sort());
  });

  it("lets two cleanups of one CE run at once without double deletions or errors", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cloudce-two-clean-"));
    const sub = await ceOp<string[]>("submit", stateDir, "ce-c", 8);
    const ce = await localCe(stateDir, "ce-c");
    await eventually(
      () => pilotsOf(ce),
      (ps) => ps.length === 8 && ps.every((p) => p.status === "Done"),
      20_000,
      "pilots to finish",
    );
    type Report = { deleted: { ref: string }[]; failed: unknown[] };
    const [x, y] = await Promise.all([
      ceOp<Report>("cleanup", stateDir, "ce-c"),
      ceOp<Report>("cleanup", stateDir, "ce-c"),
    ]);
    expect([x.OK, y.OK, x.Value.failed, y.Value.failed]).toEqual([true, true, [], []]);
    const union = new Set([...x.Value.deleted, ...y.Value.deleted].map((d) => d.ref));
    expect([...union].sort()).toEqual([...sub.Value].sort());
    expect(await pilotsOf(ce)).toEqual([]);
  });
});
