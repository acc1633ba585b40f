/** The setup the GCE CE test files share: a test cloud, a key file named by an auth file, one CE per file. */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { TEST_SERVICE_ACCOUNT, writeKeyFile } from "../servers/gce/driver-fixture.js";
import { startGceServer, type GceServer } from "../servers/gce/server.js";
import { ok } from "../support/results.js";

export const CE_NAME = "cloud.mysite.example";

export interface GceCeSuite {
  /** Set once the file's setup has run. */
  server: GceServer;
  /** Holds auth.ini, the key file and pilot.sh. */
  dir: string;
  keyFile: string;
  /** A spot-VM CE on the server's europe-west1-b. */
  ce: CloudComputingElement;
}

/** Registers the file's setup; call once at the top of a test file. */
export function gceCeSuite(): GceCeSuite {
  const suite = {} as GceCeSuite;
  beforeAll(async () => {
    suite.server = await startGceServer({
      pendingMs: 10,
      runningMs: 10,
      bootMs: 60,
      stopMs: 30,
      quotas: { INSTANCES: 100, CPUS: 40 },
    });
    suite.dir = await mkdtemp(join(tmpdir(), "cloudce-gce-ce-"));
    suite.keyFile = writeKeyFile(suite.server, suite.dir);
    const auth = join(suite.dir, "auth.ini");
    await writeFile(auth, `[${CE_NAME}]\nkey = ${TEST_SERVICE_ACCOUNT}\nsecret = ${suite.keyFile}\n`, { mode: 0o600 });
    await writeFile(join(suite.dir, "pilot.sh"), "#!/bin/bash\necho pilot\n");
    suite.ce = new CloudComputingElement(CE_NAME, { logger: silentLogger });
    ok(
      await suite.ce.setParameters({
        CloudType: "GCE",
        CloudAuth: auth,
        Driver_endpoint: suite.server.endpoint,
        Driver_zone: "europe-west1-b",
        Driver_spot: "true",
        Instance_Image: "name:el9-pilot-v2",
        Instance_Flavor: "e2-small",
        Instance_Networks: "pilots",
        MaxTotalJobs: "30",
        MaxWaitingJobs: "30",
        Queue: "Long_Queue",
      }),
    );
  });
  afterAll(async () => {
    await suite.ce?.shutdown();
    await suite.server?.close();
    if (suite.dir) await rm(suite.dir, { recursive: true, force: true });
  });
  return suite;
}

export { ok };

export const idOf = (ref: string): string => ref.slice("cloud://".length);
