/** For vitest files: starts GCE fixtures and closes each after its test. */

import { afterEach } from "vitest";
import {
  startGceFixture,
  startManualGceFixture,
  type GceDriverFixture,
  type GceDriverFixtureOptions,
} from "./driver-fixture.js";
import type { ManualClock } from "./clock.js";

export function gceFixturePerTest(): {
  real: (options?: GceDriverFixtureOptions) => Promise<GceDriverFixture>;
  manual: (options?: GceDriverFixtureOptions) => Promise<GceDriverFixture & { clock: ManualClock }>;
} {
  const open: GceDriverFixture[] = [];
  afterEach(async () => {
    for (const f of open.splice(0)) await f.close();
  });
  const track = <T extends GceDriverFixture>(f: T): T => {
    open.push(f);
    return f;
  };
  return {
    real: async (options = {}) => track(await startGceFixture(options)),
    manual: async (options = {}) => track(await startManualGceFixture(options)),
  };
}
