/**
 * A QEMU VM's disks: a copy-on-write overlay on the image (the image is
 * never written), a NoCloud seed (vfat labelled `cidata`, read by
 * cloud-init's NoCloud datasource) and an optional empty `results` disk.
 * vfat images are made with dosfstools and filled with mtools: no loop
 * device, no root needed.
 */

import { execFile } from "node:child_process";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CloudceError } from "../../errors.js";
import { DRIVER_NAME, findExecutable } from "./qemu-options.js";
import { makeDir } from "../../util/make-dir.js";

const run = promisify(execFile);

/** Host tools the disks need, with the Debian package that has each. */
const TOOLS = { "qemu-img": "qemu-utils", "mkfs.vfat": "dosfstools", mcopy: "mtools" } as const;
type Tool = keyof typeof TOOLS;

function tool(name: Tool): string {
  const found = findExecutable(name, `${process.env["PATH"] ?? ""}:/usr/sbin:/sbin`);
  if (!found)
    throw new CloudceError(
      "CloudError",
      `QEMU: ${name} not found: install it (Debian: apt-get install ${TOOLS[name]})`,
      { driver: DRIVER_NAME },
    );
  return found;
}

async function runTool(name: Tool, args: readonly string[]): Promise<void> {
  try {
    await run(tool(name), [...args], { env: { ...process.env, MTOOLS_SKIP_CHECK: "1" }, maxBuffer: 1 << 20 });
  } catch (err) {
    if (err instanceof CloudceError) throw err;
    const stderr =
      String((err as { stderr?: unknown }).stderr ?? "")
        .trim()
        .split("\n")[0] ?? "";
    throw new CloudceError("CloudError", `QEMU: ${name} failed: ${stderr || (err as Error).message}`, {
      driver: DRIVER_NAME,
      cause: err,
    });
  }
}

/** qcow2 images start with "QFI\xfb"; anything else is handed to QEMU as raw. */
async function diskFormat(path: string): Promise<"qcow2" | "raw"> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb])) ? "qcow2" : "raw";
  } finally {
    await handle.close();
  }
}

export async function createOverlay(base: string, overlay: string): Promise<void> {
  await runTool("qemu-img", ["create", "-q", "-f", "qcow2", "-F", await diskFormat(base), "-b", base, overlay]);
}

export interface SeedContent {
  readonly userData: Uint8Array;
  readonly instanceId: string;
  readonly hostname: string;
  readonly vendorData?: Uint8Array;
}

/** The NoCloud seed: user-data byte for byte, and meta-data with the instance id and host name. */
export async function createSeed(dir: string, image: string, seed: SeedContent): Promise<void> {
  const files = join(dir, "seed");
  await makeDir(files, 0o700);
  await writeFile(join(files, "user-data"), seed.userData, { mode: 0o600 });
  await writeFile(join(files, "meta-data"), `instance-id: ${seed.instanceId}\nlocal-hostname: ${seed.hostname}\n`);
  const names = ["user-data", "meta-data"];
  if (seed.vendorData) {
    await writeFile(join(files, "vendor-data"), seed.vendorData);
    names.push("vendor-data");
  }
  // Twice the content plus 1 MB leaves room for the file system's own tables.
  const kb = Math.ceil(((seed.userData.byteLength + (seed.vendorData?.byteLength ?? 0)) * 2) / 1024) + 1024;
  await runTool("mkfs.vfat", ["-n", "cidata", "-C", image, String(kb)]);
  await runTool("mcopy", ["-i", image, ...names.map((n) => join(files, n)), "::/"]);
}

/** An empty vfat disk labelled `results` that a guest may mount and write to. */
export async function createResultsDisk(image: string, sizeMb: number): Promise<void> {
  await runTool("mkfs.vfat", ["-n", "results", "-C", image, String(sizeMb * 1024)]);
}

/** Copies everything on a results disk to `outDir` (read while the VM is stopped). */
export async function copyResultsDisk(image: string, outDir: string): Promise<void> {
  await makeDir(outDir);
  await runTool("mcopy", ["-s", "-n", "-m", "-i", image, "::/*", outDir]).catch((err: unknown) => {
    // An empty disk has nothing to match "::/*"; anything else is a real failure.
    if (!/no match|not found|no such file/i.test((err as Error).message)) throw err;
  });
}
