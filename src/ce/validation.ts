/**
 * The checks `isValid()` adds to option parsing: folders the CE will write
 * to, options a driver ignores, and (asked for explicitly, since it calls
 * the cloud) whether image, flavor, networks and quota are there.
 */

import { access, constants, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { CloudDriver } from "../drivers/driver.js";
import { type Problem, problemsOf } from "../errors.js";
import { cloudCapacity } from "./capacity.js";
import type { CeContext } from "./ce-context.js";
import { expandEnv } from "./ce-options.js";
import { resolutionProblems } from "./resource-resolver.js";

/** Folders the CE writes: the journal's, and a driver's state directory (`Driver_state_dir`). */
export async function unwritableFolders(raw: Readonly<Record<string, string>>): Promise<Problem[]> {
  const targets: [string, string][] = [];
  const journal = raw["Journal_File"]?.trim();
  if (journal) targets.push(["Journal_File", dirname(resolve(expandEnv(journal)))]);
  const state = raw["Driver_state_dir"]?.trim();
  if (state) targets.push(["Driver_state_dir", resolve(expandEnv(state))]);
  const problems: Problem[] = [];
  for (const [option, folder] of targets) {
    const why = await whyNotWritable(folder);
    if (why) problems.push({ option, code: "OptionInvalid", text: why });
  }
  return problems;
}

/** Why cloudce could not create files in `folder` (creating it where missing), or undefined. */
async function whyNotWritable(folder: string): Promise<string | undefined> {
  let dir = folder;
  for (;;) {
    try {
      if (!(await stat(dir)).isDirectory()) return `${dir} is not a folder`;
      await access(dir, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM") return `the folder ${dir} is not writable by this user`;
      if (code !== "ENOENT" || dirname(dir) === dir) return `cannot use the folder ${dir} (${code ?? "error"})`;
      dir = dirname(dir);
    }
  }
}

/** Options that a driver without credentials would silently skip. */
export function ignoredOptions(raw: Readonly<Record<string, string>>, driver: CloudDriver): Problem[] {
  if (driver.capabilities.requiresCredentials !== false || raw["CloudAuth"] === undefined) return [];
  return [
    { option: "CloudAuth", code: "OptionInvalid", text: `ignored: the ${driver.name} driver needs no credentials` },
  ];
}

/**
 * Image, every flavor and network exist on the cloud, and the project can start at least one more VM:
 * every problem found, one line each (a missing image does not hide a missing network).
 */
export async function onlineProblems(ctx: CeContext): Promise<Problem[]> {
  const driver = await ctx.runtime.get();
  const problems = await resolutionProblems(driver, ctx.settings);
  if (problems.length > 0) return problems; // the quota is counted for the resolved first flavor
  try {
    const capacity = await cloudCapacity(ctx);
    if (capacity === 0)
      problems.push({
        option: "Instance_Flavor",
        code: "QuotaExceeded",
        text: `the cloud project's quota leaves room for no more VM of flavor '${ctx.settings.flavor}'`,
      });
  } catch (err) {
    problems.push(...problemsOf(err));
  }
  return problems;
}
