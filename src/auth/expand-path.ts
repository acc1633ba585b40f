/**
 * `$VAR` and `${VAR}` in configured paths. An unset variable is an error
 * naming it: silently expanding to "" turns `$HOME/cloud.auth` into
 * `/cloud.auth`, and the "file not found" that follows points the wrong way.
 */

import { CloudceError } from "../errors.js";

export function expandPath(value: string, option: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const v = env[name];
    if (v === undefined || v === "") {
      throw new CloudceError("AuthFileMissing", `${option}: ${value} uses $${name}, which is not set in the environment; set it or give an absolute path`);
    }
    return v;
  });
}
