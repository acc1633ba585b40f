/**
 * An exclusive lock file per CE, so two cleanups of one CE never overlap
 * (cron firing while the previous pass still runs, or a timer and a
 * long-running `--every` loop side by side).
 *
 * The file is created with O_EXCL (atomic: exactly one creator wins) and holds
 * `{pid, host, startedAt}`. A lock whose holder process is gone is stale and
 * is taken over. Liveness is only judged on the same host: on a shared
 * filesystem a pid from another machine means nothing here.
 */

import { open, readFile, rename, stat, unlink, link } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { CloudceError } from "../errors.js";

/** Who holds a lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time the lock was taken. */
  readonly startedAt: string;
}

/** A held lock. */
export interface Lock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** Decides whether a pid on this host is alive (tests inject one). */
  readonly isAlive?: (pid: number) => boolean;
  /**
   * An empty or unreadable lock file younger than this is taken as being
   * written by its creator right now; older, as left by a crash (ms).
   */
  readonly unreadableGraceMs?: number;
}

/** The lock file for a CE in a directory; the CE name is made file-safe. */
export function lockPathFor(dir: string, ce: string): string {
  return join(dir, `cloudce-cleanup-${ce.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
}

/** True when a process with this pid exists here (EPERM: exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the lock or throws `LockHeld` naming the holder's pid, host and
 * start time. A stale lock (dead holder) is taken over.
 */
export async function acquireLock(path: string, options: AcquireLockOptions = {}): Promise<Lock> {
  // A few rounds: each lost race re-reads who holds the lock now.
  for (let attempt = 0; attempt < 5; attempt++) {
    const lock = await tryCreate(path);
    if (lock) return lock;
    const content = await readLockFile(path);
    if (content === undefined) continue; // vanished between create and read: try again
    if (!(await isStale(path, content, options))) throw heldError(path, content);
    await removeStale(path, content);
  }
  const content = await readLockFile(path);
  throw heldError(path, content ?? "");
}

/** Like {@link acquireLock} but returns undefined when another live process holds it. */
export async function tryAcquireLock(path: string, options: AcquireLockOptions = {}): Promise<Lock | undefined> {
  try {
    return await acquireLock(path, options);
  } catch (err) {
    if (err instanceof CloudceError && err.code === "LockHeld") return undefined;
    throw err;
  }
}

/** Outcome of {@link withLock}: ran with the lock, or skipped because it is held. */
export type LockedRun<T> = { readonly ran: true; readonly value: T } | { readonly ran: false; readonly held: CloudceError };

/**
 * Runs `fn` holding the lock, releasing it afterwards even if `fn` throws.
 * A lock held by a live process is not an error here (`ran: false`): for a
 * cleanup it means the previous pass is still busy, so this one is skipped.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: AcquireLockOptions = {}): Promise<LockedRun<T>> {
  let lock: Lock;
  try {
    lock = await acquireLock(path, options);
  } catch (err) {
    if (err instanceof CloudceError && err.code === "LockHeld") return { ran: false, held: err };
    throw err;
  }
  try {
    return { ran: true, value: await fn() };
  } finally {
    await lock.release();
  }
}

/** The current holder of a lock file, if it exists and is readable. */
export async function readLockHolder(path: string): Promise<LockHolder | undefined> {
  const content = await readLockFile(path);
  return content === undefined ? undefined : parseHolder(content);
}

async function tryCreate(path: string): Promise<Lock | undefined> {
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const content = `${JSON.stringify(holder)}\n`;
  let handle;
  try {
    handle = await open(path, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw new CloudceError("Internal", `${path}: cannot create the lock file (${(err as NodeJS.ErrnoException).code ?? "error"}); check the directory exists and is writable`, { cause: err });
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  let released = false;
  return {
    path,
    holder,
    release: async () => {
      if (released) return;
      released = true;
      // After a takeover by someone else the file is theirs: leave it.
      if ((await readLockFile(path)) === content) await unlink(path).catch(ignoreMissing);
    },
  };
}

async function isStale(path: string, content: string, options: AcquireLockOptions): Promise<boolean> {
  const holder = parseHolder(content);
  if (!holder) {
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    return age > (options.unreadableGraceMs ?? 10_000);
  }
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  return !(options.isAlive ?? isProcessAlive)(holder.pid);
}

/**
 * Removes a stale lock without racing another taker: the file is first
 * renamed aside (atomic), then checked to still be the stale one we judged;
 * if a live lock was caught instead, it is put back.
 */
async function removeStale(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.takeover-${process.pid}-${Date.now()}`;
  try {
    await rename(path, aside);
  } catch (err) {
    ignoreMissing(err);
    return;
  }
  const caught = await readLockFile(aside);
  if (caught !== staleContent) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(ignoreMissing);
}

async function readLockFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    ignoreMissing(err);
    return undefined;
  }
}

function parseHolder(content: string): LockHolder | undefined {
  try {
    const v = JSON.parse(content) as Partial<LockHolder>;
    if (typeof v.pid === "number" && typeof v.host === "string" && typeof v.startedAt === "string") {
      return { pid: v.pid, host: v.host, startedAt: v.startedAt };
    }
  } catch {
    // torn or foreign content: the caller treats it as unknown
  }
  return undefined;
}

function heldError(path: string, content: string): CloudceError {
  const h = parseHolder(content);
  const who = h ? `pid ${h.pid} on ${h.host} since ${h.startedAt}` : "a process still writing it";
  return new CloudceError("LockHeld", `${path}: another cleanup holds this lock (${who}); wait for it to finish, or remove the file if that process is gone`);
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
}
