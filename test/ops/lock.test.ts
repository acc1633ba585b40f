import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { acquireLock, lockPathFor, readLockHolder, tryAcquireLock, withLock } from "../../src/util/lock.js";
import { isCloudceError } from "../../src/errors.js";
import { type RunningChild, startFixture } from "../support/child.js";

let dir = "";
let n = 0;
const children: RunningChild[] = [];
const freshPath = (): string => join(dir, `ce-${++n}.lock`);

async function holder(path: string): Promise<RunningChild> {
  const c = await startFixture("lock-holder", [path]);
  children.push(c);
  return c;
}

/** A pid that no longer exists: a child that already exited. */
async function deadPid(): Promise<number> {
  const c = await holder(join(dir, "unused", "x.lock")); // fails to create, exits
  await c.exited;
  return c.pid;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloudce-lock-"));
});
afterEach(() => {
  for (const c of children.splice(0))
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("acquireLock with real processes", () => {
  it("refuses a lock held by a live process, naming its pid, and gets it once released", async () => {
    const path = freshPath();
    const c = await holder(path);
    await c.waitFor(/LOCKED/);
    const err = await acquireLock(path).catch((e: unknown) => e);
    expect(isCloudceError(err, "LockHeld")).toBe(true);
    expect((err as Error).message).toContain(`pid ${c.pid} on ${hostname()}`);
    expect(await tryAcquireLock(path)).toBeUndefined();

    c.child.stdin!.end();
    await c.waitFor(/RELEASED/);
    const lock = await acquireLock(path);
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
    expect(await readLockHolder(path)).toBeUndefined();
  });

  it("takes over the lock of a holder killed with SIGKILL", async () => {
    const path = freshPath();
    const c = await holder(path);
    await c.waitFor(/LOCKED/);
    c.child.kill("SIGKILL");
    await c.exited;
    expect((await readLockHolder(path))?.pid).toBe(c.pid); // the dead holder's file is still there
    const lock = await acquireLock(path);
    expect((await readLockHolder(path))?.pid).toBe(process.pid);
    await lock.release();
  });

  it("is refused to another process while this one holds it", async () => {
    const path = freshPath();
    const lock = await acquireLock(path);
    const c = await holder(path);
    await c.waitFor(/REFUSED LockHeld/);
    expect(c.stdout()).toContain(`pid ${process.pid}`);
    expect((await c.exited).code).toBe(3);
    await lock.release();
  });

  it("lets exactly one of several racing processes take over a stale lock", async () => {
    const path = freshPath();
    await writeFile(
      path,
      JSON.stringify({ pid: await deadPid(), host: hostname(), startedAt: "2026-01-01T00:00:00.000Z" }),
    );
    const racers = await Promise.all([1, 2, 3, 4].map(() => holder(path)));
    const outcomes = await Promise.all(racers.map((r) => r.waitFor(/LOCKED|REFUSED/).then((m) => m[0])));
    expect(outcomes.filter((o) => o === "LOCKED")).toHaveLength(1);
  });
});

describe("stale-lock takeover under contention", () => {
  it("never lets two of three processes hold the lock, while holders keep dying and being taken over", async () => {
    const path = freshPath();
    const dead = await deadPid();
    const contenders = await Promise.all(
      [1, 2, 3].map(async () => {
        const c = await startFixture("lock-contender", [path, String(dead), "1500"]);
        children.push(c);
        await c.waitFor(/READY/);
        return c;
      }),
    );
    for (const c of contenders) c.child.stdin!.write("go\n");
    const outcomes = await Promise.all(contenders.map(async (c) => ({ exit: await c.exited, out: c.stdout() })));
    expect(outcomes.map((o) => o.out).join("")).not.toContain("VIOLATION");
    expect(outcomes.map((o) => o.exit.code)).toEqual([0, 0, 0]);
    // Enough takeovers happened for the check to mean something.
    const held = outcomes.reduce((n, o) => n + Number(/DONE (\d+)/.exec(o.out)?.[1] ?? 0), 0);
    expect(held).toBeGreaterThan(50);
  });
});

describe("acquireLock edge cases", () => {
  it("keeps a young unreadable lock, takes over an old one", async () => {
    const path = freshPath();
    await writeFile(path, "");
    expect(await tryAcquireLock(path)).toBeUndefined();
    const lock = await acquireLock(path, { unreadableGraceMs: -1 });
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
  });

  it("does not delete a lock someone else took over, and release twice is harmless", async () => {
    const path = freshPath();
    const lock = await acquireLock(path, { isAlive: () => false });
    const theirs = JSON.stringify({ pid: 1, host: hostname(), startedAt: new Date().toISOString() });
    await writeFile(path, theirs);
    await lock.release();
    await lock.release();
    expect(await readFile(path, "utf8")).toBe(theirs);
  });

  it("never judges a holder on another host stale, and names the CE lock file safely", async () => {
    const path = freshPath();
    await writeFile(
      path,
      JSON.stringify({ pid: 999_999_999, host: "other-host", startedAt: "2026-01-01T00:00:00.000Z" }),
    );
    expect(await tryAcquireLock(path, { isAlive: () => false })).toBeUndefined();
    expect(lockPathFor("/run/cloudce", "ce/1 x")).toBe("/run/cloudce/cloudce-cleanup-ce_1_x.lock");
  });

  it("withLock runs with the lock, skips when it is held, and releases after a throw", async () => {
    const path = freshPath();
    expect(await withLock(path, async () => (await readLockHolder(path))?.pid)).toEqual({
      ran: true,
      value: process.pid,
    });
    const held = await acquireLock(path);
    const skipped = await withLock(path, async () => "never");
    expect(skipped.ran).toBe(false);
    expect(!skipped.ran && skipped.held.code).toBe("LockHeld");
    await held.release();
    await expect(withLock(path, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await readLockHolder(path)).toBeUndefined();
  });
});
