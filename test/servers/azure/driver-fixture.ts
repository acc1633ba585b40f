/** An Azure driver wired to a test server through a service principal: what Azure tests (and benchmarks) start from. */

import type { CloudDriver, DriverCredentials } from "../../../src/drivers/driver.js";
import { AzureDriver, type AzureDriverDeps } from "../../../src/drivers/azure/index.js";
import { parseOptions } from "../../../src/drivers/azure/options.js";
import { instantiateDriver } from "../../../src/drivers/registry.js";
import { silentLogger, type Logger } from "../../../src/log.js";
import { startAzureServer, type AzureServer, type AzureServerOptions } from "./server.js";

export const TEST_TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
export const TEST_CLIENT_ID = "0f0f0f0f-1111-4222-8333-444444444444";
export const TEST_CLIENT_SECRET = "azure-test-client-secret-value";

export interface AzureDriverFixture {
  readonly server: AzureServer;
  readonly driver: CloudDriver;
  /** The CE options that reach this server (Driver_*). */
  readonly ceOptions: Record<string, string>;
  close(): Promise<void>;
}

export interface AzureDriverFixtureOptions {
  readonly server?: AzureServerOptions;
  /** `Driver_*` options besides the server's (prefix stripped). */
  readonly options?: Record<string, string>;
  readonly credentials?: () => Promise<DriverCredentials>;
  readonly deps?: AzureDriverDeps;
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

/** The Driver_* options (prefix stripped) that point a driver at the server. */
export function serverOptions(server: AzureServer): Record<string, string> {
  return {
    subscription_id: server.cloud.subscriptionId,
    resource_group: server.cloud.resourceGroup,
    location: server.cloud.location,
    endpoint: server.endpoint,
    authority: server.authority,
    tenant_id: TEST_TENANT,
  };
}

const testCredentials = async (): Promise<DriverCredentials> => ({
  key: TEST_CLIENT_ID,
  secret: TEST_CLIENT_SECRET,
  extra: {},
});

export async function azureDriver(
  server: AzureServer,
  fx: Omit<AzureDriverFixtureOptions, "server"> = {},
): Promise<CloudDriver> {
  const deps = fx.deps ?? {};
  return instantiateDriver(
    (config) => new AzureDriver(config, parseOptions(config.options), deps),
    {
      options: { ...serverOptions(server), ...fx.options },
      credentials: fx.credentials ?? testCredentials,
      ceName: "azure-test",
      logger: fx.logger ?? silentLogger,
      requestTimeoutMs: fx.requestTimeoutMs ?? 5_000,
    },
    "AZURE",
  );
}

export async function startAzureFixture(fx: AzureDriverFixtureOptions = {}): Promise<AzureDriverFixture> {
  const server = await startAzureServer({ bootMs: 40, stopMs: 30, deleteMs: 30, ...fx.server });
  server.addPrincipal({ tenantId: TEST_TENANT, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET });
  const driver = await azureDriver(server, fx);
  const ceOptions = Object.fromEntries(
    Object.entries({ ...serverOptions(server), ...fx.options }).map(([k, v]) => [`Driver_${k}`, v]),
  );
  return {
    server,
    driver,
    ceOptions,
    close: async () => {
      await driver.close();
      await server.close();
    },
  };
}
