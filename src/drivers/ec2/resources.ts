/**
 * Images (AMIs), flavors (instance types) and networks (subnets), looked up
 * server-side by id or name. An id the cloud does not know is an empty
 * listing, not an error: the CE turns "nothing found" into a message that
 * lists what exists.
 */

import {
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeSubnetsCommand,
  type DescribeImagesRequest,
  type DescribeInstanceTypesRequest,
  type DescribeSubnetsRequest,
  type _InstanceType,
  type Image,
  type InstanceTypeInfo,
  type Subnet,
} from "@aws-sdk/client-ec2";
import { isCloudceError, type ErrorCode } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { CloudFlavor, CloudResource, ResourceQuery } from "../driver.js";
import type { Ec2Api } from "./client.js";
import { DRIVER_NAME } from "./options.js";
import { definedProps } from "../../util/defined.js";
import { followPages } from "../paging.js";

/** Follows NextToken to the end; `fetch` gets the token of the page to read. */
export function allPages<T>(
  fetch: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>,
  what = "EC2 listing",
): Promise<T[]> {
  return followPages(fetch, { driver: DRIVER_NAME, what, cursor: "NextToken" });
}

/** A listing by id answers "not found" with an error; that is an empty result here. */
async function orEmpty<T>(code: ErrorCode, list: () => Promise<T[]>): Promise<T[]> {
  try {
    return await list();
  } catch (err) {
    if (isCloudceError(err, code)) return [];
    throw err;
  }
}

/** Answers of a cloud that does not implement an action. */
const NOT_IMPLEMENTED = new Set(["InvalidAction", "NotImplemented", "UnsupportedOperation", "Unsupported"]);

export class Ec2Resources {
  private readonly rootDevices = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly api: Ec2Api,
    private readonly imageOwners: readonly string[],
    private readonly logger: Logger,
  ) {}

  /** By id: any image (a public AMI too); by name or all: the configured owners' images only. */
  async listImages(q?: ResourceQuery): Promise<CloudResource[]> {
    if (q?.id !== undefined)
      return orEmpty("ImageNotFound", async () => (await this.describeImages({ ImageIds: [q.id!] })).map(toImage));
    const owners = this.imageOwners.length > 0 ? { Owners: [...this.imageOwners] } : {};
    const filters = q?.name !== undefined ? { Filters: [{ Name: "name", Values: [q.name] }] } : {};
    return (await this.describeImages({ ...owners, ...filters })).map(toImage);
  }

  /** The root device name of an image (needed to size its root volume), once per image. */
  rootDeviceName(imageId: string): Promise<string | undefined> {
    let cached = this.rootDevices.get(imageId);
    if (!cached) {
      cached = this.describeImages({ ImageIds: [imageId] }).then((images) => images[0]?.RootDeviceName);
      cached.catch(() => this.rootDevices.delete(imageId));
      this.rootDevices.set(imageId, cached);
    }
    return cached;
  }

  /**
   * Instance types. Some EC2-compatible clouds lack DescribeInstanceTypes:
   * there a named type is taken on trust (RunInstances will refuse a wrong one).
   */
  async listFlavors(q?: ResourceQuery): Promise<CloudFlavor[]> {
    const wanted = q?.id ?? q?.name;
    try {
      return await this.describeFlavors(wanted);
    } catch (err) {
      if (!isCloudceError(err) || !NOT_IMPLEMENTED.has(String(err.status))) throw err;
      this.logger.warn("EC2: the cloud cannot list instance types; an instance type is taken as it is given", {
        code: String(err.status),
      });
      return wanted !== undefined ? [{ id: wanted, name: wanted }] : [];
    }
  }

  private describeFlavors(wanted: string | undefined): Promise<CloudFlavor[]> {
    return orEmpty("FlavorNotFound", async () => {
      const types = await allPages(async (NextToken) => {
        const input: DescribeInstanceTypesRequest =
          wanted !== undefined ? { InstanceTypes: [wanted as _InstanceType] } : { MaxResults: 100, NextToken };
        const out = await this.api.call("DescribeInstanceTypes", (c, o) =>
          c.send(new DescribeInstanceTypesCommand(input), o),
        );
        return { items: out.InstanceTypes ?? [], next: wanted !== undefined ? undefined : out.NextToken };
      }, "EC2 DescribeInstanceTypes");
      return types.map(toFlavor);
    });
  }

  async listNetworks(q?: ResourceQuery): Promise<CloudResource[]> {
    if (q?.id !== undefined)
      return orEmpty("NetworkNotFound", async () =>
        (await this.describeSubnets({ SubnetIds: [q.id!] })).map(toNetwork),
      );
    const filters = q?.name !== undefined ? { Filters: [{ Name: "tag:Name", Values: [q.name] }] } : {};
    return (await this.describeSubnets(filters)).map(toNetwork);
  }

  private describeImages(input: DescribeImagesRequest): Promise<Image[]> {
    return allPages(async (NextToken) => {
      const out = await this.api.call("DescribeImages", (c, o) =>
        c.send(new DescribeImagesCommand({ ...input, NextToken }), o),
      );
      return { items: out.Images ?? [], next: out.NextToken };
    }, "EC2 DescribeImages");
  }

  private describeSubnets(input: DescribeSubnetsRequest): Promise<Subnet[]> {
    return allPages(async (NextToken) => {
      const out = await this.api.call("DescribeSubnets", (c, o) =>
        c.send(new DescribeSubnetsCommand({ ...input, NextToken }), o),
      );
      return { items: out.Subnets ?? [], next: out.NextToken };
    }, "EC2 DescribeSubnets");
  }
}

function toImage(image: Image): CloudResource {
  const created = image.CreationDate ? new Date(image.CreationDate) : undefined;
  return {
    id: image.ImageId ?? "",
    name: image.Name ?? "",
    ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
  };
}

function toFlavor(t: InstanceTypeInfo): CloudFlavor {
  const name = t.InstanceType ?? "";
  return {
    id: name,
    name,
    ...definedProps({ vcpus: t.VCpuInfo?.DefaultVCpus, ramMb: t.MemoryInfo?.SizeInMiB }),
  };
}

function toNetwork(s: Subnet): CloudResource {
  const name = s.Tags?.find((t) => t.Key === "Name")?.Value;
  return { id: s.SubnetId ?? "", name: name ?? s.SubnetId ?? "" };
}
