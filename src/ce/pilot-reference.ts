/** Pilot references (`cloud://<instance id>`) and VM names (`<prefix><8 upper-case hex>`). */

import { randomBytes } from "node:crypto";
import { CloudceError } from "../errors.js";

export const REF_PREFIX = "cloud://";
export const DEFAULT_NAME_PREFIX = "VMDIRAC3_";
/** Where a cloud's names cannot hold DIRAC's prefix (upper case, `_`): still says what the VM is in a console. */
export const PORTABLE_NAME_PREFIX = "dirac-pilot-";

export function toReference(instanceId: string): string {
  return `${REF_PREFIX}${instanceId}`;
}

/** The instance id inside a reference; a clear error for anything that is not one of ours. */
export function parseReference(ref: string): string {
  if (typeof ref !== "string" || !ref.startsWith(REF_PREFIX) || ref.length === REF_PREFIX.length) {
    throw new CloudceError(
      "InvalidReference",
      `pilot reference '${String(ref).slice(0, 80)}' is not of the form cloud://<instance-id>`,
    );
  }
  return ref.slice(REF_PREFIX.length);
}

/** Parses every reference, naming all the bad ones in one error. */
export function parseReferences(refs: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const bad: string[] = [];
  for (const ref of refs) {
    try {
      ids.set(ref, parseReference(ref));
    } catch {
      bad.push(`'${String(ref).slice(0, 80)}'`);
    }
  }
  if (bad.length > 0) {
    throw new CloudceError(
      "InvalidReference",
      `not cloud://<instance-id> pilot references: ${bad.slice(0, 5).join(", ")}${bad.length > 5 ? ` and ${bad.length - 5} more` : ""}`,
    );
  }
  return ids;
}

/** The hex digits after the prefix of a VM name. */
export const VM_NAME_HEX_DIGITS = 8;

/** `<prefix><8 hex>`: upper-case hex as DIRAC writes it, lower-case where the cloud's names are. */
export function newVmName(prefix: string, lowerCase = false): string {
  const hex = randomBytes(VM_NAME_HEX_DIGITS / 2).toString("hex");
  return `${prefix}${lowerCase ? hex : hex.toUpperCase()}`;
}
