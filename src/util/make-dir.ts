/**
 * Creates a folder and its missing parents, each tried once.
 *
 * Node's own `mkdir(..., { recursive: true })` retries a component for as
 * long as its parent exists but the create answers ENOENT, which a special
 * filesystem (/proc, /sys) does for ever: the call never settles and keeps
 * the thread pool busy. Here an error other than "parent missing" or
 * "already there" ends the walk at once, with the errno of the folder that
 * failed.
 */

import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export async function makeDir(path: string, mode = 0o777): Promise<void> {
  const target = resolve(path);
  try {
    await mkdir(target, { mode });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return alreadyThere(target, err);
    const parent = dirname(target);
    if (code !== "ENOENT" || parent === target) throw err;
    await makeDir(parent, mode);
  }
  // The parent exists now: one more try, and any error this time is final.
  try {
    await mkdir(target, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return alreadyThere(target, err);
    throw err;
  }
}

/** EEXIST is success only when what is there is a folder. */
async function alreadyThere(target: string, err: unknown): Promise<void> {
  const info = await stat(target).catch(() => undefined);
  if (info?.isDirectory()) return;
  const notDir = Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${target}'`), {
    code: "ENOTDIR",
    path: target,
  });
  throw info ? notDir : err;
}
