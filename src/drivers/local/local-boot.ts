/**
 * What the LOCAL cloud's image does at boot, in place of cloud-init: writes
 * the user-data's `write_files` under the VM's own root directory and reads
 * the start-up environment file. It never runs cloud-init's system commands
 * (packages, runcmd, users) on the host.
 */

import { chmod, readFile, writeFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import { cloudConfigWriteFiles, decodeUserData } from "../../context/index.js";
import { CloudceError } from "../../errors.js";
import { makeDir } from "../../util/make-dir.js";

export interface LocalImage {
  readonly id: string;
  readonly name: string;
  /** Path (inside the VM root) of the program the image runs after boot. */
  readonly entrypoint: string;
  /** Path (inside the VM root) of a `KEY="value"` file giving the program's environment. */
  readonly envFile: string;
}

/** Writes the user-data's files under `root`; returns how many were written. */
export async function applyUserData(userData: Uint8Array, root: string, instanceId: string): Promise<number> {
  let written = 0;
  for (const part of decodeUserData(userData)) {
    if (part.contentType !== "text/cloud-config") continue;
    for (const file of cloudConfigWriteFiles(part.content)) {
      const target = reroot(root, file.path);
      await makeDir(dirname(target));
      await writeFile(target, file.content);
      if (file.permissions !== undefined) await chmod(target, file.permissions);
      written++;
    }
  }
  const idFile = reroot(root, "/var/lib/cloud/data/instance-id");
  await makeDir(dirname(idFile));
  await writeFile(idFile, `${instanceId}\n`);
  return written;
}

/** Maps an absolute VM path under the VM root; `..` can never climb out of it. */
export function reroot(root: string, vmPath: string): string {
  const clean = normalize(`/${vmPath}`).replace(/^(\.\.\/?)+/, "");
  return join(root, clean);
}

/**
 * Reads `KEY="value"` / `KEY=value` lines (comments and blanks ignored);
 * `${INSTANCE_ID}` is the only expansion, the same one the real start-up
 * script's shell performs on these lines. Missing file → empty environment.
 */
export async function readEnvFile(path: string, instanceId: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  const env: Record<string, string> = {};
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const trimmed = line.replace(/^\s*export\s+/, "").trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(trimmed);
    if (!m) throw new CloudceError("CloudError", `LOCAL image: ${path}:${i + 1}: not a KEY=value line`);
    env[m[1]!] = shellValue(m[2]!, instanceId);
  }
  return env;
}

/** As bash reads the value: single quotes literal; otherwise `\\x` escapes and `${INSTANCE_ID}` in one pass. */
function shellValue(value: string, instanceId: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  const inner = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  return inner.replace(/\\(["\\$`])|\$\{INSTANCE_ID\}/g, (_m, escaped: string | undefined) => escaped ?? instanceId);
}
