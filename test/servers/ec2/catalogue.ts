/** What the simulated EC2 region offers unless a test says otherwise: images, instance types, subnets. */

import type { Ec2Image, Ec2InstanceType, Ec2Subnet } from "./cloud.js";

export function defaultImages(owner: string): Ec2Image[] {
  return [
    {
      id: "ami-0a1b2c3d4e5f60001",
      name: "el9-pilot",
      ownerId: owner,
      creationDate: "2026-01-10T10:00:00.000Z",
      rootDeviceName: "/dev/xvda",
    },
    {
      id: "ami-0a1b2c3d4e5f60002",
      name: "el9-pilot-dup",
      ownerId: owner,
      creationDate: "2026-02-10T10:00:00.000Z",
      rootDeviceName: "/dev/xvda",
    },
    {
      id: "ami-0a1b2c3d4e5f60003",
      name: "el9-pilot-dup",
      ownerId: owner,
      creationDate: "2026-03-10T10:00:00.000Z",
      rootDeviceName: "/dev/sda1",
    },
    {
      id: "ami-0a1b2c3d4e5f60004",
      name: "el9-pilot",
      ownerId: "137112412989",
      ownerAlias: "amazon",
      creationDate: "2026-04-01T10:00:00.000Z",
      rootDeviceName: "/dev/xvda",
    },
  ];
}

export const DEFAULT_TYPES: readonly Ec2InstanceType[] = [
  { name: "t3.micro", vcpus: 2, memoryMiB: 1024 },
  { name: "t3.small", vcpus: 2, memoryMiB: 2048 },
  { name: "m5.large", vcpus: 2, memoryMiB: 8192 },
  { name: "c5.xlarge", vcpus: 4, memoryMiB: 8192 },
];

export const DEFAULT_SUBNETS: readonly Ec2Subnet[] = [
  {
    id: "subnet-0aaaaaaaaaaaaaaa1",
    vpcId: "vpc-0bbbbbbbbbbbbbbb1",
    availabilityZone: "eu-west-1a",
    tags: { Name: "pilots-a" },
  },
  {
    id: "subnet-0aaaaaaaaaaaaaaa2",
    vpcId: "vpc-0bbbbbbbbbbbbbbb1",
    availabilityZone: "eu-west-1b",
    tags: { Name: "pilots-b" },
  },
];
