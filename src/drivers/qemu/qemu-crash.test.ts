/**
 * A cloudce killed in the middle of a QEMU boot: the VM's record is saved
 * but the driver never wrote the leader's pid into it. The VM must still be
 * seen as it is and be ended by destroy and stop. QEMU is a stub that runs
 * until killed, or powers the "guest" off at once.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/drivers/conformance.js";
import { silentLogger } from "../../log.js";
import { LocalStore, type LocalNodeRecord } from "../process/vm-store.js";
import { instantiateDriver } from "../registry.js";
import qemuFactory, { type QemuDriver } from "./index.js";
import { launchQemu, qemuArgs } from "./qemu-process.js";
import { running, killGroup } from "../../../test/support/processes.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Writes its own pid beside the serial log, then runs until killed (the command line is QEMU's). */
const RUNNING_QEMU = `#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -serial ] && console="\${2#file:}"; shift; done
echo $$ > "$console.qemu-pid"
exec sleep 120
`;
/** A guest that powers off at once. */
const POWEROFF_QEMU = `#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -serial ] && console="\${2#file:}"; shift; done
echo "[    1.0] reboot: Power down" >> "$console"
`;

interface Fixture {
  readonly driver: QemuDriver;
  readonly store: LocalStore;
  readonly poweroffQemu: string;
}

async function setup(options: Record<string, string> = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "cloudce-qemu-crash-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const [qemu, poweroffQemu, image, stateDir] = [
    join(dir, "qemu"),
    join(dir, "qemu-poweroff"),
    join(dir, "disk.qcow2"),
    join(dir, "state"),
  ];
  await writeFile(qemu, RUNNING_QEMU, { mode: 0o755 });
  await writeFile(poweroffQemu, POWEROFF_QEMU, { mode: 0o755 });
  await writeFile(image, "QFI\xfb");
  const driver = (await instantiateDriver(
    qemuFactory,
    {
      options: { image, qemu_binary: qemu, state_dir: stateDir, ...options },
      credentials: async () => ({ extra: {} }),
      ceName: "qemu-crash",
      logger: silentLogger,
      requestTimeoutMs: 5_000,
    },
    "QEMU",
  )) as QemuDriver;
  const store = new LocalStore(stateDir);
  await store.init();
  return { driver, store, poweroffQemu };
}

/** The record as the driver saves it before booting: no pid yet. */
async function reservedRecord(store: LocalStore, bootedBy: number): Promise<LocalNodeRecord> {
  const record: LocalNodeRecord = {
    id: `qemu-crash${Math.random().toString(16).slice(2, 8)}`,
    name: "crashed",
    createdAt: new Date().toISOString(),
    imageId: "qemu-image",
    flavorId: "qemu-flavor",
    networkIds: [],
    metadata: {},
    bootedBy,
  };
  await store.save(record);
  return record;
}

/** What a crash right after starting QEMU leaves: a saved record without pid and a live VM. */
async function crashAfterSpawn(
  fx: Fixture,
  qemuBinary = fx.driver.settings.qemuBinary,
): Promise<{ id: string; leader: number; qemu: () => Promise<number> }> {
  const { id } = await reservedRecord(fx.store, deadPid());
  const dir = fx.store.dir(id);
  const settings = { ...fx.driver.settings, qemuBinary };
  const disks = { overlay: join(dir, "overlay.qcow2"), seed: join(dir, "seed.img") };
  const leader = launchQemu(settings, dir, qemuArgs(settings, `cloudce-${id}`, disks, fx.store.consolePath(id)));
  cleanups.push(async () => killGroup(leader));
  const qemu = async (): Promise<number> => {
    const path = `${fx.store.consolePath(id)}.qemu-pid`;
    const text = await eventually(
      () => readFile(path, "utf8").catch(() => ""),
      (t) => t.trim() !== "",
      5_000,
      "QEMU to start",
    );
    return Number(text.trim());
  };
  return { id, leader, qemu };
}

/** A pid no process holds: the cloudce that reserved the record and was killed. */
function deadPid(): number {
  const pid = spawnSync("true").pid;
  if (pid === undefined) throw new Error("spawnSync returned no pid");
  return pid;
}

describe("QEMU VM whose record lost its pid in a crash", () => {
  it("reads running, and destroy kills QEMU and its wrapper", async () => {
    const fx = await setup();
    const vm = await crashAfterSpawn(fx);
    const qemuPid = await vm.qemu();

    const node = await eventually(
      () => fx.driver.getNode(vm.id),
      (n) => n?.state === "running",
      5_000,
      "the VM to read running",
    );
    expect(node?.cloudState).toBe("RUNNING");
    expect((await fx.driver.listNodes({ namePrefix: "crashed", metadata: {} })).map((n) => n.state)).toEqual([
      "running",
    ]);

    await fx.driver.destroyNodes([vm.id]);
    await eventually(
      async () => [running(vm.leader), running(qemuPid)],
      (alive) => alive.every((a) => !a),
      5_000,
      "the VM's processes to die",
    );
    expect(await fx.driver.getNode(vm.id)).toBeUndefined();
  });

  it("stop ends it; a guest power-off and a killed QEMU read as such", async () => {
    const fx = await setup();
    const stopped = await crashAfterSpawn(fx);
    const killed = await crashAfterSpawn(fx);
    const poweredOff = await crashAfterSpawn(fx, fx.poweroffQemu);
    const stoppedQemu = await stopped.qemu();
    await killed.qemu();

    await fx.driver.stopNodes([stopped.id]);
    killGroup(killed.leader);
    await eventually(
      () => fx.driver.getNode(stopped.id),
      (n) => n?.state === "stopped",
      5_000,
      "the stopped VM",
    );
    expect((await fx.driver.getNode(stopped.id))?.cloudState).toBe("STOPPED");
    await eventually(
      async () => running(stoppedQemu),
      (alive) => !alive,
      5_000,
      "the stopped VM's QEMU to end",
    );
    expect(
      await eventually(
        () => fx.driver.getNode(killed.id),
        (n) => n?.state !== "running",
        5_000,
        "the killed VM",
      ),
    ).toMatchObject({ state: "error", cloudState: "CRASHED" });
    expect(
      await eventually(
        () => fx.driver.getNode(poweredOff.id),
        (n) => n?.state !== "running",
        5_000,
        "the powered-off VM",
      ),
    ).toMatchObject({ state: "stopped", cloudState: "POWERED_OFF" });
  });

  it("a boot whose cloudce died before QEMU started reads failed, and holds its quota slot until destroyed", async () => {
    const fx = await setup({ max_instances: "2" });
    const inProgress = await reservedRecord(fx.store, process.pid);
    const abandoned = await reservedRecord(fx.store, deadPid());

    expect(await fx.driver.getNode(inProgress.id)).toMatchObject({ state: "booting", cloudState: "BUILDING" });
    expect(await fx.driver.getNode(abandoned.id)).toMatchObject({ state: "error", cloudState: "BOOT_INTERRUPTED" });
    expect((await fx.driver.getLimits()).instances).toBe(0);

    await fx.driver.destroyNodes([abandoned.id, inProgress.id]);
    expect((await fx.driver.getLimits()).instances).toBe(2);
  });
});
