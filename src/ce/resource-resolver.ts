/**
 * Resolves `Instance_Image`, `Instance_Flavor` and `Instance_Networks`
 * (raw ids or `name:…`) to cloud ids, once per TTL: a submit of N pilots
 * costs no look-up calls after the first (DIRAC lists all three per submit).
 * Each flavor of an `Instance_Flavor` list has its own entry, so a fallback
 * costs no re-resolution of the others.
 */

import { type ErrorCode, optionError, type Problem, problemsOf } from "../errors.js";
import type { CloudDriver, CloudFlavor, CloudResource, ResourceQuery } from "../drivers/driver.js";

export interface ResolvedResources {
  readonly image: CloudResource;
  readonly flavor: CloudFlavor;
  readonly networks: readonly CloudResource[];
}

export interface ResourceSpec {
  readonly image: string;
  readonly flavor: string;
  readonly networks: readonly string[];
}

type Kind = "image" | "flavor" | "network";

const KIND: Record<
  Kind,
  { option: string; code: ErrorCode; list: (d: CloudDriver, q?: ResourceQuery) => Promise<CloudResource[]> }
> = {
  image: { option: "Instance_Image", code: "ImageNotFound", list: (d, q) => d.listImages(q) },
  flavor: { option: "Instance_Flavor", code: "FlavorNotFound", list: (d, q) => d.listFlavors(q) },
  network: { option: "Instance_Networks", code: "NetworkNotFound", list: (d, q) => d.listNetworks(q) },
};

/** How many existing names an error lists, so that it stays one readable line. */
const NAMES_IN_ERROR = 10;

export class ResourceResolver {
  private readonly cached = new Map<string, { until: number; value: Promise<ResolvedResources> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolved resources, from cache while fresh. A failed resolution is not cached. */
  resolve(driver: CloudDriver, spec: ResourceSpec): Promise<ResolvedResources> {
    const key = JSON.stringify([spec.image, spec.flavor, spec.networks]);
    const c = this.cached.get(key);
    if (c && c.until > this.now()) return c.value;
    const value = resolveAll(driver, spec);
    this.cached.set(key, { until: this.now() + this.ttlMs, value });
    value.catch(() => {
      if (this.cached.get(key)?.value === value) this.cached.delete(key);
    });
    return value;
  }

  invalidate(): void {
    this.cached.clear();
  }
}

async function resolveAll(driver: CloudDriver, spec: ResourceSpec): Promise<ResolvedResources> {
  const [image, flavor, networks] = await Promise.all([
    resolveOne(driver, "image", spec.image),
    resolveOne(driver, "flavor", spec.flavor) as Promise<CloudFlavor>,
    Promise.all(spec.networks.map((n) => resolveOne(driver, "network", n))),
  ]);
  return { image, flavor, networks };
}

async function resolveOne(driver: CloudDriver, kind: Kind, value: string): Promise<CloudResource> {
  const { option, code, list } = KIND[kind];
  const byName = value.startsWith("name:");
  const wanted = byName ? value.slice("name:".length) : value;
  const query: ResourceQuery = byName ? { name: wanted } : { id: wanted };
  const matches = (await list(driver, query)).filter((r) => (byName ? r.name === wanted : r.id === wanted));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    if (kind === "image" && driver.capabilities.ambiguousImage === "newest") return newest(matches);
    const ids = matches
      .slice(0, NAMES_IN_ERROR)
      .map((m) => m.id)
      .join(", ");
    throw optionError(
      "AmbiguousName",
      option,
      `'${value}' matches ${matches.length} ${kind}s (${ids}); use the raw id instead`,
    );
  }
  const existing = (await list(driver)).slice(0, NAMES_IN_ERROR).map((r) => (byName ? r.name : r.id));
  const known = existing.length > 0 ? `; the cloud has: ${existing.join(", ")}` : "; the cloud lists none";
  throw optionError(code, option, `no ${kind} ${byName ? "named" : "with id"} '${wanted}'${known}`);
}

/**
 * Every resource of the spec that does not resolve, each as its own line: the image, each flavor of
 * `flavors` (an Instance_Flavor list), each network. For `validate --online`, which reports all at once.
 */
export async function resolutionProblems(
  driver: CloudDriver,
  spec: { readonly image: string; readonly flavors: readonly string[]; readonly networks: readonly string[] },
): Promise<Problem[]> {
  const lookups: [Kind, string][] = [
    ["image", spec.image],
    ...spec.flavors.map((f): [Kind, string] => ["flavor", f]),
    ...spec.networks.map((n): [Kind, string] => ["network", n]),
  ];
  const settled = await Promise.allSettled(lookups.map(([kind, value]) => resolveOne(driver, kind, value)));
  return settled.flatMap((r) => (r.status === "rejected" ? problemsOf(r.reason) : []));
}

function newest(matches: readonly CloudResource[]): CloudResource {
  return [...matches].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0]!;
}
