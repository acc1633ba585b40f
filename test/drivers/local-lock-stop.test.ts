/**
 * A create waiting for the state dir's lock (another process is checking
 * the quota) stops waiting when the caller's stop arrives: its nodes come
 * back as not sent, and nothing is recorded.
 */
import { mkdtemp, readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import localFactory from "../../src/drivers/local/index.js";
import { instantiateDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";
import { acquireLock } from "../../src/util/lock.js";
import { until } from "../support/wait.js";

describe("LOCAL create waiting for the state dir's lock", () => {
  it("reports every node as not sent once the stop arrives", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cloudce-local-stop-"));
    const driver = await instantiateDriver(
      localFactory,
      {
        options: { state_dir: stateDir },
        credentials: async () => ({ extra: {} }),
        ceName: "stop",
        logger: silentLogger,
        requestTimeoutMs: 5_000,
      },
      "LOCAL",
    );
    // Held by a live process (this one), as by another cloudce checking the quota.
    const held = await acquireLock(join(stateDir, "quota.lock"));
    const stop = new AbortController();
    const nodes = [
      { name: "vm-a", metadata: {}, userData: new Uint8Array() },
      { name: "vm-b", metadata: {}, userData: new Uint8Array() },
    ];
    const pending = driver.createNodes({
      imageId: "local-el9",
      flavorId: "local.small",
      networkIds: [],
      nodes,
      requestId: "r1",
      signal: stop.signal,
    });
    await until(
      () =>
        stat(join(stateDir, "vms")).then(
          () => true,
          () => false,
        ),
      "the create to reach the lock",
    );
    stop.abort();
    const result = await pending;
    expect(result.created).toEqual([]);
    expect(result.failed.map((f) => [f.target, f.notSent])).toEqual([
      ["vm-a", true],
      ["vm-b", true],
    ]);
    expect(await readdir(join(stateDir, "vms"))).toEqual([]);
    await held.release();
  });
});
