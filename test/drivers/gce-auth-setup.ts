/** The setup the GCE credential test files share: one test cloud and key file per file, drivers closed after each test. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { gceDriver, writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceServer } from "../servers/gce/server.js";

export interface GceAuthSuite {
  /** Set once the file's setup has run. */
  server: GceServer;
  dir: string;
  /** The service-account key file the server knows. */
  keyFile: string;
  /** A GCE driver on the server, closed after the test. */
  driver(fx?: Parameters<typeof gceDriver>[2]): Promise<CloudDriver>;
}

/** Registers the file's setup; call once at the top of a test file. */
export function gceAuthSuite(): GceAuthSuite {
  const drivers: CloudDriver[] = [];
  const suite: GceAuthSuite = {
    server: undefined as unknown as GceServer,
    dir: "",
    keyFile: "",
    async driver(fx = {}) {
      const d = await gceDriver(suite.server, suite.keyFile, fx);
      drivers.push(d);
      return d;
    },
  };
  beforeAll(async () => {
    suite.server = await startGceServer();
    suite.dir = mkdtempSync(join(tmpdir(), "cloudce-gce-auth-"));
    suite.keyFile = writeKeyFile(suite.server, suite.dir);
  });
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });
  afterAll(async () => {
    await suite.server.close();
    rmSync(suite.dir, { recursive: true, force: true });
  });
  return suite;
}
