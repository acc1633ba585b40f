/** A GCE driver wired to a test server through a service-account key file: what GCE tests (and a benchmark) start from. */

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudDriver, CreateNodesRequest, DriverCredentials } from "../../../src/drivers/driver.js";
import { GceDriver, type GceDriverDeps } from "../../../src/drivers/gce/index.js";
import { parseOptions } from "../../../src/drivers/gce/options.js";
import { instantiateDriver } from "../../../src/drivers/registry.js";
import { silentLogger, type Logger } from "../../../src/log.js";
import { ManualClock } from "./clock.js";
import { startGceServer, type GceServer, type GceServerOptions } from "./server.js";

export const TEST_SERVICE_ACCOUNT = "pilots@grid-test.iam.gserviceaccount.com";

let keyPair: { privateKey: string; publicKey: string } | undefined;

/** One RSA key per process: generating one takes a while. */
export function testKeyPair(): { privateKey: string; publicKey: string } {
  keyPair ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return keyPair;
}

/** Writes a service-account key file whose token_uri is the server's, and registers the account. */
export function writeKeyFile(server: GceServer, dir: string, email: string = TEST_SERVICE_ACCOUNT): string {
  const { privateKey, publicKey } = testKeyPair();
  server.addServiceAccount(email, publicKey);
  const path = join(dir, "gce-key.json");
  writeFileSync(
    path,
    JSON.stringify({
      type: "service_account",
      project_id: server.cloud.project,
      private_key_id: "0123456789abcdef",
      private_key: privateKey,
      client_email: email,
      client_id: "1000000000000000000001",
      token_uri: server.tokenUri,
    }),
    { mode: 0o600 },
  );
  return path;
}

export interface GceDriverFixture {
  readonly server: GceServer;
  readonly driver: CloudDriver;
  readonly keyFile: string;
  close(): Promise<void>;
}

export interface GceDriverFixtureOptions {
  readonly server?: GceServerOptions;
  /** `Driver_*` options besides endpoint, zone and key_file. */
  readonly options?: Record<string, string>;
  readonly credentials?: () => Promise<DriverCredentials>;
  readonly deps?: GceDriverDeps;
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

export async function gceDriver(
  server: GceServer,
  keyFile: string,
  fx: Omit<GceDriverFixtureOptions, "server"> = {},
): Promise<CloudDriver> {
  const options = { endpoint: server.endpoint, zone: server.cloud.zones[0]!, key_file: keyFile, ...fx.options };
  const deps = fx.deps ?? {};
  return instantiateDriver(
    (config) => new GceDriver(config, parseOptions(config.options), deps),
    {
      options,
      credentials: fx.credentials ?? (async () => ({ extra: {} })),
      ceName: "gce-test",
      logger: fx.logger ?? silentLogger,
      requestTimeoutMs: fx.requestTimeoutMs ?? 5_000,
    },
    "GCE",
  );
}

export async function startGceFixture(fx: GceDriverFixtureOptions = {}): Promise<GceDriverFixture> {
  const server = await startGceServer({ pendingMs: 10, runningMs: 10, bootMs: 40, stopMs: 30, ...fx.server });
  const dir = mkdtempSync(join(tmpdir(), "cloudce-gce-"));
  const keyFile = writeKeyFile(server, dir);
  const driver = await gceDriver(server, keyFile, fx);
  return {
    server,
    driver,
    keyFile,
    close: async () => {
      await driver.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fixture whose server and driver share a manual clock: operations and backoff never wait on real time. */
export async function startManualGceFixture(
  fx: GceDriverFixtureOptions = {},
): Promise<GceDriverFixture & { clock: ManualClock }> {
  const clock = new ManualClock();
  const f = await startGceFixture({
    ...fx,
    server: { pendingMs: 1_000, runningMs: 4_000, bootMs: 10_000, stopMs: 5_000, ...fx.server, clock },
    deps: { ...fx.deps, clock: { now: () => clock.now(), sleep: clock.sleep } },
  });
  return { ...f, clock };
}

/** A create of `count` VMs named `name`, carrying `metadata`, from the test project's pilot image on e2-small. */
export function gceRequest(
  count: number,
  name: string,
  metadata: Readonly<Record<string, string>>,
): CreateNodesRequest {
  return {
    imageId: "projects/grid-test/global/images/family/el9-pilot",
    flavorId: "e2-small",
    networkIds: [],
    nodes: Array.from({ length: count }, () => ({
      name,
      userData: new Uint8Array(Buffer.from("#cloud-config\n")),
      metadata,
    })),
    requestId: `${name}-${count}`,
  };
}
