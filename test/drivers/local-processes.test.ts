/**
 * LOCAL VMs as real process groups: destroy reaches every process a pilot
 * started, and the instance quota holds when creates run at once.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import localFactory from "../../src/drivers/local/index.js";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { instantiateDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { startFixture } from "../support/child.js";
import { eventually } from "./conformance.js";
import { running } from "../support/processes.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function localDriver(options: Record<string, string> = {}): Promise<{ driver: CloudDriver; stateDir: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), "cloudce-local-proc-"));
  const driver = await instantiateDriver(
    localFactory,
    {
      options: { state_dir: stateDir, ...options },
      credentials: async () => ({ extra: {} }),
      ceName: "local-proc",
      logger: silentLogger,
      requestTimeoutMs: 5_000,
    },
    "LOCAL",
  );
  cleanups.push(async () => {
    const nodes = await driver.listNodes({ namePrefix: "", metadata: {} });
    await driver.destroyNodes(nodes.map((n) => n.id));
    await rm(stateDir, { recursive: true, force: true });
  });
  return { driver, stateDir };
}

function pilot(script: string): Uint8Array {
  const body = script
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");
  return new Uint8Array(
    Buffer.from(
      `#cloud-config\nwrite_files:\n  - path: /root/run_pilot.sh\n    permissions: '0755'\n    content: |\n${body}\n`,
    ),
  );
}

function request(names: string[], userData: Uint8Array): CreateNodesRequest {
  return {
    requestId: `req-${names.join("-")}`,
    imageId: "local-el9",
    flavorId: "local.small",
    networkIds: [],
    nodes: names.map((name) => ({ name, userData, metadata: {} })),
  };
}

describe("LOCAL process groups", () => {
  it("destroy kills a pilot's background children after the pilot itself has exited", async () => {
    const { driver, stateDir } = await localDriver();
    const { created } = await driver.createNodes(
      request(["bg-child"], pilot("#!/bin/bash\nsleep 120 &\necho $! > bg.pid\nexit 0")),
    );
    const node = created[0]!;
    await eventually(
      () => driver.getNode(node.id),
      (n) => n?.state === "stopped",
      10_000,
      "the pilot to exit",
    );
    const bgPid = Number((await readFile(join(stateDir, "vms", node.id, "root", "bg.pid"), "utf8")).trim());
    cleanups.push(async () => void (running(bgPid) && process.kill(bgPid, "SIGKILL")));
    expect(running(bgPid)).toBe(true);

    await driver.destroyNodes([node.id]);
    await eventually(
      async () => running(bgPid),
      (alive) => !alive,
      5_000,
      "the background sleep to die",
    );
  });

  it("holds Driver_max_instances when creates run at once, also from two driver objects on one state dir", async () => {
    const { driver, stateDir } = await localDriver({ max_instances: "2" });
    const twin = await instantiateDriver(
      localFactory,
      {
        options: { state_dir: stateDir, max_instances: "2" },
        credentials: async () => ({ extra: {} }),
        ceName: "local-proc",
        logger: silentLogger,
        requestTimeoutMs: 5_000,
      },
      "LOCAL",
    );
    const userData = pilot("#!/bin/bash\nexec sleep 600");
    const results = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => (i % 2 ? twin : driver).createNodes(request([`quota-${i}`], userData))),
    );
    const created = results.flatMap((r) => r.created);
    const failed = results.flatMap((r) => r.failed);
    expect(created).toHaveLength(2);
    expect(failed).toHaveLength(4);
    expect(failed.every((f) => /quota of 2/.test(f.error.message))).toBe(true);
    expect(await driver.listNodes({ namePrefix: "quota-", metadata: {} })).toHaveLength(2);
  });

  it("holds Driver_max_instances when several processes create on one state dir at once", async () => {
    const { driver, stateDir } = await localDriver({ max_instances: "10" });
    const racers = await Promise.all(
      [1, 2, 3].map(async () => {
        const c = await startFixture("local-creates", [stateDir, "10", "12"], FIXTURES);
        await c.waitFor(/READY/);
        return c;
      }),
    );
    for (const r of racers) r.child.stdin!.write("go\n");
    const created = await Promise.all(racers.map(async (r) => Number((await r.waitFor(/CREATED (\d+)/, 30_000))[1])));
    expect(created.reduce((a, b) => a + b, 0)).toBe(10);
    expect(await driver.listNodes({ namePrefix: "race-", metadata: {} })).toHaveLength(10);
  });
});
