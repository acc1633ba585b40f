/**
 * Names and labels on Kubernetes. A pod name is a DNS-1123 subdomain; we
 * keep it to a DNS-1123 label (lower-case letters, digits, '-', at most 63)
 * so it also serves as the pod's host name. The CE's VM name ends in
 * upper-case hex: hex is case-free, so the pod takes it in lower case and
 * the original name is kept in an annotation.
 *
 * Label values hold `[A-Za-z0-9._-]`, start and end alphanumeric, at most 63
 * characters. A CE or queue name that is such a value and holds no `_` is
 * used as it is; any other value is encoded as `x_` followed by the value
 * with every character outside `[A-Za-z0-9.-]` written `_` plus the
 * lower-case hex of its UTF-8 bytes (a trailing `-` or `.` too). Plain values
 * never hold `_` and encoded ones always do, so no two values meet; an
 * encoding over 63 characters becomes `h_` and 40 hex of its SHA-256.
 */

import { createHash } from "node:crypto";
import { CloudceError } from "../../errors.js";
import type { NameRule } from "../driver.js";
import { DRIVER_NAME } from "./options.js";

export const POD_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PREFIX = /^[a-z][-a-z0-9]*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_LABEL = 63;

export const KUBERNETES_NAME_RULE: NameRule = Object.freeze({
  lowerCase: true,
  maxLength: MAX_LABEL,
  problem: (prefix: string): string | undefined =>
    PREFIX.test(prefix)
      ? undefined
      : `'${prefix.slice(0, 40)}' cannot start a pod name (lower-case letters, digits and '-', starting with a letter)`,
});

/** The pod name for a name the CE gave: the name itself; one a pod cannot have is refused, never rewritten. */
export function podName(vmName: string): string {
  if (!POD_NAME.test(vmName)) {
    throw new CloudceError(
      "OptionInvalid",
      `${DRIVER_NAME}: '${vmName.slice(0, 70)}' cannot be a pod name (lower-case letters, digits and '-', at most 63)`,
      { driver: DRIVER_NAME },
    );
  }
  return vmName;
}

function escapeChar(ch: string): string {
  return [...Buffer.from(ch, "utf8")].map((b) => `_${b.toString(16).padStart(2, "0")}`).join("");
}

/** A label value standing for `value`, distinct for distinct values. */
export function encodeLabelValue(value: string): string {
  if (LABEL_VALUE.test(value) && !value.includes("_") && value.length <= MAX_LABEL) return value;
  const chars = [...value];
  const body = chars
    .map((ch, i) => (/[A-Za-z0-9]/.test(ch) || (/[.-]/.test(ch) && i < chars.length - 1) ? ch : escapeChar(ch)))
    .join("");
  const encoded = `x_${body}`;
  return encoded.length <= MAX_LABEL
    ? encoded
    : `h_${createHash("sha256").update(value, "utf8").digest("hex").slice(0, 40)}`;
}

const KEY_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** The label that selects by a metadata key (its value encoded), and the annotation that keeps the value as given. */
export const LABEL_PREFIX = "cloudce.dirac/";
export const ANNOTATION_PREFIX = "meta.cloudce.dirac/";
/** The CE's own name for the pod (VM name), as given. */
export const NAME_ANNOTATION = "cloudce.dirac/vm-name";
/** The idempotency token of the create that made the pod. */
export const REQUEST_ANNOTATION = "cloudce.dirac/request";

/** The label key for a metadata key; a key that cannot be one is refused. */
export function labelKey(key: string): string {
  if (!KEY_NAME.test(key)) {
    throw new CloudceError(
      "OptionInvalid",
      `${DRIVER_NAME}: metadata key '${key.slice(0, 70)}' cannot be a label key (letters, digits, '-', '_', '.', at most 63)`,
      { driver: DRIVER_NAME },
    );
  }
  return `${LABEL_PREFIX}${key}`;
}

/** Labels (encoded, for selection) and annotations (as given) for a node's metadata. */
export function metadataObjects(metadata: Readonly<Record<string, string>>): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    labels[labelKey(k)] = encodeLabelValue(v);
    annotations[`${ANNOTATION_PREFIX}${k}`] = v;
  }
  return { labels, annotations };
}

/** The metadata a pod carries, from its annotations. */
export function metadataOf(annotations: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {}))
    if (k.startsWith(ANNOTATION_PREFIX)) out[k.slice(ANNOTATION_PREFIX.length)] = v;
  return out;
}

/** A label selector matching every given metadata value. */
export function labelSelector(metadata: Readonly<Record<string, string>>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${labelKey(k)}=${encodeLabelValue(v)}`)
    .join(",");
}
