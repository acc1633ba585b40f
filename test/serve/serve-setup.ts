/** The setup the `serve` test files share: a server per test over a memory cloud whose creates can be slowed. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { MemoryCloud } from "../../src/testing.js";
import { startServe, type ServeHarness } from "./harness.js";

export const memoryOptions = {
  CloudType: "SERVE_SLOW",
  Instance_Image: "img",
  Instance_Flavor: "small",
  Submit_Concurrency: 1,
  Cloud_RequestTimeout: 1,
};

export interface ServeSetup {
  /** The test's directory, holding pilot.sh. */
  dir: string;
  /** The test's server; a test may end it and start another. */
  server: ServeHarness;
  cloud: MemoryCloud;
  /** Milliseconds each create of the SERVE_SLOW driver takes. */
  createMs: number;
  /** Creates the SERVE_SLOW driver has begun. */
  createsStarted: number;
  /** Creates after this many wait until the test ends (none held when undefined). */
  holdAfter: number | undefined;
  /** Opens a CE on the server with these options; answers its handle. */
  openCe(options?: Record<string, unknown>): Promise<string>;
}

/** Registers the file's setup; call once at the top of a test file. */
export function serveSetup(): ServeSetup {
  const t: ServeSetup = {
    dir: "",
    server: undefined as unknown as ServeHarness,
    cloud: new MemoryCloud(),
    createMs: 0,
    createsStarted: 0,
    holdAfter: undefined,
    async openCe(options = memoryOptions) {
      const opened = await t.server.call("open", { ceName: "serve-test.cloud" });
      const handle = opened.result!["handle"] as string;
      expect((await t.server.call("setParameters", { handle, options })).result).toEqual({ OK: true, Value: null });
      return handle;
    },
  };
  let releaseHeld: () => void = () => undefined;
  let held = Promise.resolve();
  registerDriver("SERVE_SLOW", () => {
    const driver: CloudDriver = t.cloud.driver();
    const create = driver.createNodes.bind(driver);
    return Object.assign(Object.create(driver) as CloudDriver, {
      createNodes: async (req: Parameters<CloudDriver["createNodes"]>[0]) => {
        t.createsStarted++;
        if (t.holdAfter !== undefined && t.createsStarted > t.holdAfter) await held;
        await new Promise((r) => setTimeout(r, t.createMs));
        return create(req);
      },
    });
  });
  beforeEach(async () => {
    t.dir = await mkdtemp(join(tmpdir(), "cloudce-serve-"));
    await writeFile(join(t.dir, "pilot.sh"), "echo pilot\n");
    t.cloud = new MemoryCloud({
      images: [{ id: "img", name: "img" }],
      flavors: [{ id: "small", name: "small", vcpus: 1, ramMb: 1024 }],
    });
    t.createMs = 0;
    t.createsStarted = 0;
    t.holdAfter = undefined;
    held = new Promise((r) => {
      releaseHeld = r;
    });
    t.server = startServe();
  });
  afterEach(async () => {
    releaseHeld();
    await t.server.end();
    await rm(t.dir, { recursive: true, force: true });
  });
  return t;
}
