/** Reading the pilot executable a submission runs, with one clear line for every way it can be wrong. */

import { open } from "node:fs/promises";
import { CloudceError } from "../errors.js";

/** Far above any user-data limit: a bigger file is a wrong path, and reading it all would only exhaust memory. */
const MAX_EXECUTABLE_BYTES = 64 * 1024 * 1024;

const READ_FAILURES: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ELOOP: "too many symbolic links",
};

function missing(path: string, why: string, name: string): CloudceError {
  return new CloudceError("ExecutableMissing", `${name}: cannot read pilot executable ${path} (${why})`);
}

/** The executable's text; a device, a folder, an empty or huge file is refused by name. */
export async function readExecutable(path: string, name = "executableFile"): Promise<string> {
  let text: string;
  try {
    const handle = await open(path, "r");
    try {
      const info = await handle.stat();
      if (info.isDirectory()) throw missing(path, READ_FAILURES["EISDIR"]!, name);
      // A device (/dev/zero) or a pipe never ends: reading it would hang or fill memory.
      if (!info.isFile()) throw missing(path, "not a regular file; give the pilot script itself", name);
      if (info.size > MAX_EXECUTABLE_BYTES)
        throw missing(
          path,
          `${info.size} bytes; a pilot executable is at most ${MAX_EXECUTABLE_BYTES / 1024 / 1024} MiB`,
          name,
        );
      text = await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof CloudceError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw missing(path, READ_FAILURES[code] ?? code, name);
  }
  // An empty pilot boots a VM that does nothing until its maximum lifetime.
  if (text.trim() === "") throw new CloudceError("ExecutableMissing", `${name}: the pilot executable ${path} is empty`);
  return text;
}
