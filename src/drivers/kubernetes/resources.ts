/**
 * Images, flavors and limits on a cluster. There is no image catalog: an
 * `Instance_Image` id is the image reference itself (the kubelet pulls it; a
 * bad one shows as ErrImagePull), and names are the `Driver_images` aliases.
 * A flavor is written the way the QEMU cloud names its own, `<cpus>cpu-<n>mb`
 * or `<cpus>cpu-<n>gb`: the first container's requests and limits. Limits
 * come from the namespace's ResourceQuotas (hard minus used, the tightest).
 */

import type { V1ResourceQuota } from "@kubernetes/client-node";
import type { CloudFlavor, CloudLimits, CloudResource, ResourceQuery } from "../driver.js";
import type { QuotaResource } from "../../errors.js";
import { IMAGE_REFERENCE, type KubernetesSettings } from "./options.js";

const FLAVOR = /^(\d{1,3}(?:\.\d{1,3})?)cpu-(\d{1,7})(mb|gb)$/;
const MAX_CPUS = 256;
const MAX_MEMORY_MB = 4 * 1024 * 1024;
/** The form of a flavor, for an error. */
export const POD_SIZE = "<cpus>cpu-<n>mb or <cpus>cpu-<n>gb, e.g. 4cpu-8gb";
/** The form of an image, for an error. */
export const IMAGE_FORM =
  "an image reference such as registry.example.org/dirac/pilot:el9, or name: and a name of Driver_images";
/** Shapes `listFlavors()` offers when asked for all: any other of the same form works too. */
const EXAMPLE_FLAVORS = ["1cpu-2gb", "1cpu-4gb", "2cpu-4gb", "4cpu-8gb", "4cpu-16gb", "8cpu-16gb", "8cpu-32gb"];

export function parseFlavor(id: string): CloudFlavor | undefined {
  const m = FLAVOR.exec(id);
  if (!m) return undefined;
  const vcpus = Number(m[1]);
  const ramMb = Number(m[2]) * (m[3] === "gb" ? 1024 : 1);
  if (vcpus <= 0 || vcpus > MAX_CPUS || ramMb < 16 || ramMb > MAX_MEMORY_MB) return undefined;
  return { id, name: id, vcpus, ramMb };
}

/** The container quantities of a flavor. */
export function flavorQuantities(flavor: CloudFlavor): { cpu: string; memory: string } {
  return { cpu: String(flavor.vcpus ?? 1), memory: `${flavor.ramMb ?? 2048}Mi` };
}

export function listFlavors(q?: ResourceQuery): CloudFlavor[] {
  const wanted = q?.id ?? q?.name;
  if (wanted !== undefined) {
    const f = parseFlavor(wanted);
    return f ? [f] : [];
  }
  return EXAMPLE_FLAVORS.map((id) => parseFlavor(id)!);
}

export function listImages(settings: KubernetesSettings, q?: ResourceQuery): CloudResource[] {
  const aliases = [...settings.images].map(([name, id]) => ({ id, name }));
  if (q?.name !== undefined) return aliases.filter((a) => a.name === q.name);
  if (q?.id !== undefined) {
    const named = aliases.filter((a) => a.id === q.id);
    if (named.length > 0) return named;
    return IMAGE_REFERENCE.test(q.id) ? [{ id: q.id, name: q.id }] : [];
  }
  return aliases;
}

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A resource quantity ("500m", "8Gi", "2", "1e9") in base units; undefined when malformed. */
function parseQuantity(q: string | number | undefined): number | undefined {
  if (typeof q === "number") return q;
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q?.trim() ?? "");
  if (!m) return undefined;
  return Number(m[1]) * SUFFIX[m[2] ?? ""]!;
}

const QUOTA_KEYS = {
  instances: { keys: ["pods", "count/pods"], unit: 1 },
  cores: { keys: ["requests.cpu", "cpu"], unit: 1 },
  ramMb: { keys: ["requests.memory", "memory"], unit: 2 ** 20 },
} as const;

/** What one quota leaves, per resource. */
function left(quota: V1ResourceQuota, keys: readonly string[], unit: number): number | undefined {
  const hard = quota.status?.hard ?? quota.spec?.hard ?? {};
  const used = quota.status?.used ?? {};
  let best: number | undefined;
  for (const k of keys) {
    const h = parseQuantity(hard[k]);
    if (h === undefined) continue;
    const room = Math.max(0, Math.floor((h - (parseQuantity(used[k]) ?? 0)) / unit + 1e-9));
    best = best === undefined ? room : Math.min(best, room);
  }
  return best;
}

/** The tightest of the namespace's quotas; unlimited (undefined) where none sets a resource. */
export function limitsFromQuotas(quotas: readonly V1ResourceQuota[]): CloudLimits {
  const out: { instances?: number; cores?: number; ramMb?: number } = {};
  for (const [field, { keys, unit }] of Object.entries(QUOTA_KEYS) as [
    keyof CloudLimits,
    { keys: readonly string[]; unit: number },
  ][]) {
    for (const q of quotas) {
      const room = left(q, keys, unit);
      if (room !== undefined) out[field] = Math.min(out[field] ?? Infinity, room);
    }
  }
  return out;
}

/** What a pod of this flavor lacks room for under the quotas, if anything. */
export function quotaShortfall(quotas: readonly V1ResourceQuota[], flavor: CloudFlavor): QuotaResource | undefined {
  const room = limitsFromQuotas(quotas);
  if (room.instances !== undefined && room.instances < 1) return "instances";
  if (room.cores !== undefined && room.cores < (flavor.vcpus ?? 0)) return "cores";
  if (room.ramMb !== undefined && room.ramMb < (flavor.ramMb ?? 0)) return "ram";
  return undefined;
}
