/**
 * The CE's VM names on a cloud that restricts them: what the cloud's name
 * rule states (lower case only, what may start a name, the longest name)
 * decides the default prefix and whether a given prefix can be used. The
 * driver only maps the name it is given onto the cloud.
 */

import { nameRule } from "../drivers/registry.js";
import { DEFAULT_NAME_PREFIX, PORTABLE_NAME_PREFIX, VM_NAME_HEX_DIGITS } from "./pilot-reference.js";

/** DIRAC's prefix, or the portable one on a cloud whose names cannot start with it. */
export function defaultNamePrefix(cloudType: string): string {
  return nameRule(cloudType)?.problem(DEFAULT_NAME_PREFIX) === undefined ? DEFAULT_NAME_PREFIX : PORTABLE_NAME_PREFIX;
}

/** What keeps a prefix from starting this cloud's names: its rule, or no room left for the VM name's hex. */
export function prefixProblem(cloudType: string, prefix: string): string | undefined {
  const rule = nameRule(cloudType);
  const problem = rule?.problem(prefix);
  if (problem !== undefined || rule?.maxLength === undefined) return problem;
  const longest = rule.maxLength - VM_NAME_HEX_DIGITS;
  return prefix.length <= longest
    ? undefined
    : `'${prefix.slice(0, 40)}' is too long: this cloud's names hold at most ${longest} characters before the ${VM_NAME_HEX_DIGITS} hex digits of the VM name`;
}
