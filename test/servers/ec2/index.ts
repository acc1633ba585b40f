/** The test-tree EC2 server and its driver fixture, for tests and benchmarks. */

export {
  startEc2Server,
  type Ec2FaultSpec,
  type Ec2RequestRecord,
  type Ec2Server,
  type Ec2ServerOptions,
} from "./server.js";
export {
  Ec2Cloud,
  Ec2Fault,
  type Ec2CloudOptions,
  type Ec2Image,
  type Ec2Instance,
  type Ec2InstanceType,
  type Ec2Subnet,
  type Ec2Timings,
} from "./cloud.js";
export { startEc2Fixture, type Ec2DriverFixture, type Ec2DriverFixtureOptions } from "./driver-fixture.js";
