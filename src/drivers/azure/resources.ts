/**
 * Images, VM sizes, subnets and the location's usage. Images are the
 * resource group's custom images (by ARM id or name) or a marketplace URN
 * `publisher:offer:sku:version`, taken as given (a wrong one fails the
 * create with ImageNotFound). Networks are the subnets of the resource
 * group's virtual networks, named `<vnet>/<subnet>`.
 */

import type { CloudFlavor, CloudLimits, CloudResource, ResourceQuery } from "../driver.js";
import type { ResourceListings } from "../split-driver.js";
import type { ArmApi } from "./arm.js";
import { definedProps } from "../../util/defined.js";

interface Named {
  readonly id: string;
  readonly name: string;
}
interface VmSize {
  readonly name: string;
  readonly numberOfCores?: number;
  readonly memoryInMB?: number;
}
interface VirtualNetwork extends Named {
  readonly properties?: { readonly subnets?: readonly Named[] };
}
interface Usage {
  readonly name?: { readonly value?: string };
  readonly currentValue?: number;
  readonly limit?: number;
}

const URN = /^[^:/\s]+:[^:/\s]+:[^:/\s]+:[^:/\s]+$/;

function narrow<T extends CloudResource>(all: readonly T[], query?: ResourceQuery): T[] {
  return all.filter(
    (r) =>
      (query?.id === undefined || r.id.toLowerCase() === query.id.toLowerCase()) &&
      (query?.name === undefined || r.name === query.name),
  );
}

export class AzureResources implements ResourceListings {
  constructor(private readonly arm: ArmApi) {}

  async listImages(query?: ResourceQuery): Promise<CloudResource[]> {
    for (const urn of [query?.id, query?.name]) if (urn !== undefined && URN.test(urn)) return [{ id: urn, name: urn }];
    const images = await this.arm.list<Named & { properties?: { provisioningState?: string } }>(
      "compute",
      this.arm.groupPath("compute", "images"),
    );
    return narrow(
      images.map((i) => ({ id: i.id, name: i.name })),
      query,
    );
  }

  async listFlavors(query?: ResourceQuery): Promise<CloudFlavor[]> {
    const sizes = await this.arm.list<VmSize>(
      "compute",
      this.arm.subscriptionPath(`locations/${this.arm.settings.location}/vmSizes`),
    );
    const flavors = sizes.map((s) => ({
      id: s.name,
      name: s.name,
      ...definedProps({ vcpus: s.numberOfCores, ramMb: s.memoryInMB }),
    }));
    return narrow(flavors, query);
  }

  async listNetworks(query?: ResourceQuery): Promise<CloudResource[]> {
    const vnets = await this.arm.list<VirtualNetwork>("network", this.arm.groupPath("network", "virtualNetworks"));
    const subnets = vnets.flatMap((v) =>
      (v.properties?.subnets ?? []).map((s) => ({ id: s.id, name: `${v.name}/${s.name}` })),
    );
    return narrow(subnets, query);
  }

  /** What the location's regional vCPU and VM quotas still allow. */
  async limits(): Promise<CloudLimits> {
    const usages = await this.arm.list<Usage>(
      "compute",
      this.arm.subscriptionPath(`locations/${this.arm.settings.location}/usages`),
    );
    const left = (metric: string): number | undefined => {
      const u = usages.find((x) => x.name?.value === metric);
      return u?.limit === undefined ? undefined : Math.max(0, u.limit - (u.currentValue ?? 0));
    };
    const cores = left("cores");
    const instances = left("virtualMachines");
    return definedProps({ cores, instances });
  }
}
