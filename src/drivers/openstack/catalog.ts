/**
 * The Keystone service catalog: which URL serves compute, image and network
 * for our interface (public by default) and region.
 */

import { CloudceError } from "../../errors.js";
import { DRIVER_NAME } from "./options.js";

/** One catalog entry as Keystone v3 returns it in a token. */
export interface CatalogEntry {
  readonly type: string;
  readonly name?: string;
  readonly endpoints: readonly {
    readonly interface: string;
    readonly region?: string | null;
    readonly region_id?: string | null;
    readonly url: string;
  }[];
}

export type ServiceType = "compute" | "image" | "network";

/** The version path each service's calls are relative to (Nova's catalog URL already carries it). */
const VERSION_SUFFIX: Record<ServiceType, RegExp | undefined> = {
  compute: undefined,
  image: /\/v2(\.\d+)?$/,
  network: /\/v2\.0$/,
};
const VERSION_PATH: Record<ServiceType, string> = { compute: "", image: "/v2", network: "/v2.0" };

export interface EndpointChoice {
  readonly interface: "public" | "internal" | "admin";
  readonly region: string | undefined;
}

/** The versioned base URL of a service; fails with the services and regions that do exist. */
export function endpointFor(catalog: readonly CatalogEntry[], type: ServiceType, choice: EndpointChoice): string {
  const services = catalog.filter((s) => s.type === type);
  const endpoints = services.flatMap((s) => s.endpoints).filter((e) => e.interface === choice.interface);
  const inRegion =
    choice.region === undefined ? endpoints : endpoints.filter((e) => (e.region_id ?? e.region) === choice.region);
  const picked = inRegion[0];
  if (!picked) {
    const regions = [...new Set(endpoints.map((e) => e.region_id ?? e.region ?? "?"))].join(", ") || "none";
    const where =
      choice.region === undefined
        ? ""
        : ` in region '${choice.region}' (Driver_ex_force_service_region; regions with it: ${regions})`;
    const types = [...new Set(catalog.map((s) => s.type))].join(", ") || "none";
    throw new CloudceError(
      "CloudError",
      `the Keystone catalog has no ${choice.interface} ${type} endpoint${where}; services in the catalog: ${types}`,
      { driver: DRIVER_NAME },
    );
  }
  return versioned(picked.url, type);
}

/** Appends the API version path unless the URL already ends with it. */
export function versioned(url: string, type: ServiceType): string {
  const base = url.replace(/\/+$/, "");
  const suffix = VERSION_SUFFIX[type];
  if (suffix === undefined || suffix.test(base)) return base;
  return `${base}${VERSION_PATH[type]}`;
}
