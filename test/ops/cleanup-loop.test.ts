import { afterEach, describe, expect, it } from "vitest";
import { createLogger, type LogRecord } from "../../src/log.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockedPass, parseDuration, runEvery } from "../../src/ops/cleanup-loop.js";
import { pause } from "../../src/util/pause.js";
import { acquireLock, readLockHolder } from "../../src/util/lock.js";
import { type RunningChild, startFixture } from "../support/child.js";

const children: RunningChild[] = [];
afterEach(() => {
  for (const c of children.splice(0))
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
});

async function loop(mode: "hold" | "quick"): Promise<RunningChild> {
  const c = await startFixture("loop-runner", [mode]);
  children.push(c);
  return c;
}

describe("runEvery in a real process", () => {
  it("lets the current pass finish on SIGTERM, then stops with exit 0", async () => {
    const c = await loop("hold");
    await c.waitFor(/PASS-START 1\n/);
    c.child.kill("SIGTERM");
    await c.waitFor(/stop requested: finishing the current pass first/);
    expect(c.stdout()).not.toContain("PASS-END 1");
    c.child.stdin!.write("finish\n");
    const [, result] = (await c.waitFor(/STOPPED (.*)\n/)) as unknown as [string, string];
    expect(JSON.parse(result)).toEqual({ rounds: 1, failures: 0, stoppedBy: "SIGTERM" });
    expect(await c.exited).toEqual({ code: 0, signal: null });
    expect(c.stdout()).toContain("PASS-END 1");
    expect(c.stdout()).not.toContain("PASS-START 2");
  });

  it("logs a failing pass, retries next round, and stops at once on SIGINT while waiting", async () => {
    const c = await loop("quick");
    await c.waitFor(/PASS-END 3\n/);
    c.child.kill("SIGINT");
    const [, result] = (await c.waitFor(/STOPPED (.*)\n/)) as unknown as [string, string];
    expect(JSON.parse(result)).toMatchObject({ failures: 1, stoppedBy: "SIGINT" });
    expect(await c.exited).toEqual({ code: 0, signal: null });
    const failed = c
      .stdout()
      .split("\n")
      .find((l) => l.includes("pass failed"));
    expect(JSON.parse(failed!.slice(4))).toMatchObject({
      level: "error",
      ce: "ce1",
      round: 1,
      code: "Internal",
      error: "cloud unreachable",
    });
  });
});

describe("runEvery in-process", () => {
  it("waits interval + jitter between passes and stops after maxRounds", async () => {
    const waits: number[] = [];
    const result = await runEvery({
      intervalMs: 1000,
      jitterMs: 200,
      random: () => 0.5,
      sleep: async (ms) => void waits.push(ms),
      maxRounds: 3,
      stopSignals: [],
      pass: async () => undefined,
    });
    expect(result).toEqual({ rounds: 3, failures: 0, stoppedBy: "maxRounds" });
    expect(waits).toEqual([1100, 1100]);
  });

  it("stops after the current pass when its AbortSignal fires, and logs with the CE", async () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ sink: (r) => records.push(r) }).child({ ce: "ce9" });
    const ac = new AbortController();
    const result = await runEvery({
      intervalMs: 1,
      stopSignals: [],
      signal: ac.signal,
      logger,
      pass: async (round) => {
        if (round === 2) ac.abort();
      },
    });
    expect(result).toEqual({ rounds: 2, failures: 0, stoppedBy: "abort" });
    expect(records.map((r) => r.msg)).toContain("stop requested: finishing the current pass first");
    expect(records.every((r) => r.fields["ce"] === "ce9")).toBe(true);
  });

  it("pause resolves early on abort", async () => {
    const ac = new AbortController();
    const slept = pause(60_000, ac.signal);
    ac.abort();
    await expect(slept).resolves.toBeUndefined();
  });
});

describe("lockedPass", () => {
  it("runs each pass under the lock and skips a round with a warning while another holds it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cloudce-loop-"));
    const path = join(dir, "ce.lock");
    const records: LogRecord[] = [];
    const holders: (number | undefined)[] = [];
    const pass = lockedPass(
      path,
      async () => void holders.push((await readLockHolder(path))?.pid),
      createLogger({ sink: (r) => records.push(r) }),
    );
    await pass(1);
    const other = await acquireLock(path);
    await pass(2);
    await other.release();
    await pass(3);
    expect(holders).toEqual([process.pid, process.pid]);
    expect(records).toEqual([
      expect.objectContaining({
        level: "warn",
        msg: "pass skipped: another cleanup of this CE is running",
        fields: expect.objectContaining({ round: 2 }),
      }),
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("parseDuration", () => {
  it("reads --every values", () => {
    expect(["10m", "90s", "1h30m", "2h", "1d", "500ms", "45", "1.5h"].map(parseDuration)).toEqual([
      600_000, 90_000, 5_400_000, 7_200_000, 86_400_000, 500, 45_000, 5_400_000,
    ]);
    expect(["", "10x", "m10", "-5m", "10 m"].map(parseDuration)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
