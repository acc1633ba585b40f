/** LOCAL: of two destroys of one VM at once (two processes on one state dir), exactly one removes it; the other finds it gone. */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import localFactory from "../../src/drivers/local/index.js";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { instantiateDriver } from "../../src/drivers/registry.js";
import { silentLogger } from "../../src/log.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function driverOn(stateDir: string): Promise<CloudDriver> {
  const driver = await instantiateDriver(
    localFactory,
    {
      options: { state_dir: stateDir, boot_seconds: "3600" },
      credentials: async () => ({ extra: {} }),
      ceName: "gone",
      logger: silentLogger,
      requestTimeoutMs: 5_000,
    },
    "LOCAL",
  );
  cleanups.push(() => driver.close());
  return driver;
}

describe("LOCAL destroy", () => {
  it("two drivers destroying the same VMs together: each VM is removed by one and gone for the other", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "cloudce-local-gone-"));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const [a, b] = [await driverOn(stateDir), await driverOn(stateDir)];
    const nodes = Array.from({ length: 8 }, (_, i) => ({
      name: `GONE_${i}`,
      userData: new Uint8Array(),
      metadata: { "cloudce-ce": "gone" },
    }));
    const { created } = await a.createNodes({
      imageId: "local-el9",
      flavorId: "local.small",
      networkIds: [],
      nodes,
      requestId: "r1",
    });
    const ids = created.map((n) => n.id);
    expect(ids).toHaveLength(8);
    const [ra, rb] = await Promise.all([a.destroyNodes(ids), b.destroyNodes([...ids].reverse())]);
    expect([...ra.done].sort()).toEqual([...ids].sort());
    expect([...rb.done].sort()).toEqual([...ids].sort());
    const removedBy = (r: typeof ra): string[] => r.done.filter((id) => !(r.gone ?? []).includes(id));
    expect([...removedBy(ra), ...removedBy(rb)].sort()).toEqual([...ids].sort());
    expect(await a.listNodes({ namePrefix: "GONE_", metadata: {} })).toEqual([]);
  });
});
