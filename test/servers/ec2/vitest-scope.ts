/** For vitest files: starts EC2 fixtures and closes each after its test. */

import { afterEach } from "vitest";
import { startEc2Fixture, type Ec2DriverFixture, type Ec2DriverFixtureOptions } from "./driver-fixture.js";

export function ec2FixturePerTest(): (options?: Ec2DriverFixtureOptions) => Promise<Ec2DriverFixture> {
  let current: Ec2DriverFixture | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (options = {}) => {
    current = await startEc2Fixture(options);
    return current;
  };
}
