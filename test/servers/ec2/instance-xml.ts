/** How the server renders an instance and applies DescribeInstances filters. */

import { STATE_CODES, type Ec2Instance, Ec2Fault } from "./cloud.js";
import { wildcardMatch, type QueryFilter } from "./query.js";
import type { XmlValue } from "./xml.js";

export function tagSet(tags: Readonly<Record<string, string>>): XmlValue[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

export function stateXml(name: keyof typeof STATE_CODES): XmlValue {
  return { code: STATE_CODES[name], name };
}

export function instanceXml(inst: Ec2Instance): XmlValue {
  const s = inst.spec;
  return {
    instanceId: inst.id,
    imageId: s.imageId,
    instanceState: stateXml(inst.state),
    privateDnsName: inst.state === "terminated" ? "" : `ip-10-0-0-1.${inst.id}.internal`,
    keyName: s.keyName,
    amiLaunchIndex: 0,
    instanceType: s.instanceType,
    launchTime: inst.launchTime.toISOString(),
    subnetId: inst.state === "terminated" ? undefined : s.subnetId,
    clientToken: inst.clientToken || undefined,
    instanceLifecycle: s.spot ? "spot" : undefined,
    stateReason: inst.stateReason,
    reason: inst.transitionReason ?? (inst.stateReason ? inst.stateReason.message : undefined),
    groupSet: s.securityGroupIds.map((groupId) => ({ groupId })),
    iamInstanceProfile: s.iamInstanceProfile ? { arn: s.iamInstanceProfile, id: "AIPAEXAMPLE" } : undefined,
    tagSet: Object.keys(s.tags).length > 0 ? tagSet(s.tags) : undefined,
  };
}

/** Does the instance pass every filter (each filter: any of its values)? Unknown filter names are refused, as EC2 does. */
export function instanceMatches(inst: Ec2Instance, filters: readonly QueryFilter[]): boolean {
  return filters.every((f) => {
    const fields = instanceFields(inst, f.name);
    return f.values.some((v) => fields.some((field) => wildcardMatch(v, field)));
  });
}

function instanceFields(inst: Ec2Instance, name: string): string[] {
  if (name.startsWith("tag:")) return [inst.spec.tags[name.slice(4)]].filter((v): v is string => v !== undefined);
  if (name === "tag-key") return Object.keys(inst.spec.tags);
  const one = instanceField(inst, name);
  return one === undefined ? [] : [one];
}

function instanceField(inst: Ec2Instance, name: string): string | undefined {
  switch (name) {
    case "instance-state-name":
      return inst.state;
    case "instance-id":
      return inst.id;
    case "instance-type":
      return inst.spec.instanceType;
    case "instance-lifecycle":
      return inst.spec.spot ? "spot" : undefined;
    case "client-token":
      return inst.clientToken;
    case "reservation-id":
      return inst.reservationId;
    default:
      throw new Ec2Fault("InvalidParameterValue", `The filter '${name}' is invalid`);
  }
}
