/** Checks on the files a flag names, so a wrong path gets one clear line instead of EISDIR or ENOENT. */

import { constants, type Stats } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UsageError } from "./cli-errors.js";

async function kind(path: string): Promise<"file" | "dir" | "missing"> {
  try {
    return (await stat(path)).isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}

/** A file cloudce will create or write: not a directory, and its folder exists. */
export async function checkWritableFile(path: string, flag: string): Promise<void> {
  const what = await kind(path);
  if (what === "dir")
    throw new UsageError(`${flag}: ${path} is a directory; give the path of a file (e.g. ${resolve(path, "file")})`);
  if (what === "file") return;
  const folder = dirname(resolve(path));
  if ((await kind(folder)) !== "dir")
    throw new UsageError(`${flag}: the folder ${folder} does not exist; create it or choose another path`);
}

/**
 * A file cloudce will read that a flag names (`--config`, `--executable`,
 * `--proxy`): given, present, a regular file and readable; else a usage error.
 */
export async function checkReadableFile(path: string, flag: string, what: string): Promise<void> {
  if (path.trim() === "") throw new UsageError(`${flag}: the path is empty; give ${what}`);
  let info: Stats;
  try {
    info = await stat(path);
    await access(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EACCES"
          ? "cannot be read (permission denied)"
          : `cannot be read (${code ?? "error"})`;
    throw new UsageError(`${flag}: ${path} ${why}; give ${what}`);
  }
  if (info.isDirectory())
    throw new UsageError(`${flag}: ${path} is not a regular file (it is a directory); give ${what}`);
  if (!info.isFile()) throw new UsageError(`${flag}: ${path} is not a regular file; give ${what}`);
}

/** Whether a file exists (for "the journal you named does not exist" warnings). */
export async function fileExists(path: string): Promise<boolean> {
  return (await kind(path)) === "file";
}
