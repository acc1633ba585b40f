/** The setup the KUBERNETES driver's test files share: one stand-in and driver per file, requests, failures. */

import { afterAll, afterEach, beforeAll } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { type CloudceError, isCloudceError } from "../../src/errors.js";
import { startKubeFixture, testManifest, type KubeDriverFixture } from "../servers/kubernetes/driver-fixture.js";
import type { KubeServer } from "../servers/kubernetes/server.js";

export const OWNER = { "cloudce-ce": "drv.example.org", "cloudce-queue": "Long Queue" };

export interface KubeDriverSuite {
  /** Set once the file's setup has run. */
  server: KubeServer;
  dir: string;
  kubeconfig: string;
  /** Lists two pods a page. */
  driver: CloudDriver;
}

/** Registers the file's setup (faults and denials cleared after each test); call once at the top of a test file. */
export function kubeDriverSuite(): KubeDriverSuite {
  let fixture: KubeDriverFixture | undefined;
  const suite = {} as KubeDriverSuite;
  beforeAll(async () => {
    fixture = await startKubeFixture({ options: { page_size: "2" } });
    Object.assign(suite, {
      server: fixture.server,
      dir: fixture.dir,
      kubeconfig: fixture.kubeconfig,
      driver: fixture.driver,
    });
  });
  afterEach(() => {
    suite.server.reset();
    suite.server.denied.clear();
  });
  afterAll(async () => {
    await fixture?.close();
  });
  return suite;
}

let requests = 0;

/** A create request of `nodes` pods running `script`, each request with its own id and batch. */
export function request(script = "sleep 300", nodes = 1): CreateNodesRequest {
  const n = ++requests;
  return {
    imageId: "registry.example.org/dirac/pilot:el9",
    flavorId: "1cpu-2gb",
    networkIds: [],
    requestId: `req-${n}`,
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `drv-${String(n).padStart(4, "0")}${i}abc`,
      userData: testManifest(script),
      metadata: { ...OWNER, "cloudce-batch": `b${n}` },
    })),
  };
}

/** The CloudceError `p` fails with. */
export async function failure(p: Promise<unknown>): Promise<CloudceError> {
  try {
    await p;
  } catch (err) {
    if (isCloudceError(err)) return err;
    throw err;
  }
  throw new Error("expected a failure");
}
