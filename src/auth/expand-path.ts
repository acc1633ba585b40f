/**
 * `$VAR` and `${VAR}` in configured paths. An unset variable is an error
 * naming it: silently expanding to "" turns `$HOME/cloud.auth` into
 * `/cloud.auth`, and the "file not found" that follows points the wrong way.
 */

import { CloudceError } from "../errors.js";
import { scrubSecrets } from "../secrets.js";

/**
 * Whether a value plainly is a file path rather than a password that happens
 * to sit where a path is expected: one line without whitespace or control
 * characters, starting with `/`, `./`, `../`, or `$VAR/` / `${VAR}/`.
 * Nothing else passes: not a bare relative path, not `~` (nothing here
 * expands it), not a `$` that does not start a variable followed by `/`,
 * since each is also a plausible password. A value that passes is printed as
 * it is, so the rule errs toward calling a value a secret.
 */
export function looksLikePath(value: string): boolean {
  return /^[^\s\p{Cc}]+$/u.test(value) && /^(?:\/|\.\.?\/|\$(?:\w+|\{\w+\})\/)/.test(value);
}

export function expandPath(value: string, option: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const v = env[name];
    if (v === undefined || v === "") throw unsetVariable(value, name, option);
    return v;
  });
}

/** Names the variable, unless the value holds a registered secret: then neither it nor the variable (a part of it) is quoted. */
function unsetVariable(value: string, name: string, option: string): CloudceError {
  if (scrubSecrets(value) !== value) {
    return new CloudceError(
      "AuthFileMissing",
      `${option}: the value (a secret, not shown) has a $ variable that is not set in the environment; ` +
        `set that variable, or write the value as an absolute path without $`,
    );
  }
  return new CloudceError(
    "AuthFileMissing",
    `${option}: ${value} uses $${name}, which is not set in the environment; set it or give an absolute path`,
  );
}
