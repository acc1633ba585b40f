/** The setup of the CE's interface tests on the memory cloud: a pilot file, a fresh cloud per test, logs kept. */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, beforeEach, expect } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { registerDriver } from "../../src/drivers/registry.js";
import { createLogger, type Logger, type LogRecord } from "../../src/log.js";
import { MemoryCloud, type MemoryCloudOptions } from "../../src/testing.js";

export const BASE = {
  CloudType: "MEMORY",
  Instance_Image: "name:pilot-image",
  Instance_Flavor: "name:small",
  Instance_Networks: "name:private",
  MaxTotalJobs: "10",
  MaxWaitingJobs: "4",
};

export interface MemoryCe {
  /** The cloud of the running test (a new one before each). */
  cloud: MemoryCloud;
  /** The file's directory and its pilot executable, set once the setup has run. */
  dir: string;
  pilot: string;
  /** The test's log records, CE and cloud alike. */
  readonly logs: LogRecord[];
  readonly logger: Logger;
  /** Replaces the test's cloud by one with these options. */
  useCloud(options?: MemoryCloudOptions): MemoryCloud;
  /** A CE on the MEMORY cloud with BASE's options and `extra`. */
  makeCe(name?: string, extra?: Record<string, string>): Promise<CloudComputingElement>;
}

/** Registers the file's setup; call once at the top of a test file. */
export function memoryCe(): MemoryCe {
  const logs: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sink: (r) => logs.push(r) });
  const env: MemoryCe = {
    cloud: new MemoryCloud({ autoBoot: false }),
    dir: "",
    pilot: "",
    logs,
    logger,
    useCloud(options = {}) {
      env.cloud = new MemoryCloud({ autoBoot: false, ...options });
      return env.cloud;
    },
    async makeCe(name = "ce-a.example.org", extra = {}) {
      const ce = new CloudComputingElement(name, { logger });
      expect(await ce.setParameters({ ...BASE, ...extra })).toEqual({ OK: true, Value: null });
      return ce;
    },
  };
  beforeAll(async () => {
    registerDriver("MEMORY", () => env.cloud.driver());
    env.dir = await mkdtemp(join(tmpdir(), "cloudce-ce-"));
    env.pilot = join(env.dir, "pilot.sh");
    await writeFile(env.pilot, "#!/bin/bash\necho 'pilot'\n");
  });
  beforeEach(() => {
    env.useCloud();
    logs.length = 0;
  });
  return env;
}

export { ok } from "../support/results.js";
