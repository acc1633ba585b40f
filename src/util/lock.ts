/**
 * An exclusive lock file, e.g. so that two cleanups of one CE never overlap
 * (cron firing while the previous pass still runs, or a timer and a
 * long-running `--every` loop side by side), or two processes never update
 * one local VM at once.
 *
 * The file is created with O_EXCL (atomic: exactly one creator wins) and holds
 * `{pid, host, startedAt}`. A lock whose holder process is gone is stale and
 * is taken over: under a guard lock named after the stale content, by a
 * rename over it (see takeOver), so however many processes contend, a live
 * lock is never removed or shared. Liveness is only judged on the same
 * host: on a shared filesystem a pid from another machine means nothing here.
 */

import { createHash, randomBytes } from "node:crypto";
import { type FileHandle, open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
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
function isProcessAlive(pid: number): boolean {
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
  // Each lost race re-reads who holds the lock now; a takeover by another
  // process takes milliseconds, so the rounds back off a little.
  for (let attempt = 0; attempt < TAKEOVER_ROUNDS; attempt++) {
    const lock = await tryCreate(path);
    if (lock) return lock;
    const content = await readLockFile(path);
    if (content === undefined) continue; // vanished between create and read: try again
    if (!(await isStale(path, content, options))) throw heldError(path, content);
    const taken = await takeOver(path, content, options);
    if (taken) return taken;
    await new Promise((r) => setTimeout(r, Math.min(2 ** attempt, 50)));
  }
  const content = await readLockFile(path);
  throw heldError(path, content ?? "");
}

const TAKEOVER_ROUNDS = 12;

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
export type LockedRun<T> =
  | { readonly ran: true; readonly value: T }
  | { readonly ran: false; readonly held: CloudceError };

/**
 * Runs `fn` holding the lock, releasing it afterwards even if `fn` throws.
 * A lock held by a live process is not an error here (`ran: false`): for a
 * cleanup it means the previous pass is still busy, so this one is skipped.
 */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: AcquireLockOptions = {},
): Promise<LockedRun<T>> {
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
  const holder = newHolder();
  const content = holderContent(holder);
  let handle: FileHandle;
  try {
    handle = await open(path, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw new CloudceError(
      "Internal",
      `${path}: cannot create the lock file (${(err as NodeJS.ErrnoException).code ?? "error"}); check the directory exists and is writable`,
      { cause: err },
    );
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return heldLock(path, holder, content);
}

function newHolder(): LockHolder {
  return { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
}

function holderContent(holder: LockHolder): string {
  return `${JSON.stringify(holder)}\n`;
}

function heldLock(path: string, holder: LockHolder, content: string): Lock {
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
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    return age > (options.unreadableGraceMs ?? 10_000);
  }
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  return !(options.isAlive ?? isProcessAlive)(holder.pid);
}

/**
 * Replaces the stale lock `stale` with ours, or returns undefined when
 * another process is doing so or has done so. The takers of one stale lock
 * are serialised by a guard, itself a lock (so a taker that dies holding it
 * is taken over the same way), named after the stale content: exactly one
 * taker holds it, and under it "the file still holds the stale lock" stays
 * true until that taker replaces it, because nobody else changes an
 * existing lock file: creators need it absent, and a live holder removes
 * only its own. The replacement is a rename, so the path is never empty in
 * between for a fourth process to create a lock of its own.
 */
async function takeOver(path: string, stale: string, options: AcquireLockOptions): Promise<Lock | undefined> {
  const guardPath = `${path}.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 16)}`;
  let guard: Lock;
  try {
    guard = await acquireLock(guardPath, options);
  } catch (err) {
    if (err instanceof CloudceError && err.code === "LockHeld") return undefined;
    throw err;
  }
  try {
    if ((await readLockFile(path)) !== stale) return undefined;
    const holder = newHolder();
    const content = holderContent(holder);
    const temp = `${path}.new-${process.pid}-${randomBytes(4).toString("hex")}`;
    await writeFile(temp, content, { mode: 0o644, flag: "wx" });
    await rename(temp, path);
    return heldLock(path, holder, content);
  } finally {
    await guard.release();
  }
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
  return new CloudceError(
    "LockHeld",
    `${path}: another cleanup holds this lock (${who}); wait for it to finish, or remove the file if that process is gone`,
  );
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
}
