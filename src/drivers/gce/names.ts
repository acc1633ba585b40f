/**
 * Names and labels on GCE. Instance names must match
 * `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`; label keys and values hold only
 * lower-case letters, digits, `_` and `-`, at most 63 characters. The CE's
 * metadata values (a CE name such as `cloud.mysite.example`, a queue name)
 * are encoded into label values without collisions:
 *
 * - `a`–`z`, `0`–`9` and `-` stand for themselves;
 * - any other character is `_` followed by the lower-case hex of each of its
 *   UTF-8 bytes (`.` → `_2e`, `A` → `_41`, `_` → `_5f`);
 * - an encoding longer than 63 characters keeps its first characters (whole
 *   escapes only), then `__` and 20 hex digits of the SHA-256 of the value.
 *
 * `_` only ever starts a two-digit escape, so `__` never occurs in a plain
 * encoding: plain encodings are decodable and distinct, and a hashed one can
 * only meet another hashed one with the same 80-bit hash.
 */

import { createHash } from "node:crypto";
import { CloudceError } from "../../errors.js";
import type { NameRule } from "../driver.js";
import { DRIVER_NAME } from "./options.js";

export const INSTANCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PREFIX = /^[a-z][-a-z0-9]*$/;
const LABEL_KEY = /^[a-z][-_a-z0-9]{0,62}$/;
const MAX_LABEL = 63;
const HASH_HEX = 20;
/** `-####`: the counter bulkInsert appends to a batch's base name. */
export const PATTERN_SUFFIX = "-####";

export const GCE_NAME_RULE: NameRule = Object.freeze({
  lowerCase: true,
  // Room for the batch counter bulkInsert appends.
  maxLength: MAX_LABEL - PATTERN_SUFFIX.length,
  problem: (prefix: string): string | undefined =>
    PREFIX.test(prefix)
      ? undefined
      : `'${prefix.slice(0, 40)}' cannot start a GCE instance name (lower-case letters, digits and '-', starting with a letter)`,
});

/**
 * The base of a batch's instance names: the name the CE gave, as it is.
 * One GCE cannot hold is refused, never rewritten: a rewritten name would
 * no longer select this CE's VMs.
 */
export function instanceBaseName(vmName: string): string {
  if (INSTANCE_NAME.test(`${vmName}-0001`) && PREFIX.test(vmName)) return vmName;
  throw new CloudceError(
    "OptionInvalid",
    `GCE: '${vmName.slice(0, 70)}' cannot start a GCE instance name (lower-case letters, digits and '-', starting with a letter)`,
    { driver: DRIVER_NAME },
  );
}

/** Checks a listing prefix the same way (a wrong one would select nothing, silently). */
export function checkPrefix(prefix: string): void {
  if (prefix === "") return;
  const problem = GCE_NAME_RULE.problem(prefix);
  if (problem) throw new CloudceError("OptionInvalid", `GCE: name prefix ${problem}`, { driver: DRIVER_NAME });
}

export function encodeLabelValue(value: string): string {
  let out = "";
  for (const ch of value) {
    out += /[-a-z0-9]/.test(ch)
      ? ch
      : [...Buffer.from(ch, "utf8")].map((b) => `_${b.toString(16).padStart(2, "0")}`).join("");
  }
  if (out.length <= MAX_LABEL) return out;
  const hash = createHash("sha256").update(value, "utf8").digest("hex").slice(0, HASH_HEX);
  let head = out.slice(0, MAX_LABEL - 2 - HASH_HEX);
  // Whole escapes only: a cut `_2` would read as a broken escape.
  const cut = head.lastIndexOf("_");
  if (cut >= 0 && cut > head.length - 3) head = head.slice(0, cut);
  return `${head}__${hash}`;
}

/** The value a label encodes, or `undefined` for a hashed (long) one. */
export function decodeLabelValue(label: string): string | undefined {
  if (label.includes("__")) return undefined;
  return label.replace(/(?:_[0-9a-f]{2})+/g, (run) => Buffer.from(run.replace(/_/g, ""), "hex").toString("utf8"));
}

export function checkLabelKey(key: string): string {
  if (!LABEL_KEY.test(key)) {
    throw new CloudceError(
      "Internal",
      `GCE: metadata key '${key.slice(0, 70)}' is not a valid label key (lower-case letters, digits, '_' and '-', starting with a letter)`,
      { driver: DRIVER_NAME },
    );
  }
  return key;
}

/** CE metadata → labels (encoded) for the listing filter. */
export function toLabels(metadata: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [checkLabelKey(k), encodeLabelValue(v)]));
}

/**
 * Labels (and the metadata items kept beside them) → CE metadata. An item
 * with the label's key holds the value as given; it is believed only when it
 * encodes to the label, so a label edited in the console still wins.
 */
export function fromLabels(
  labels: Readonly<Record<string, string>>,
  items: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, label] of Object.entries(labels)) {
    const item = items[key];
    const value = item !== undefined && encodeLabelValue(item) === label ? item : decodeLabelValue(label);
    out[key] = value ?? label;
  }
  return out;
}
