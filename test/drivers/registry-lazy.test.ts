/**
 * The registry loads a driver only when a CE uses it: a LOCAL CE that works
 * (options, check, status) never loads another cloud's modules. Each other
 * driver's entry points are wrapped by a mock that records being loaded;
 * test/docs/layering.test.ts checks that nothing imports a driver statically.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

const loaded = vi.hoisted(() => new Set<string>());

vi.mock(import("../../src/drivers/openstack/index.js"), (actual) => loaded.add("openstack") && actual());
vi.mock(import("../../src/drivers/ec2/index.js"), (actual) => loaded.add("ec2") && actual());
vi.mock(import("../../src/drivers/qemu/index.js"), (actual) => loaded.add("qemu") && actual());
vi.mock(import("../../src/drivers/gce/index.js"), (actual) => loaded.add("gce") && actual());
vi.mock(import("../../src/drivers/gce/names.js"), (actual) => loaded.add("gce/names") && actual());
vi.mock(import("../../src/drivers/kubernetes/index.js"), (actual) => loaded.add("kubernetes") && actual());
vi.mock(import("../../src/drivers/kubernetes/names.js"), (actual) => loaded.add("kubernetes/names") && actual());
vi.mock(import("../../src/drivers/azure/index.js"), (actual) => loaded.add("azure") && actual());
vi.mock(import("../../src/drivers/azure/names.js"), (actual) => loaded.add("azure/names") && actual());

const { CloudComputingElement, silentLogger } = await import("../../src/index.js");
const { loadNameRule } = await import("../../src/drivers/registry.js");

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("lazy driver loading", () => {
  it("a LOCAL CE loads no other driver", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cloudce-lazy-"));
    dirs.push(dir);
    const ce = new CloudComputingElement("lazy.example.org", { logger: silentLogger, metrics: null });
    const set = await ce.setParameters({
      CloudType: "LOCAL",
      Instance_Image: "name:el9-pilot",
      Instance_Flavor: "small",
      Driver_state_dir: dir,
    });
    expect(set.OK).toBe(true);
    expect((await ce.getCEStatus()).OK).toBe(true);
    await ce.shutdown();
    expect([...loaded]).toEqual([]);
  });

  it("a cloud type's name rule loads its names module only (the mocks do see loads)", async () => {
    await loadNameRule("GCE");
    expect([...loaded]).toEqual(["gce/names"]);
  });
});
