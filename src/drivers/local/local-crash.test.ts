/**
 * A cloudce killed in the middle of a LOCAL boot: the VM's record is saved
 * but the driver never wrote the leader's pid into it. The VM must still be
 * seen as it is and be ended by destroy and stop.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/drivers/conformance.js";
import type { CloudDriver } from "../driver.js";
import { instantiateDriver } from "../registry.js";
import { silentLogger } from "../../log.js";
import localFactory from "./index.js";
import { launchVm } from "./local-process.js";
import { LocalStore, type LocalNodeRecord } from "../process/vm-store.js";
import { running, killGroup } from "../../../test/support/processes.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: Record<string, string> = {}): Promise<{ driver: CloudDriver; store: LocalStore }> {
  const stateDir = await mkdtemp(join(tmpdir(), "cloudce-local-crash-"));
  const driver = await instantiateDriver(
    localFactory,
    {
      options: { state_dir: stateDir, ...options },
      credentials: async () => ({ extra: {} }),
      ceName: "local-crash",
      logger: silentLogger,
      requestTimeoutMs: 5_000,
    },
    "LOCAL",
  );
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const store = new LocalStore(stateDir);
  await store.init();
  return { driver, store };
}

/** The record as the driver saves it before booting: no pid yet. */
async function reservedRecord(store: LocalStore, bootedBy: number): Promise<LocalNodeRecord> {
  const record: LocalNodeRecord = {
    id: randomUUID(),
    name: "crashed",
    createdAt: new Date().toISOString(),
    imageId: "local-el9",
    flavorId: "local.small",
    networkIds: [],
    metadata: {},
    bootedBy,
  };
  await store.save(record);
  return record;
}

/** What a crash right after the spawn leaves: a saved record without pid and a live VM whose pilot has a background child. */
async function crashAfterSpawn(
  store: LocalStore,
  pilot = "sleep 120 &\necho $! > bg.pid\nexec sleep 120",
): Promise<{ id: string; leader: number; bg: () => Promise<number> }> {
  const record = await reservedRecord(store, deadPid());
  const root = store.rootDir(record.id);
  await mkdir(join(root, "root"), { recursive: true });
  const program = join(root, "root", "run_pilot.sh");
  await writeFile(program, `#!/bin/bash\n${pilot}\n`);
  const leader = launchVm({
    vmDir: store.dir(record.id),
    program,
    env: {},
    bootSeconds: 0,
    consolePath: store.consolePath(record.id),
  });
  cleanups.push(async () => killGroup(leader));
  const bg = async (): Promise<number> => {
    const text = await eventually(
      () => readFile(join(root, "bg.pid"), "utf8").catch(() => ""),
      (t) => t.trim() !== "",
      5_000,
      "the pilot's background child",
    );
    return Number(text.trim());
  };
  return { id: record.id, leader, bg };
}

/** A pid no process holds: the cloudce that reserved the record and was killed. */
function deadPid(): number {
  const pid = spawnSync("true").pid;
  if (pid === undefined) throw new Error("spawnSync returned no pid");
  return pid;
}

describe("LOCAL VM whose record lost its pid in a crash", () => {
  it("reads running, and destroy kills its whole process group", async () => {
    const { driver, store } = await setup();
    const vm = await crashAfterSpawn(store);
    const bgPid = await vm.bg();

    const node = await eventually(
      () => driver.getNode(vm.id),
      (n) => n?.state === "running",
      5_000,
      "the VM to read running",
    );
    expect(node?.cloudState).toBe("RUNNING");
    expect((await driver.listNodes({ namePrefix: "crashed", metadata: {} })).map((n) => n.state)).toEqual(["running"]);

    await driver.destroyNodes([vm.id]);
    await eventually(
      async () => [running(vm.leader), running(bgPid)],
      (alive) => alive.every((a) => !a),
      5_000,
      "the VM's processes to die",
    );
    expect(await driver.getNode(vm.id)).toBeUndefined();
  });

  it("stop ends it, and a VM that died without a stop reads crashed", async () => {
    const { driver, store } = await setup();
    const stopped = await crashAfterSpawn(store);
    const crashed = await crashAfterSpawn(store);
    await stopped.bg();
    await crashed.bg();

    await driver.stopNodes([stopped.id]);
    killGroup(crashed.leader);
    await eventually(
      () => driver.getNode(stopped.id),
      (n) => n?.state === "stopped",
      5_000,
      "the stopped VM",
    );
    expect((await driver.getNode(stopped.id))?.cloudState).toBe("POWERED_OFF");
    expect(running(stopped.leader)).toBe(false);
    await eventually(
      () => driver.getNode(crashed.id),
      (n) => n?.state === "stopped",
      5_000,
      "the crashed VM",
    );
    expect((await driver.getNode(crashed.id))?.cloudState).toBe("CRASHED");
  });

  it("a boot whose cloudce died before the spawn reads failed, and holds its quota slot until destroyed", async () => {
    const { driver, store } = await setup({ max_instances: "2" });
    const inProgress = await reservedRecord(store, process.pid);
    const abandoned = await reservedRecord(store, deadPid());

    expect(await driver.getNode(inProgress.id)).toMatchObject({ state: "booting", cloudState: "BUILDING" });
    expect(await driver.getNode(abandoned.id)).toMatchObject({ state: "error", cloudState: "BOOT_INTERRUPTED" });
    expect((await driver.getLimits()).instances).toBe(0);

    await driver.destroyNodes([abandoned.id, inProgress.id]);
    expect((await driver.getLimits()).instances).toBe(2);
  });
});
