/**
 * Names and tags on Azure. A Linux VM's name is at most 64 characters of
 * letters, digits, `-` and `.`, and doubles as its host name; a flexible
 * scale set names its VMs `<set>_<8 characters>`. Tags hold the CE's
 * metadata as given (names up to 512 characters, values up to 256).
 */

import { CloudceError } from "../../errors.js";
import type { NameRule } from "../driver.js";
import { DRIVER_NAME } from "./options.js";

const PREFIX = /^[A-Za-z][-A-Za-z0-9]*$/;
/** Room for a scale set's `-xxxx` and its VMs' `_xxxxxxxx` within 64. */
const MAX_NAME = 48;
const VM_NAME = /^[A-Za-z][-A-Za-z0-9]{0,54}[A-Za-z0-9]$/;

export const AZURE_NAME_RULE: NameRule = Object.freeze({
  maxLength: MAX_NAME,
  problem: (prefix: string): string | undefined =>
    PREFIX.test(prefix)
      ? undefined
      : `'${prefix.slice(0, 50)}' cannot start an Azure VM name (letters, digits and '-', starting with a letter)`,
});

/** Refuses a VM name Azure would refuse, before any call. */
export function checkVmName(name: string): void {
  if (!VM_NAME.test(name)) {
    throw new CloudceError(
      "OptionInvalid",
      `${DRIVER_NAME}: '${name.slice(0, 70)}' cannot be an Azure VM name (letters, digits and '-', at most 56 characters)`,
      { driver: DRIVER_NAME },
    );
  }
}

/** The CE's metadata as tags; a value Azure cannot keep is refused, never cut (it would no longer select this CE's VMs). */
export function toTags(metadata: Readonly<Record<string, string>>): Record<string, string> {
  for (const [k, v] of Object.entries(metadata)) {
    if (k.length > 512 || /[<>%&\\?/]/.test(k) || v.length > 256) {
      throw new CloudceError(
        "OptionInvalid",
        `AZURE: metadata '${k.slice(0, 40)}' cannot be an Azure tag (names without <>%&\\?/ up to 512 characters, values up to 256)`,
        { driver: DRIVER_NAME },
      );
    }
  }
  return { ...metadata };
}

/** Whether the tags hold every pair of `wanted`. */
export function hasTags(tags: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  return Object.entries(wanted).every(([k, v]) => tags[k] === v);
}
