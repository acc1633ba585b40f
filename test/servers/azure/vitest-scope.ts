/** For vitest files: starts Azure fixtures and closes each after its test. */

import { afterEach } from "vitest";
import { startAzureFixture, type AzureDriverFixture, type AzureDriverFixtureOptions } from "./driver-fixture.js";

/** Backoff and operation polls never wait on real time; deadlines still read the real monotonic clock. */
export const NO_WAIT = {
  now: () => performance.now(),
  sleep: async (): Promise<void> => new Promise((r) => setImmediate(r)),
};

export function azureFixturePerTest(): (options?: AzureDriverFixtureOptions) => Promise<AzureDriverFixture> {
  const open: AzureDriverFixture[] = [];
  afterEach(async () => {
    for (const f of open.splice(0)) await f.close();
  });
  return async (options = {}) => {
    const f = await startAzureFixture({ deps: { clock: NO_WAIT }, ...options });
    open.push(f);
    return f;
  };
}
