import { testDriver } from "./conformance.js";
import { startEc2Fixture } from "../servers/ec2/driver-fixture.js";

testDriver({
  name: "EC2",
  stateTimeoutMs: 5_000,
  setup: async () => {
    // A small page size makes the listings follow NextToken.
    const fx = await startEc2Fixture({ server: { bootMs: 100, pageSize: 2 } });
    return {
      driver: fx.driver,
      image: { id: "ami-0a1b2c3d4e5f60001", name: "el9-pilot" },
      flavor: { id: "t3.micro", name: "t3.micro" },
      networks: [{ id: "subnet-0aaaaaaaaaaaaaaa1", name: "pilots-a" }],
      exhaustCapacity: async () => {
        fx.server.cloud.capacity = 0;
      },
      unknownNodeId: "i-0f0f0f0f0f0f0f0f0",
      unknownImageId: "ami-0f0f0f0f0f0f0f0f0",
      // No unknownFlavorId: EC2 answers an unknown instance type with the generic InvalidParameterValue,
      // which names no input; the CE finds an unknown Instance_Flavor by DescribeInstanceTypes first.
      teardown: () => fx.server.close(),
    };
  },
});
