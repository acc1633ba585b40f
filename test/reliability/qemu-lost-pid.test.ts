/**
 * A site director killed in the middle of a QEMU boot, through the CE: a
 * VM whose pid was never saved is seen as it is and killed for real, and
 * one whose director died before QEMU started is failed and cleaned up.
 * QEMU and the disk tools are stubs on PATH (no real VM boots).
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CloudComputingElement, type PilotInfo } from "../../src/ce/index.js";
import { DEFAULT_TEMPLATE_PATH } from "../../src/context/index.js";
import { silentLogger } from "../../src/log.js";
import { eventually } from "../drivers/conformance.js";
import { startFixture } from "../support/child.js";
import { running } from "../support/processes.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const CE_NAME = "ce-qemu-lost-pid.example.org";

/** Stub disk tools: each makes its output file; mkfs.vfat hangs while its cloudce lives (until stdin closes) when told to. */
const TOOLS: Record<string, string> = {
  "qemu-img": 'for a; do last=$a; done; : > "$last"',
  "mkfs.vfat":
    '[ -n "$CLOUDCE_TEST_HANG_MARK" ] && { : > "$CLOUDCE_TEST_HANG_MARK"; cat > /dev/null; exit 1; }; : > "$4"',
  mcopy: "exit 0",
};
/** Writes its own pid beside the serial log, then runs until killed (the command line is QEMU's). */
const QEMU = `while [ $# -gt 0 ]; do [ "$1" = -serial ] && console="\${2#file:}"; shift; done
echo $$ > "$console.qemu-pid"
exec sleep 120`;

const cleanups: (() => Promise<void>)[] = [];
let savedPath: string | undefined;
beforeEach(() => {
  savedPath = process.env["PATH"];
  process.env["CLOUDCE_TEST_TEMPLATE"] = DEFAULT_TEMPLATE_PATH;
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  process.env["PATH"] = savedPath;
});

interface Site {
  readonly work: string;
  readonly stateDir: string;
  readonly image: string;
  readonly qemu: string;
  readonly pilot: string;
  ce(): Promise<CloudComputingElement>;
}

/** Stub tools first on PATH (this process's and its children's), and a CE factory on the stub cloud. */
async function site(): Promise<Site> {
  const work = await mkdtemp(join(tmpdir(), "cloudce-qemu-lost-pid-"));
  const bin = join(work, "bin");
  await mkdir(bin);
  for (const [name, body] of Object.entries(TOOLS))
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  const [qemu, image, pilot, stateDir] = [
    join(bin, "qemu-system-x86_64"),
    join(work, "disk.qcow2"),
    join(work, "pilot.sh"),
    join(work, "state"),
  ];
  await writeFile(qemu, `#!/bin/sh\n${QEMU}\n`, { mode: 0o755 });
  await writeFile(image, "QFI\xfb");
  await writeFile(pilot, "#!/bin/bash\necho pilot ran\n");
  process.env["PATH"] = `${bin}:${savedPath ?? ""}`;
  const ces: CloudComputingElement[] = [];
  cleanups.push(async () => {
    for (const ce of ces) await ce.shutdown();
    await killLeftovers(stateDir);
    await rm(work, { recursive: true, force: true });
  });
  const ce = async (): Promise<CloudComputingElement> => {
    const c = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ces.push(c);
    const set = await c.setParameters({
      CloudType: "QEMU",
      Driver_state_dir: stateDir,
      Driver_image: image,
      Driver_qemu_binary: qemu,
      Instance_Image: "qemu-image",
      Instance_Flavor: "qemu-flavor",
    });
    if (!set.OK) throw new Error(set.Message);
    return c;
  };
  return { work, stateDir, image, qemu, pilot, ce };
}

/** Kills any stub QEMU a failed test left running (by the pid it wrote itself: the driver may have lost it). */
async function killLeftovers(stateDir: string): Promise<void> {
  const vms = join(stateDir, "vms");
  for (const id of await readdir(vms).catch(() => [])) {
    const pid = Number((await readFile(join(vms, id, "console.log.qemu-pid"), "utf8").catch(() => "")).trim());
    if (pid > 0 && running(pid)) process.kill(pid, "SIGKILL");
  }
}

/** Rewrites every VM record as a crash right after the spawn leaves it (no pid saved). */
async function forgetPids(stateDir: string): Promise<void> {
  const vms = join(stateDir, "vms");
  for (const id of await readdir(vms)) {
    const path = join(vms, id, "node.json");
    const { pid: _dropped, ...record } = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    await writeFile(path, JSON.stringify(record));
  }
}

const pilotsOf = async (ce: CloudComputingElement): Promise<PilotInfo[]> => {
  const r = await ce.listPilots();
  if (!r.OK) throw new Error(r.Message);
  return r.Value;
};

describe("QEMU VM whose site director died mid-boot", () => {
  it("reads running when its pid was never saved, and kill ends QEMU", async () => {
    const s = await site();
    const ce = await s.ce();
    const submitted = await ce.submitJob(s.pilot, null, 1);
    expect(submitted.OK).toBe(true);
    await forgetPids(s.stateDir);
    const [id] = await readdir(join(s.stateDir, "vms"));
    const qemuText = await eventually(
      () => readFile(join(s.stateDir, "vms", id!, "console.log.qemu-pid"), "utf8").catch(() => ""),
      (t) => t.trim() !== "",
      5_000,
      "QEMU to start",
    );
    const qemuPid = Number(qemuText.trim());

    const [live] = await pilotsOf(ce);
    expect(live).toMatchObject({ state: "running", status: "Running" });

    const killed = await ce.killJob([live!.ref]);
    expect(killed.OK).toBe(true);
    await eventually(
      async () => running(qemuPid),
      (alive) => !alive,
      5_000,
      "QEMU to die",
    );
    expect(await pilotsOf(ce)).toEqual([]);
  });

  it("fails a VM whose director was killed before QEMU started, and cleanup removes it", async () => {
    const s = await site();
    const mark = join(s.work, "hanging");
    const child = await startFixture("qemu-submit", [s.stateDir, CE_NAME, s.image, s.qemu, s.pilot, mark], FIXTURES);
    await eventually(
      () =>
        readFile(mark).then(
          () => true,
          () => false,
        ),
      (m) => m,
      15_000,
      "the boot to reach the seed disk",
    );
    child.child.kill("SIGKILL");
    expect((await child.exited).signal).toBe("SIGKILL");

    const ce = await s.ce();
    const [orphan] = await pilotsOf(ce);
    expect(orphan).toMatchObject({ state: "error", cloudState: "BOOT_INTERRUPTED" });
    const cleaned = await ce.cleanupPilots();
    expect(cleaned.OK && cleaned.Value.deleted.map((d) => d.ref)).toEqual([orphan!.ref]);
    expect(await pilotsOf(ce)).toEqual([]);
  });
});
