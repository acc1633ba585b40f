/**
 * Builds an OPENSTACK driver pointed at a test-tree server, as the CE
 * would: `Driver_*` options, lazily resolved credentials, a request timeout.
 */

import { createOpenStackDriver, type OpenStackTuning } from "../../../src/drivers/openstack/index.js";
import type { CloudDriver, DriverCredentials } from "../../../src/drivers/driver.js";
import { silentLogger, type Logger } from "../../../src/log.js";
import type { OpenStackTestServer } from "./server.js";

export interface FixtureOptions {
  readonly options?: Record<string, string>;
  readonly credentials?: Partial<DriverCredentials>;
  readonly timeoutMs?: number;
  readonly tuning?: OpenStackTuning;
  readonly logger?: Logger;
}

/** Fast retries so that fault tests never wait on real backoff. */
export const FAST_RETRY = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 } as const;

export const DEMO_CREDENTIALS = { key: "demo", secret: "demo-password-1", extra: {} } satisfies DriverCredentials;

export function openStackDriver(cloud: OpenStackTestServer, f: FixtureOptions = {}): CloudDriver {
  const credentials: DriverCredentials = { ...DEMO_CREDENTIALS, ...f.credentials, extra: { ...f.credentials?.extra } };
  return createOpenStackDriver(
    {
      options: {
        ex_force_auth_url: cloud.authUrl,
        ex_force_auth_version: "3.x_password",
        ex_tenant_name: "demo",
        ...f.options,
      },
      credentials: async () => credentials,
      ceName: "test-ce",
      logger: f.logger ?? silentLogger,
      requestTimeoutMs: f.timeoutMs ?? 5_000,
    },
    { retry: FAST_RETRY, ...f.tuning },
  );
}
