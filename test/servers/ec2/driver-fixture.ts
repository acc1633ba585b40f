/** An EC2 driver wired to a test server: what the EC2 driver tests (and a benchmark) start from. */

import ec2Factory from "../../../src/drivers/ec2/index.js";
import type { CloudDriver, DriverCredentials } from "../../../src/drivers/driver.js";
import { instantiateDriver } from "../../../src/drivers/registry.js";
import { silentLogger } from "../../../src/log.js";
import { startEc2Server, type Ec2Server, type Ec2ServerOptions } from "./server.js";

export const TEST_ACCESS_KEY = "AKIATESTKEY000000001";
export const TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijklmn";

export interface Ec2DriverFixture {
  readonly server: Ec2Server;
  readonly driver: CloudDriver;
  close(): Promise<void>;
}

export interface Ec2DriverFixtureOptions {
  readonly server?: Ec2ServerOptions;
  /** `Driver_*` options besides region and endpoint. */
  readonly options?: Record<string, string>;
  readonly credentials?: () => Promise<DriverCredentials>;
  readonly requestTimeoutMs?: number;
}

/** A driver on the given server (e.g. a second driver with other options). */
function ec2Driver(server: Ec2Server, fx: Omit<Ec2DriverFixtureOptions, "server"> = {}): Promise<CloudDriver> {
  return instantiateDriver(
    ec2Factory,
    {
      options: { region: "eu-west-1", endpoint: server.url, ...fx.options },
      credentials: fx.credentials ?? (async () => ({ key: TEST_ACCESS_KEY, secret: TEST_SECRET_KEY, extra: {} })),
      ceName: "ec2-test",
      logger: silentLogger,
      requestTimeoutMs: fx.requestTimeoutMs ?? 5_000,
    },
    "EC2",
  );
}

export async function startEc2Fixture(fx: Ec2DriverFixtureOptions = {}): Promise<Ec2DriverFixture> {
  const server = await startEc2Server({ bootMs: 50, stopMs: 50, terminateMs: 50, ...fx.server });
  const driver = await ec2Driver(server, fx);
  return {
    server,
    driver,
    close: async () => {
      await driver.close();
      await server.close();
    },
  };
}
