/**
 * Shell words for the pilot's environment file. The file is sourced by bash
 * on the VM and parsed line by line by the LOCAL driver, so every value is
 * one double-quoted line in which only `\ " $ \`` are escaped: the subset
 * both readers understand the same way.
 */

/** Characters that cannot sit on one line of the env file (or in a YAML block line). */
const UNSAFE_IN_LINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]/gu;

/** The characters bash gives a meaning to inside double quotes. */
function escapeInDoubleQuotes(value: string): string {
  return value.replace(/["\\$`]/g, (c) => `\\${c}`);
}

/**
 * `value` as a double-quoted shell word on one line. Control characters and
 * line breaks cannot be written that way and become `?` (names and options
 * never legitimately contain them).
 */
export function shellDoubleQuote(value: string): string {
  return `"${escapeInDoubleQuotes(value.replace(UNSAFE_IN_LINE, "?"))}"`;
}

/** Where cloud-init records the instance id on the VM. */
export const INSTANCE_ID_FILE = "/var/lib/cloud/data/instance-id";

/**
 * The command substitution with which a VM computes a derived stamp at boot;
 * equals `deriveStamp(seed, instanceId)`. It uses `$INSTANCE_ID` when the
 * start-up script has set it, else reads cloud-init's instance-id file, so it
 * also works in DIRAC-format templates that never set the variable.
 */
export function derivedStampCommand(seed: string): string {
  const id = `\${INSTANCE_ID:-$(cat ${INSTANCE_ID_FILE})}`;
  return `$(printf '%s' "${escapeInDoubleQuotes(seed.replace(UNSAFE_IN_LINE, "?"))}:${id}" | sha256sum | cut -c1-32)`;
}
