/** The test-tree GCE server and its driver fixture, for tests and benchmarks. */

export {
  startGceServer,
  type GceFaultSpec,
  type GceRequestRecord,
  type GceServer,
  type GceServerOptions,
} from "./server.js";
export { GceCloud } from "./cloud.js";
export { GceFault, type GceCloudOptions, type GceTimings, type InstanceRecord } from "./records.js";
export { ManualClock } from "./clock.js";
export {
  gceDriver,
  startGceFixture,
  startManualGceFixture,
  testKeyPair,
  writeKeyFile,
  TEST_SERVICE_ACCOUNT,
  type GceDriverFixture,
  type GceDriverFixtureOptions,
} from "./driver-fixture.js";
