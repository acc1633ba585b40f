/**
 * Images, machine types (flavors), networks and regional quotas.
 *
 * Ids are what an insert takes: an image is `projects/<p>/global/images/<name>`
 * (or `…/images/family/<family>`, resolved by GCE at insert time); machine
 * types and networks are their names. `name:` lookups search the image
 * projects (Driver_image_projects, default the CE's project).
 */

import type { CloudFlavor, CloudLimits, CloudResource, ResourceQuery } from "../driver.js";
import type { GceApi } from "./api.js";
import { allPages } from "./instances.js";
import type { GceSettings } from "./options.js";
import { definedProps } from "../../util/defined.js";

interface GceImage {
  readonly name: string;
  readonly creationTimestamp?: string;
  readonly status?: string;
}

interface GceMachineType {
  readonly name: string;
  readonly guestCpus?: number;
  readonly memoryMb?: number;
}

interface GceRegion {
  readonly quotas?: readonly { readonly metric: string; readonly limit: number; readonly usage: number }[];
}

const IMAGE_PATH =
  /^(?:https?:\/\/[^/]+\/compute\/v1\/)?projects\/([a-z][-a-z0-9.:]*)\/global\/images\/((?:family\/)?[a-z]([-a-z0-9]*[a-z0-9])?)$/;
const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class GceResources {
  constructor(
    private readonly api: GceApi,
    private readonly settings: GceSettings,
    private readonly project: () => Promise<string>,
  ) {}

  async listImages(q?: ResourceQuery): Promise<CloudResource[]> {
    if (q?.id !== undefined) return this.imageById(q.id);
    if (q?.name !== undefined && !NAME.test(q.name)) return [];
    const projects = this.settings.imageProjects.length > 0 ? this.settings.imageProjects : [await this.project()];
    const filter = q?.name !== undefined ? `(name eq "${q.name}")` : undefined;
    const lists = await Promise.all(
      projects.map(async (p) =>
        (await allPages<GceImage>(this.api, `/projects/${p}/global/images`, { filter })).map((i) => toImage(p, i)),
      ),
    );
    return lists.flat();
  }

  private async imageById(id: string): Promise<CloudResource[]> {
    const m = IMAGE_PATH.exec(id);
    if (!m) return [];
    const image = await this.api.call<GceImage>({
      method: "GET",
      path: `/projects/${m[1]}/global/images/${m[2]}`,
      notFoundIsEmpty: true,
    });
    // A family keeps its path as id: GCE picks the family's newest image at insert time.
    return image ? [{ ...toImage(m[1]!, image), id: `projects/${m[1]}/global/images/${m[2]}` }] : [];
  }

  async listFlavors(q?: ResourceQuery): Promise<CloudFlavor[]> {
    const zone = this.settings.zones[0]!;
    const wanted = q?.id ?? q?.name;
    if (wanted !== undefined) {
      if (!NAME.test(wanted)) return [];
      const type = await this.api.call<GceMachineType>({
        method: "GET",
        path: `zones/${zone}/machineTypes/${wanted}`,
        notFoundIsEmpty: true,
      });
      return type ? [toFlavor(type)] : [];
    }
    return (await allPages<GceMachineType>(this.api, `zones/${zone}/machineTypes`, {})).map(toFlavor);
  }

  async listNetworks(q?: ResourceQuery): Promise<CloudResource[]> {
    const wanted = q?.id ?? q?.name;
    if (wanted !== undefined) {
      if (!NAME.test(wanted)) return [];
      const net = await this.api.call<{ name: string }>({
        method: "GET",
        path: `global/networks/${wanted}`,
        notFoundIsEmpty: true,
      });
      return net ? [{ id: net.name, name: net.name }] : [];
    }
    return (await allPages<{ name: string }>(this.api, "global/networks", {})).map((n) => ({
      id: n.name,
      name: n.name,
    }));
  }

  /**
   * What the region's quotas still allow: INSTANCES (and IN_USE_ADDRESSES
   * while every VM gets an external IP: new projects have only 8), and CPUS
   * (for spot VMs PREEMPTIBLE_CPUS when the project has that quota, as GCE
   * then counts them there).
   */
  async limits(): Promise<CloudLimits> {
    const region = await this.api.require<GceRegion>({ method: "GET", path: `regions/${this.settings.region}` });
    const quota = (metric: string) => region.quotas?.find((q) => q.metric === metric);
    const left = (metric: string): number | undefined => {
      const q = quota(metric);
      return q === undefined ? undefined : Math.max(0, Math.floor(q.limit - q.usage));
    };
    const preemptible = quota("PREEMPTIBLE_CPUS");
    const cpus = this.settings.spot && preemptible && preemptible.limit > 0 ? left("PREEMPTIBLE_CPUS") : left("CPUS");
    const vmBounds = [left("INSTANCES"), this.settings.externalIp ? left("IN_USE_ADDRESSES") : undefined].filter(
      (n): n is number => n !== undefined,
    );
    const instances = vmBounds.length > 0 ? Math.min(...vmBounds) : undefined;
    return definedProps({ instances, cores: cpus });
  }
}

function toImage(project: string, image: GceImage): CloudResource {
  const created = image.creationTimestamp ? new Date(image.creationTimestamp) : undefined;
  return {
    id: `projects/${project}/global/images/${image.name}`,
    name: image.name,
    ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
  };
}

function toFlavor(t: GceMachineType): CloudFlavor {
  return {
    id: t.name,
    name: t.name,
    ...definedProps({ vcpus: t.guestCpus, ramMb: t.memoryMb }),
  };
}
