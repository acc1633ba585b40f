/**
 * The KUBERNETES driver's `Driver_*` options, checked once when the driver is
 * built so that `cloudce validate` names a bad one before any call.
 */

import { CloudceError } from "../../errors.js";
import { OptionText, unknownOptionNames } from "../option-text.js";

export const DRIVER_NAME = "KUBERNETES";

export const KNOWN_OPTIONS = [
  "kubeconfig",
  "context",
  "in_cluster",
  "namespace",
  "images",
  "page_size",
  "log_bytes",
] as const;

export type KubernetesOptions = Partial<Record<(typeof KNOWN_OPTIONS)[number], string>>;

export interface KubernetesSettings {
  /** A kubeconfig file; undefined: `$KUBECONFIG`, then `~/.kube/config`, unless in-cluster. */
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  /** Use the pod's own service account (token, CA and namespace under /var/run/secrets). */
  readonly inCluster: boolean;
  /** Undefined: the context's namespace, or the service account's, else `default`. */
  readonly namespace: string | undefined;
  /** Image names (for `Instance_Image = name:…`) → image references. */
  readonly images: ReadonlyMap<string, string>;
  /** Items per page of a listing (`limit`); the rest follows by `continue`. */
  readonly pageSize: number;
  /** The tail of a pod's log `getJobOutput` returns (`limitBytes`). */
  readonly logBytes: number;
}

/** `Driver_*` options the KUBERNETES driver does not know (for isValid). */
export function unknownOptions(options: Readonly<Record<string, string>>): string[] {
  return unknownOptionNames(options, KNOWN_OPTIONS);
}

function invalid(message: string): CloudceError {
  return new CloudceError("OptionInvalid", `${DRIVER_NAME}: ${message}`, { driver: DRIVER_NAME });
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** An image reference, loosely: registry/path[:tag][@digest], one word; the kubelet judges the rest. */
export const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,511}$/;

/** `name=reference, …`: the names `Instance_Image = name:…` may use. */
function parseImages(value: string | undefined): Map<string, string> {
  const images = new Map<string, string>();
  for (const entry of (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf("=");
    const name = entry.slice(0, eq).trim();
    const ref = entry.slice(eq + 1).trim();
    if (eq <= 0 || !IMAGE_REFERENCE.test(ref)) {
      throw invalid(
        `Driver_images: '${entry.slice(0, 60)}' is not name=image-reference, e.g. Driver_images = el9=registry.example.org/dirac/pilot:el9`,
      );
    }
    if (images.has(name)) throw invalid(`Driver_images: the name '${name.slice(0, 40)}' is given twice`);
    images.set(name, ref);
  }
  return images;
}

export function parseOptions(options: KubernetesOptions): KubernetesSettings {
  const t = new OptionText(options, (name, problem) => invalid(`Driver_${name}: ${problem}`));
  const inCluster = t.flag("in_cluster", false);
  const kubeconfig = options.kubeconfig?.trim() || undefined;
  if (inCluster && kubeconfig)
    throw invalid("Driver_in_cluster = yes and Driver_kubeconfig exclude each other: give one");
  const namespace = options.namespace?.trim() || undefined;
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
    throw invalid(
      `Driver_namespace: '${namespace.slice(0, 70)}' is not a namespace name (lower-case letters, digits and '-', at most 63)`,
    );
  }
  return {
    kubeconfig,
    context: options.context?.trim() || undefined,
    inCluster,
    namespace,
    images: parseImages(options.images),
    pageSize: t.whole("page_size", 1, 5000) ?? 500,
    logBytes: t.whole("log_bytes", 1024, 16_777_216) ?? 1_048_576,
  };
}
