/**
 * The proxy as a file, for drivers whose cloud client wants a path
 * (`secret = PROXY`). It lives in a private temporary directory (0700) as a
 * 0600 file, replaced atomically and only when the proxy changes, and is
 * removed on close, or when the process ends (exit or signal) if close was
 * never called. Only drivers that need a path get one: the proxy is
 * otherwise kept in memory.
 */

import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onProcessExit } from "../util/exit-cleanup.js";

/** Directories still holding a proxy; removed synchronously if the process ends first (signals included). */
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function trackDir(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  onProcessExit(removeLiveProxyFiles);
}

/** Removes every proxy file this process still holds, at once (for a shutdown path of one's own). */
export function removeLiveProxyFiles(): void {
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  liveDirs.clear();
}

export class PrivateProxyFile {
  private dir: string | undefined;
  private written: string | undefined;
  /** Writes are serialised: two concurrent resolves must not interleave renames. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Where the proxy is, once written. */
  get path(): string | undefined {
    return this.dir === undefined || this.written === undefined ? undefined : join(this.dir, "proxy.pem");
  }

  /** Makes the file hold `pem`; a no-op when it already does. Returns the path. */
  write(pem: string): Promise<string> {
    const next = this.queue.then(() => this.doWrite(pem));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Removes the directory and the proxy in it. */
  async remove(): Promise<void> {
    await this.queue;
    const dir = this.dir;
    this.dir = undefined;
    this.written = undefined;
    if (dir === undefined) return;
    liveDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }

  private async doWrite(pem: string): Promise<string> {
    // A temp cleaner (systemd-tmpfiles, tmpwatch) may remove files under a long-running CE.
    if (this.dir !== undefined && !(await exists(this.dir))) {
      liveDirs.delete(this.dir);
      this.dir = undefined;
    }
    const target = join(await this.ensureDir(), "proxy.pem");
    if (this.written === pem && (await exists(target))) return target;
    // Write aside, then rename: a cloud client reading the path never sees half a proxy.
    const temp = join(this.dir!, `.proxy-${randomBytes(6).toString("hex")}`);
    await writeFile(temp, pem, { mode: 0o600, flag: "wx" });
    await rename(temp, target);
    this.written = pem;
    return target;
  }

  private async ensureDir(): Promise<string> {
    if (this.dir === undefined) {
      const dir = await mkdtemp(join(tmpdir(), "cloudce-proxy-"));
      await chmod(dir, 0o700); // mkdtemp already uses 0700; say it rather than rely on it
      trackDir(dir);
      this.dir = dir;
    }
    return this.dir;
  }
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
