/**
 * The EC2 actions the server answers, each mapping Query parameters onto
 * the simulated region and its result onto the response elements named in
 * the EC2 API reference.
 */

import { Ec2Fault, type Ec2Cloud, type Ec2Image, type LaunchSpec } from "./cloud.js";
import { instanceMatches, instanceXml, stateXml, tagSet } from "./instance-xml.js";
import { filters, member, members, values, wildcardMatch, type QueryFilter, type QueryParams } from "./query.js";
import type { XmlValue } from "./xml.js";

export type ActionBody = Record<string, XmlValue>;
export type ActionHandler = (params: QueryParams, cloud: Ec2Cloud, pageSize: number) => ActionBody;

/** One page of a listing; the token is the offset, opaque to clients. */
function page<T>(items: readonly T[], params: QueryParams, pageSize: number): { items: T[]; nextToken?: string } {
  const token = params.get("NextToken");
  const start = token ? Number(Buffer.from(token, "base64url").toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new Ec2Fault("InvalidParameterValue", "The NextToken is invalid");
  const asked = params.get("MaxResults");
  const size = Math.min(pageSize, asked ? Number(asked) : Number.POSITIVE_INFINITY);
  const end = Math.min(items.length, start + size);
  const nextToken = end < items.length ? Buffer.from(String(end)).toString("base64url") : undefined;
  return { items: items.slice(start, end), ...(nextToken ? { nextToken } : {}) };
}

function required(params: QueryParams, name: string): string {
  const v = params.get(name);
  if (!v) throw new Ec2Fault("MissingParameter", `The request must contain the parameter ${name}`);
  return v;
}

function whole(params: QueryParams, name: string): number {
  const n = Number(required(params, name));
  if (!Number.isInteger(n) || n < 1) throw new Ec2Fault("InvalidParameterValue", `Invalid value for ${name}`);
  return n;
}

function launchSpec(params: QueryParams, cloud: Ec2Cloud): LaunchSpec {
  const imageId = required(params, "ImageId");
  const instanceType = params.get("InstanceType") ?? "m1.small";
  if (!cloud.images.some((i) => i.id === imageId))
    throw new Ec2Fault("InvalidAMIID.NotFound", `The image id '[${imageId}]' does not exist`);
  if (!cloud.instanceTypes.some((t) => t.name === instanceType))
    throw new Ec2Fault("InvalidParameterValue", `Invalid value '${instanceType}' for InstanceType.`);
  const subnetId = params.get("SubnetId");
  if (subnetId && !cloud.subnets.some((s) => s.id === subnetId))
    throw new Ec2Fault("InvalidSubnetID.NotFound", `The subnet ID '${subnetId}' does not exist`);
  const tags: Record<string, string> = {};
  for (const spec of members(params, "TagSpecification")) {
    if (spec.get("ResourceType") !== "instance") continue;
    for (const t of members(spec, "Tag")) tags[t.get("Key") ?? ""] = t.get("Value") ?? "";
  }
  const market = member(params, "InstanceMarketOptions");
  const spot = market.get("MarketType") === "spot" ? { maxPrice: market.get("SpotOptions.MaxPrice") } : undefined;
  const device = members(params, "BlockDeviceMapping")[0];
  const profile = member(params, "IamInstanceProfile");
  const behaviour = params.get("InstanceInitiatedShutdownBehavior") ?? "stop";
  if (behaviour !== "stop" && behaviour !== "terminate")
    throw new Ec2Fault("InvalidParameterValue", `Invalid shutdown behavior '${behaviour}'`);
  if (spot && behaviour === "stop")
    throw new Ec2Fault(
      "InvalidParameterCombination",
      "Spot instances with a one-time request cannot use shutdown behavior stop",
    );
  return {
    imageId,
    instanceType,
    subnetId,
    tags,
    spot,
    shutdownBehavior: behaviour,
    minCount: whole(params, "MinCount"),
    maxCount: whole(params, "MaxCount"),
    keyName: params.get("KeyName"),
    userData: params.get("UserData"),
    securityGroupIds: values(params, "SecurityGroupId"),
    iamInstanceProfile: profile.get("Arn") ?? profile.get("Name"),
    rootVolume: device
      ? { deviceName: device.get("DeviceName") ?? "", sizeGb: Number(device.get("Ebs.VolumeSize")) }
      : undefined,
  };
}

/** Everything but the token and protocol fields: what must match for a retry to be the same request. */
function fingerprint(params: QueryParams): string {
  return JSON.stringify([...params].filter(([k]) => !["ClientToken", "Action", "Version"].includes(k)).sort());
}

const runInstances: ActionHandler = (params, cloud) => {
  const spec = launchSpec(params, cloud);
  if (spec.userData !== undefined && Buffer.from(spec.userData, "base64").length > 16_384) {
    throw new Ec2Fault("InvalidParameterValue", "User data is limited to 16384 bytes");
  }
  const instances = cloud.run(spec, params.get("ClientToken") ?? "", fingerprint(params));
  return {
    reservationId: instances[0]!.reservationId,
    ownerId: cloud.accountId,
    groupSet: [],
    instancesSet: instances.map(instanceXml),
  };
};

const describeInstances: ActionHandler = (params, cloud, pageSize) => {
  const ids = values(params, "InstanceId");
  if (ids.length > 0 && params.has("MaxResults")) {
    throw new Ec2Fault(
      "InvalidParameterCombination",
      "The parameter instancesSet cannot be used with the parameter maxResults",
    );
  }
  const missing = ids.filter((id) => !cloud.get(id));
  if (missing.some((id) => !/^i-[0-9a-f]{8,17}$/.test(id)))
    throw new Ec2Fault("InvalidInstanceID.Malformed", `Invalid id: "${missing[0]}"`);
  if (missing.length > 0)
    throw new Ec2Fault("InvalidInstanceID.NotFound", `The instance IDs '${missing.join(", ")}' do not exist`);
  const fs = filters(params);
  const matching = cloud.all().filter((i) => (ids.length === 0 || ids.includes(i.id)) && instanceMatches(i, fs));
  const { items, nextToken } = page(matching, params, pageSize);
  // One reservation element per instance keeps paging simple; clients must not assume otherwise.
  const reservationSet = items.map((i) => ({
    reservationId: i.reservationId,
    ownerId: cloud.accountId,
    groupSet: [],
    instancesSet: [instanceXml(i)],
  }));
  return { reservationSet, nextToken };
};

function changeStates(
  params: QueryParams,
  cloud: Ec2Cloud,
  act: (id: string) => ReturnType<Ec2Cloud["stop"]>,
): ActionBody {
  const ids = values(params, "InstanceId");
  if (ids.length === 0) throw new Ec2Fault("MissingParameter", "The request must contain the parameter InstanceId");
  if (ids.length > 1000) throw new Ec2Fault("InvalidParameterValue", "At most 1000 instance ids per request");
  const unknown = ids.filter((id) => !cloud.get(id));
  if (unknown.length > 0)
    throw new Ec2Fault("InvalidInstanceID.NotFound", `The instance IDs '${unknown.join(", ")}' do not exist`);
  const instancesSet = ids.map((id) => {
    const previous = act(id)!;
    return { instanceId: id, currentState: stateXml(cloud.get(id)!.state), previousState: stateXml(previous) };
  });
  return { instancesSet };
}

function imageMatches(image: Ec2Image, f: QueryFilter): boolean {
  const field = { name: image.name, "image-id": image.id, "owner-id": image.ownerId, state: "available" }[f.name];
  if (field === undefined) throw new Ec2Fault("InvalidParameterValue", `The filter '${f.name}' is invalid`);
  return f.values.some((v) => wildcardMatch(v, field));
}

const describeImages: ActionHandler = (params, cloud, pageSize) => {
  const ids = values(params, "ImageId");
  const bad = ids.find((id) => !/^ami-[0-9a-f]{8,17}$/.test(id));
  if (bad) throw new Ec2Fault("InvalidAMIID.Malformed", `Invalid id: "${bad}"`);
  const missing = ids.filter((id) => !cloud.images.some((i) => i.id === id));
  if (missing.length > 0)
    throw new Ec2Fault("InvalidAMIID.NotFound", `The image ids '[${missing.join(", ")}]' do not exist`);
  const owners = values(params, "Owner").map((o) => (o === "self" ? cloud.accountId : o));
  const fs = filters(params);
  const matching = cloud.images.filter(
    (i) =>
      (ids.length === 0 || ids.includes(i.id)) &&
      (owners.length === 0 ||
        owners.includes(i.ownerId) ||
        (i.ownerAlias !== undefined && owners.includes(i.ownerAlias))) &&
      fs.every((f) => imageMatches(i, f)),
  );
  const { items, nextToken } = page(matching, params, pageSize);
  const imagesSet = items.map((i) => ({
    imageId: i.id,
    name: i.name,
    imageState: "available",
    imageOwnerId: i.ownerId,
    imageOwnerAlias: i.ownerAlias,
    creationDate: i.creationDate,
    rootDeviceName: i.rootDeviceName,
    rootDeviceType: "ebs",
    architecture: "x86_64",
    isPublic: false,
  }));
  return { imagesSet, nextToken };
};

const describeInstanceTypes: ActionHandler = (params, cloud, pageSize) => {
  const wanted = values(params, "InstanceType");
  const unknown = wanted.find((w) => !cloud.instanceTypes.some((t) => t.name === w));
  if (unknown)
    throw new Ec2Fault("InvalidInstanceType", `The following supplied instance types do not exist: [${unknown}]`);
  const matching = cloud.instanceTypes.filter((t) => wanted.length === 0 || wanted.includes(t.name));
  const { items, nextToken } = page(matching, params, pageSize);
  const instanceTypeSet = items.map((t) => ({
    instanceType: t.name,
    vCpuInfo: { defaultVCpus: t.vcpus },
    memoryInfo: { sizeInMiB: t.memoryMiB },
  }));
  return { instanceTypeSet, nextToken };
};

const describeSubnets: ActionHandler = (params, cloud, pageSize) => {
  const ids = values(params, "SubnetId");
  const missing = ids.filter((id) => !cloud.subnets.some((s) => s.id === id));
  if (missing.length > 0)
    throw new Ec2Fault("InvalidSubnetID.NotFound", `The subnet ID '${missing.join(", ")}' does not exist`);
  const fs = filters(params);
  const matching = cloud.subnets.filter(
    (s) =>
      (ids.length === 0 || ids.includes(s.id)) &&
      fs.every((f) => {
        const field = f.name.startsWith("tag:")
          ? s.tags[f.name.slice(4)]
          : { "subnet-id": s.id, "vpc-id": s.vpcId }[f.name];
        if (field === undefined && !f.name.startsWith("tag:"))
          throw new Ec2Fault("InvalidParameterValue", `The filter '${f.name}' is invalid`);
        return field !== undefined && f.values.some((v) => wildcardMatch(v, field));
      }),
  );
  const { items, nextToken } = page(matching, params, pageSize);
  const subnetSet = items.map((s) => ({
    subnetId: s.id,
    vpcId: s.vpcId,
    availabilityZone: s.availabilityZone,
    state: "available",
    cidrBlock: "10.0.0.0/24",
    tagSet: tagSet(s.tags),
  }));
  return { subnetSet, nextToken };
};

const getConsoleOutput: ActionHandler = (params, cloud) => {
  const id = required(params, "InstanceId");
  const inst = cloud.get(id);
  if (!inst) throw new Ec2Fault("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
  return {
    instanceId: id,
    timestamp: new Date().toISOString(),
    output: inst.console ? Buffer.from(inst.console).toString("base64") : undefined,
  };
};

export const ACTIONS: Readonly<Record<string, ActionHandler>> = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  TerminateInstances: (p, c) => changeStates(p, c, (id) => c.terminate(id)),
  StopInstances: (p, c) => changeStates(p, c, (id) => c.stop(id)),
  DescribeImages: describeImages,
  DescribeInstanceTypes: describeInstanceTypes,
  DescribeSubnets: describeSubnets,
  GetConsoleOutput: getConsoleOutput,
};
